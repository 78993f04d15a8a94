#!/usr/bin/env bash
# The README's demo: back up a private MariaDB (standing in for SingleStore) into a restic-format
# repository with Cairn, check the repository with restic itself, restore one database under a
# new name and compare CHECKSUM TABLE of source and restored tables.
#   DEMO_KEEP=1  keep the work directory (repository, logs) instead of deleting it
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
  mariadb_stop "${DB_PID:-}"
  if [ "${DEMO_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

log "starting a private MariaDB on 127.0.0.1 and loading sample data (scripts/sample-data.sql)"
mariadb_start "$work/db"
sql <scripts/sample-data.sql
echo "server: $DB_URL (password in MYSQL_PWD)"

repo="$work/repo"
python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$work/repo-password"
chmod 600 "$work/repo-password"
export RESTIC_PASSWORD_FILE="$work/repo-password"

run() { printf '\n$ %s\n' "$*" >&2; "$@"; }

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
log "demo complete: every restored table matches its source"
