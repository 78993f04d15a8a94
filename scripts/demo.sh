#!/usr/bin/env bash
# The README's demo.
# Part 1, the local control plane: run examples/quickstart (KubeStash manifests, unchanged
# but for ports and passwords) with `cairn run --once` against two private MariaDB servers
# (standing in for SingleStore): backup into a local BackupStorage, then a RestoreSession
# into the second server; print the objects with `cairn get`, check the repository with
# restic, compare CHECKSUM TABLE of every table.
# Part 2, the engine directly: cairn init/backup/snapshots/restore on a plain repository.
#   DEMO_KEEP=1  keep the work directory (state, backups, logs) instead of deleting it
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

log "installing missing dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh

# Dev profile: builds much faster than release here, and the crypto/compression crates are
# optimised even in dev (see Cargo.toml), which is all a few-thousand-row demo needs.
log "building cairn"
cargo build -q -p cairn --bin cairn
cairn="${CARGO_TARGET_DIR:-$root/target}/debug/cairn"

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo.XXXXXX")
cleanup() {
  mariadb_stop "${DST_PID:-}"
  mariadb_stop "${SRC_PID:-}"
  if [ "${DEMO_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

run() { printf '\n$ %s\n' "$*" >&2; "$@"; }

log "starting two private MariaDB servers on 127.0.0.1; loading sample data into the first"
mariadb_start "$work/db-source"
SRC_PID=$DB_PID SRC_PORT=$DB_PORT SRC_SOCKET=$DB_SOCKET
sql <scripts/sample-data.sql
DB_PASSWORD=$DB_PASSWORD mariadb_start "$work/db-restored"
DST_PID=$DB_PID DST_PORT=$DB_PORT DST_SOCKET=$DB_SOCKET
echo "source 127.0.0.1:$SRC_PORT, restore target 127.0.0.1:$DST_PORT (password in MYSQL_PWD)"

# The quickstart as a user would edit it: the AppBindings' ports, the auth Secrets'
# password, a private backup directory. Secrets live in files only (mode 0600).
manifests="$work/quickstart"
cp -r examples/quickstart "$manifests"
find "$manifests" -name '*.yaml' -exec sed -i \
  -e "s#127.0.0.1:3306#127.0.0.1:$SRC_PORT#" -e "s#127.0.0.1:3307#127.0.0.1:$DST_PORT#" \
  -e "s#password: change-me\$#password: $DB_PASSWORD#" -e "s#/tmp/cairn-quickstart#$work#g" {} +
chmod -R go-rwx "$manifests"
state="$work/state"

log "cairn run --once: storage, repository, the instant backup (BackupConfiguration)"
run "$cairn" run -f "$manifests/backup" --state "$state" --once
log "cairn run --once: the same manifests plus the RestoreSession into the second server"
run "$cairn" run -f "$manifests" --state "$state" --once

log "the objects, as cairn get shows them"
for kind in backupstorages repositories backupconfigurations backupsessions snapshots restoresessions; do
  run "$cairn" get "$kind" -n demo --state "$state" || true
done

log "the backend layout"
(cd "$work/backups" && find . -path ./mariadb/repository/v1/frequent-backup/dump -prune -o -print | sort)
component="$work/backups/mariadb/repository/v1/frequent-backup/dump"
grep RESTIC_PASSWORD "$manifests/backup/30-encryption-secret.yaml" | sed 's/.*RESTIC_PASSWORD: *//' >"$work/qs-password"
log "restic snapshots + check --read-data on the component repository"
run restic --no-cache -r "$component" --password-file "$work/qs-password" snapshots
run restic --no-cache -r "$component" --password-file "$work/qs-password" check --read-data

log "verification: CHECKSUM TABLE of source vs the restored server"
mismatches=0
fmt='%-24s %11s %13s %15s %17s  %s\n'
# shellcheck disable=SC2059  # the format is ours
printf "\n$fmt" table 'source rows' 'restored rows' 'source CHECKSUM' 'restored CHECKSUM' result
while IFS=$'\t' read -r d t; do
  q="\`${d//\`/\`\`}\`.\`${t//\`/\`\`}\`"
  src_rows=$(DB_SOCKET=$SRC_SOCKET sql -e "SELECT COUNT(*) FROM $q")
  dst_rows=$(DB_SOCKET=$DST_SOCKET sql -e "SELECT COUNT(*) FROM $q" 2>/dev/null || echo missing)
  src_sum=$(DB_SOCKET=$SRC_SOCKET sql -e "CHECKSUM TABLE $q" | cut -f2)
  dst_sum=$(DB_SOCKET=$DST_SOCKET sql -e "CHECKSUM TABLE $q" 2>/dev/null | cut -f2 || true)
  result=ok
  if [ "$src_sum" != "$dst_sum" ] || [ "$src_rows" != "$dst_rows" ]; then
    result=MISMATCH
    mismatches=$((mismatches + 1))
  fi
  # shellcheck disable=SC2059
  printf "$fmt" "$d.$t" "$src_rows" "$dst_rows" "$src_sum" "${dst_sum:-missing}" "$result"
done < <(DB_SOCKET=$SRC_SOCKET sql -e "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('shop', 'analytics') AND table_type = 'BASE TABLE' ORDER BY 1, 2")
[ "$mismatches" -eq 0 ] || die "$mismatches table(s) differ between the source and the restored server"
log "part 1 complete: every restored table matches its source"

# Part 2 runs against the source server.
DB_PORT=$SRC_PORT DB_SOCKET=$SRC_SOCKET DB_URL="mysql://root@127.0.0.1:$SRC_PORT"
log "part 2: the engine directly, on a plain restic repository"

repo="$work/repo"
python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$work/repo-password"
chmod 600 "$work/repo-password"
export RESTIC_PASSWORD_FILE="$work/repo-password"

log "cairn init"
run "$cairn" init --repo "$repo"

log "cairn backup (all user databases)"
run "$cairn" backup --db "$DB_URL" --repo "$repo" --json | tee "$work/backup.json"

log "cairn snapshots"
run "$cairn" snapshots --repo "$repo"

log "restic check --read-data (restic itself verifies the repository Cairn wrote)"
run restic --no-cache -r "$repo" --password-file "$RESTIC_PASSWORD_FILE" check --read-data

log "cairn restore: database shop as shop_restored"
run "$cairn" restore --db "$DB_URL" --repo "$repo" --snapshot latest --databases shop \
  --rename-database shop:shop_restored --json | tee "$work/restore.json"

log "verification: CHECKSUM TABLE of source vs restored"
mismatches=0
fmt='%-14s %11s %13s %15s %17s  %s\n'
# shellcheck disable=SC2059  # the format is ours
printf "\n$fmt" table 'source rows' 'restored rows' 'source CHECKSUM' 'restored CHECKSUM' result
while IFS= read -r t; do
  q=${t//\`/\`\`}
  src_rows=$(sql -e "SELECT COUNT(*) FROM shop.\`$q\`")
  dst_rows=$(sql -e "SELECT COUNT(*) FROM shop_restored.\`$q\`" 2>/dev/null || echo missing)
  src_sum=$(sql -e "CHECKSUM TABLE shop.\`$q\`" | cut -f2)
  dst_sum=$(sql -e "CHECKSUM TABLE shop_restored.\`$q\`" 2>/dev/null | cut -f2 || true)
  result=ok
  if [ "$src_sum" != "$dst_sum" ] || [ "$src_rows" != "$dst_rows" ]; then
    result=MISMATCH
    mismatches=$((mismatches + 1))
  fi
  # shellcheck disable=SC2059
  printf "$fmt" "$t" "$src_rows" "$dst_rows" "$src_sum" "${dst_sum:-missing}" "$result"
done < <(sql -e "SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop' AND table_type = 'BASE TABLE' ORDER BY table_name")

if [ "$mismatches" -ne 0 ]; then
  die "$mismatches table(s) differ between shop and shop_restored"
fi
log "demo complete: every restored table matches its source (both parts)"
