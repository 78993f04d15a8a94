#!/usr/bin/env bash
# Backup/restore benchmark: Cairn against the baseline (mariadb-dump | restic backup --stdin) and,
# when installed, mydumper/myloader + restic. NOT a test and not run by CI.
#
# Rounds are interleaved (every tool once per round, order rotated) because this machine's
# speed drifts 10-15 % over minutes: ratios are taken within a round, then the median is reported.
#   BENCH_SCALE=1.0   dataset size (1.0 ~ 1 GB of mariadb-dump output; 0.05 for a quick try)
#   BENCH_ROUNDS=3    interleaved rounds
#   BENCH_PARALLEL=2  --parallel / -t for Cairn and mydumper/myloader
#   BENCH_TOOLS="baseline cairn mydumper"  which tools (baseline first; mydumper only if installed)
#   BENCH_KEEP=1      keep the work directory
#   BENCH_CAIRN_BIN=path  use this cairn binary instead of building the release one
# Results: a table on stdout and benches/results/latest.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

scale=${BENCH_SCALE:-1.0}
rounds=${BENCH_ROUNDS:-3}
par=${BENCH_PARALLEL:-2}
dbs=(bench bench2)

bash scripts/install-deps.sh
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"
command -v zstd >/dev/null || die "zstd missing (apt-get install zstd): it measures the compression floor"
tools=()
for t in ${BENCH_TOOLS:-baseline cairn mydumper}; do
  case $t in
    baseline | cairn) tools+=("$t") ;;
    mydumper) if command -v mydumper >/dev/null && command -v myloader >/dev/null; then tools+=(mydumper); fi ;;
    *) die "unknown tool in BENCH_TOOLS: $t (baseline, cairn, mydumper)" ;;
  esac
done
[ "${tools[0]:-}" = baseline ] || die "BENCH_TOOLS must start with baseline: ratios are against it"
cairn="${CARGO_TARGET_DIR:-$root/target}/release/cairn"
if [ -n "${BENCH_CAIRN_BIN:-}" ]; then
  cairn=$BENCH_CAIRN_BIN # a prebuilt binary (e.g. copied aside while the tree changes)
elif [[ " ${tools[*]} " == *" cairn "* ]]; then
  log "building cairn (release)"
  cargo build -q --release -p cairn --bin cairn
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
SRC_PID=
TGT_PID=
cleanup() {
  mariadb_stop "$SRC_PID"
  mariadb_stop "$TGT_PID"
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

# Two private servers sharing one password: the source, and a target that restores go to.
export DB_BUFFER_POOL=${DB_BUFFER_POOL:-1G}
mariadb_start "$work/src"
SRC_PID=$DB_PID SRC_PORT=$DB_PORT SRC_SOCKET=$DB_SOCKET
mariadb_start "$work/tgt"
TGT_PID=$DB_PID TGT_PORT=$DB_PORT TGT_SOCKET=$DB_SOCKET
DB_SOCKET=$SRC_SOCKET # sql() talks to the source
tsql() { mariadb --no-defaults --socket="$TGT_SOCKET" -uroot -N -B --default-character-set=utf8mb4 "$@"; }
# mydumper/myloader 0.10 read no MYSQL_PWD: give them a 0600 defaults file, never argv.
printf '[client]\nuser=root\npassword=%s\n' "$DB_PASSWORD" >"$work/my.cnf"
chmod 600 "$work/my.cnf"

# server_ticks PID: user+system CPU ticks the server process has used so far.
server_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)

log "generating the dataset (scale $scale) and loading it"
python3 benches/gen_data.py "$work/gen" "$scale"
sql <"$work/gen/schema.sql"
sql <"$work/gen/load.sql"
dump_bytes=$(mariadb-dump --no-defaults -h 127.0.0.1 -P "$SRC_PORT" -uroot --single-transaction --databases "${dbs[@]}" | wc -c)
log "logical dump size: $((dump_bytes / 1000000)) MB"

# Floors: the CPU no tool can avoid, measured on this machine in this run. Backup: the server
# sending every row (the least server CPU of a plain SELECT and of each tool's backup) plus
# zstd -1 over the dump. Restore: the server loading the generator's TSV files with LOAD
# DATA, secondary key added afterwards (or the least server CPU of any tool's restore).
# Divided by the cores, they bound the best possible wall time of any tool writing zstd.
server_cpu_of() { # server_cpu_of PID CMD: server CPU seconds CMD caused
  local s0 s1
  s0=$(server_ticks "$1")
  bash -c "$2" >/dev/null
  s1=$(server_ticks "$1")
  awk "BEGIN { print ($s1 - $s0) / $clk_tck }"
}
floor_tables="bench.big bench.events bench.blobs bench2.customers bench2.products"
select_cpu=$(server_cpu_of "$SRC_PID" "for t in $floor_tables; do mariadb --no-defaults --socket=$SRC_SOCKET -uroot --quick -N -B -e \"SELECT * FROM \$t\" >/dev/null; done")
zstd_cpu=$( { /usr/bin/time -f '%U %S' mariadb-dump --no-defaults -h 127.0.0.1 -P "$SRC_PORT" -uroot --single-transaction --databases "${dbs[@]}" 2>/dev/null | /usr/bin/time -f '%U %S' -o "$work/zstd.time" zstd -q -1 -T1 -c >/dev/null; } 2>/dev/null; awk '{ print $1 + $2 }' "$work/zstd.time")
# The cheapest load known: the plain secondary key added after the rows (as Cairn does).
sed 's/, KEY k_k (k)//' "$work/gen/schema.sql" | tsql
load_cpu=$(server_cpu_of "$TGT_PID" "{ sed 's/unique_checks = 0/unique_checks = 1/' $work/gen/load.sql; echo 'ALTER TABLE bench.big ADD KEY k_k (k);'; } | mariadb --no-defaults --socket=$TGT_SOCKET -uroot --local-infile=1")
tsql -e "DROP DATABASE bench; DROP DATABASE bench2"
rm -f "$work"/gen/*.tsv
ncpu=$(nproc)
printf 'floor\tserver_select_cpu_s\t%s\nfloor\tzstd1_cpu_s\t%s\nfloor\tserver_load_cpu_s\t%s\nfloor\tcores\t%s\n' \
  "$select_cpu" "$zstd_cpu" "$load_cpu" "$ncpu" >"$work/floors"
log "floors: server SELECT ${select_cpu} CPU-s + zstd -1 ${zstd_cpu} CPU-s; server LOAD DATA ${load_cpu} CPU-s (on $ncpu cores)"
checksum() { # checksum SQLFN: one line of all CHECKSUM TABLE values of the bench databases
  "$1" -e "CHECKSUM TABLE bench.big, bench.events, bench.blobs, bench2.customers, bench2.products" | cut -f2 | tr '\n' ' '
}
src_sum=$(checksum sql)

password_file="$work/repo-password"
python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$password_file"
export RESTIC_PASSWORD_FILE=$password_file
R() { restic --no-cache -q -r "$1" "${@:2}"; }

results="$work/results" # .raw: round tool op seconds rss_kb cpu_s; .extra: round tool key value
: >"$results.raw"
: >"$results.extra"


# measure ROUND TOOL OP OUTFILE CMD: runs CMD under bash with wall time, peak RSS and CPU
# seconds (the tool's processes plus the database server the operation talks to: CPU time
# does not depend on what else runs on the machine, wall time does).
measure() {
  local round=$1 tool=$2 op=$3 out=$4 cmd=$5 t0 t1 rss cpu server server_pid s0 s1
  server_pid=$SRC_PID
  [ "$op" = restore ] && server_pid=$TGT_PID
  s0=$(server_ticks "$server_pid")
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f '%M %U %S' -o "$work/rss" bash -c "set -o pipefail; $cmd" >"$out" 2>"$work/err"; then
    tail -n 20 "$work/err" >&2
    die "$tool $op failed (round $round)"
  fi
  t1=$(date +%s.%N)
  s1=$(server_ticks "$server_pid")
  read -r rss cpu_u cpu_s < <(tail -n 1 "$work/rss")
  cpu=$(awk "BEGIN { print $cpu_u + $cpu_s + ($s1 - $s0) / $clk_tck }")
  server=$(awk "BEGIN { print ($s1 - $s0) / $clk_tck }")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$tool" "$op" "$(awk "BEGIN { print $t1 - $t0 }")" "$rss" "$cpu" "$server" >>"$results.raw"
}

# restic_added FILE: data_added from `restic backup --json` output.
restic_added() { python3 -c 'import json,sys
print(next((json.loads(l)["data_added"] for l in open(sys.argv[1]) if "\"summary\"" in l), 0))' "$1"; }
cairn_added() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes_added"])' "$1"; }

dbcsv=$(IFS=,; echo "${dbs[*]}")
src_url="mysql://root@127.0.0.1:$SRC_PORT"
tgt_url="mysql://root@127.0.0.1:$TGT_PORT"

backup() { # backup ROUND TOOL REPO
  local round=$1 tool=$2 repo=$3 out="$work/out.$2.$1"
  case $tool in
    baseline) measure "$round" "$tool" backup "$out" \
      "mariadb-dump --no-defaults -h 127.0.0.1 -P $SRC_PORT -uroot --single-transaction --databases ${dbs[*]} | restic --no-cache -r $repo backup --json --stdin --stdin-filename dumpfile.sql"
      restic_added "$out" ;;
    cairn) measure "$round" "$tool" backup "$out" \
      "$cairn backup --db $src_url --repo $repo --databases $dbcsv --parallel $par --json"
      cairn_added "$out" ;;
    mydumper) rm -rf "$work/myd"
      measure "$round" "$tool" backup "$out" \
      "mydumper --defaults-file=$work/my.cnf -h 127.0.0.1 -P $SRC_PORT -t $par --regex '^(bench|bench2)\\.' -o $work/myd && restic --no-cache -r $repo backup --json $work/myd"
      rm -rf "$work/myd"
      restic_added "$out" ;;
  esac
}

restore() { # restore ROUND TOOL REPO
  local round=$1 tool=$2 repo=$3 out="$work/rout.$2.$1" ok=ok
  tsql -e "DROP DATABASE IF EXISTS bench; DROP DATABASE IF EXISTS bench2"
  case $tool in
    baseline) measure "$round" "$tool" restore "$out" \
      "restic --no-cache -r $repo dump latest dumpfile.sql | mariadb --no-defaults -h 127.0.0.1 -P $TGT_PORT -uroot" ;;
    cairn) measure "$round" "$tool" restore "$out" \
      "$cairn restore --db $tgt_url --repo $repo --snapshot latest --databases $dbcsv --parallel $par --drop-existing --json" ;;
    mydumper) rm -rf "$work/myr"
      measure "$round" "$tool" restore "$out" \
      "restic --no-cache -r $repo restore latest --target $work/myr && myloader --defaults-file=$work/my.cnf -h 127.0.0.1 -P $TGT_PORT -t $par -o -d $work/myr$work/myd"
      rm -rf "$work/myr" ;;
  esac
  [ "$(checksum tsql)" = "$src_sum" ] || ok=MISMATCH
  echo "$ok"
}

for round in $(seq 1 "$rounds"); do
  # Rotate the order so no tool always runs first (cold caches) or last.
  order=("${tools[@]:$(((round - 1) % ${#tools[@]}))}" "${tools[@]:0:$(((round - 1) % ${#tools[@]}))}")
  log "round $round/$rounds: ${order[*]}"
  for tool in "${order[@]}"; do
    repo="$work/repo.$tool"
    rm -rf "$repo"
    if [ "$tool" = cairn ]; then "$cairn" init --repo "$repo" >/dev/null; else R "$repo" init >/dev/null; fi
    added=$(backup "$round" "$tool" "$repo")
    printf '%s\t%s\tbackup_added\t%s\n' "$round" "$tool" "$added" >>"$results.extra"
  done
  for tool in "${order[@]}"; do
    ok=$(restore "$round" "$tool" "$work/repo.$tool")
    printf '%s\t%s\trestore_ok\t%s\n' "$round" "$tool" "$ok" >>"$results.extra"
    [ "$ok" = ok ] || log "WARNING: $tool restore differs from the source (round $round)"
  done
done

log "incremental: change ~1 % of rows (length changes, key ranges) and append ~0.5 %, back up again"
big_rows=$(sql -e "SELECT COUNT(*) FROM bench.big")
step=$((big_rows / 10))
width=$((big_rows / 1000 + 1))
for i in $(seq 0 9); do
  lo=$((i * step + 1))
  sql -e "UPDATE bench.big SET body = CONCAT(IFNULL(body, ''), ' changed ', id), name = LEFT(CONCAT('n', name), 64) WHERE id BETWEEN $lo AND $((lo + width - 1))"
done
sql -e "INSERT INTO bench.big SELECT id + $big_rows + 1000000, k, code, name, amount, ratio, created, flag, body FROM bench.big WHERE id <= $((big_rows / 200 + 1))"
for tool in "${tools[@]}"; do
  added=$(backup incr "$tool" "$work/repo.$tool")
  printf 'incr\t%s\tbackup_added\t%s\n' "$tool" "$added" >>"$results.extra"
done

mkdir -p benches/results
python3 - "$results.raw" "$results.extra" "$dump_bytes" "$scale" "$rounds" "$par" benches/results/latest.json "$work/floors" <<'PY'
import json, statistics, sys, platform, os, time
raw, extra, dump_bytes, scale, rounds, par, out, floors_file = sys.argv[1:]
dump_bytes = int(dump_bytes)
runs = {}
for line in open(raw):
    rnd, tool, op, secs, rss, cpu, server = line.rstrip("\n").split("\t")
    runs.setdefault((tool, op), []).append({"round": rnd, "seconds": float(secs), "rss_kb": int(rss),
                                            "cpu_seconds": float(cpu), "server_cpu_seconds": float(server)})
info = {}
for line in open(extra):
    rnd, tool, key, val = line.rstrip("\n").split("\t")
    info.setdefault((tool, key), {})[rnd] = val
tools = sorted({t for t, _ in runs}, key=lambda t: ["baseline", "cairn", "mydumper"].index(t))
summary = {}
print()
print("%-9s %-8s %9s %9s %11s %8s %9s %9s" % ("tool", "op", "median s", "MB/s", "peak RSS MB", "speedup", "CPU s", "CPU gain"))
for op in ("backup", "restore"):
    for tool in tools:
        rs = [r for r in runs.get((tool, op), []) if r["round"] != "incr"]
        if not rs:
            continue
        med = statistics.median(r["seconds"] for r in rs)
        rss = max(r["rss_kb"] for r in rs) / 1024
        # Ratio per round (same machine state), then the median over rounds.
        base = {r["round"]: r for r in runs.get(("baseline", op), [])}
        ratios = [r["seconds"] / base[r["round"]]["seconds"] for r in rs if r["round"] in base]
        ratio = statistics.median(ratios) if ratios else None
        cpu = statistics.median(r["cpu_seconds"] for r in rs)
        cpu_ratios = [base[r["round"]]["cpu_seconds"] / r["cpu_seconds"] for r in rs if r["round"] in base and r["cpu_seconds"] > 0]
        cpu_gain = statistics.median(cpu_ratios) if cpu_ratios else None
        summary.setdefault(tool, {})[op] = {
            "median_seconds": med, "mb_per_s": dump_bytes / 1e6 / med, "peak_rss_mb": rss,
            "time_ratio_vs_baseline": ratio, "speedup_vs_baseline": 1 / ratio if ratio else None,
            "median_cpu_seconds": cpu, "cpu_gain_vs_baseline": cpu_gain, "runs": rs}
        print("%-9s %-8s %9.2f %9.1f %11.0f %8s %9.1f %9s" % (tool, op, med, dump_bytes / 1e6 / med, rss,
              "%.2fx" % (1 / ratio) if ratio else "-", cpu, "%.2fx" % cpu_gain if cpu_gain else "-"))
print()
print("incremental backup (bytes added as % of the first full backup):")
for tool in tools:
    added = info.get((tool, "backup_added"), {})
    first = int(added.get("1", 0) or 0)
    incr = int(added.get("incr", 0) or 0)
    pct = 100.0 * incr / first if first else None
    ok = info.get((tool, "restore_ok"), {})
    summary.setdefault(tool, {})["incremental"] = {"first_bytes_added": first, "incr_bytes_added": incr, "percent": pct}
    summary[tool]["restores_verified"] = all(v == "ok" for v in ok.values())
    print("  %-9s first %10d B, incremental %10d B = %s   restores verified: %s" % (
        tool, first, incr, "%.2f %%" % pct if pct is not None else "-", summary[tool]["restores_verified"]))
fl = {k: float(v) for _, k, v in (l.rstrip("\n").split("\t") for l in open(floors_file))}
base_b = summary.get("baseline", {}).get("backup", {}).get("median_seconds")
base_r = summary.get("baseline", {}).get("restore", {}).get("median_seconds")
def least_server(op):
    meds = [statistics.median(r["server_cpu_seconds"] for r in rs if r["round"] != "incr")
            for (t, o), rs in runs.items() if o == op and any(r["round"] != "incr" for r in rs)]
    return min(meds) if meds else float("inf")
fl["least_tool_server_backup_cpu_s"] = least_server("backup")
fl["least_tool_server_restore_cpu_s"] = least_server("restore")
backup_server = min(fl["server_select_cpu_s"], fl["least_tool_server_backup_cpu_s"])
restore_server = min(fl["server_load_cpu_s"], fl["least_tool_server_restore_cpu_s"])
floors = {**fl,
          "backup_floor_seconds": (backup_server + fl["zstd1_cpu_s"]) / fl["cores"],
          "restore_floor_seconds": restore_server / fl["cores"]}
if base_b:
    floors["backup_target_seconds_3x"] = base_b / 3
if base_r:
    floors["restore_target_seconds_4x"] = base_r / 4
print()
print("floors (CPU no tool avoids / cores; a tool cannot be faster than these):")
print("  backup : server %.1f (SELECT %.1f, least of the tools %.1f) + zstd -1 %.1f CPU-s -> %.2f s   (3x target: %s s)" % (
    backup_server, fl["server_select_cpu_s"], fl["least_tool_server_backup_cpu_s"], fl["zstd1_cpu_s"], floors["backup_floor_seconds"],
    "%.2f" % floors["backup_target_seconds_3x"] if base_b else "-"))
print("  restore: server %.1f (LOAD DATA %.1f, least of the tools %.1f) CPU-s -> %.2f s   (4x target: %s s)" % (
    restore_server, fl["server_load_cpu_s"], fl["least_tool_server_restore_cpu_s"], floors["restore_floor_seconds"],
    "%.2f" % floors["restore_target_seconds_4x"] if base_r else "-"))
doc = {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "scale": float(scale),
       "rounds": int(rounds), "parallel": int(par), "logical_dump_bytes": dump_bytes,
       "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
       "baseline": "mariadb-dump --single-transaction | restic backup --stdin; restic dump | mariadb",
       "floors": floors, "results": summary}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
print("\nwrote", out)
PY
