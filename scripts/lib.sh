# shellcheck shell=bash disable=SC2034  # DB_* variables are for the sourcing script
# Shared shell helpers for scripts/demo.sh and benches/bench.sh (sourced, not run).
# A private MariaDB like the Rust harness starts (tests/src/mariadb.rs): own datadir, socket
# and loopback port, random root password, never the system service.

log() {
  if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

find_bin() { # first of the given names in PATH, /usr/sbin or /usr/libexec
  local n d
  for n in "$@"; do
    command -v "$n" 2>/dev/null && return 0
    for d in /usr/sbin /usr/libexec; do [ -x "$d/$n" ] && { echo "$d/$n"; return 0; }; done
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# mariadb_start DIR: starts a server with its files under DIR; sets DB_PORT, DB_SOCKET,
# DB_PASSWORD, DB_PID, DB_URL and exports MYSQL_PWD (the client reads it; never in argv).
mariadb_start() {
  local dir=$1 server install user=() i
  server=$(find_bin mariadbd mysqld) || die "mariadbd not found: run scripts/install-deps.sh"
  install=$(find_bin mariadb-install-db mysql_install_db) || die "mariadb-install-db not found"
  [ "$(id -u)" -eq 0 ] && user=(--user=root)
  mkdir -p "$dir"
  "$install" --no-defaults --datadir="$dir/data" --auth-root-authentication-method=normal \
    --skip-test-db --innodb-log-file-size=64M --tmpdir="$dir" "${user[@]}" >"$dir/install.log" 2>&1 ||
    { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
  DB_PORT=$(free_port)
  DB_SOCKET="$dir/mysqld.sock"
  "$server" --no-defaults --datadir="$dir/data" --socket="$DB_SOCKET" --port="$DB_PORT" \
    --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" --tmpdir="$dir" \
    --bind-address=127.0.0.1 --local-infile=1 --skip-log-bin --skip-name-resolve \
    --innodb-buffer-pool-size="${DB_BUFFER_POOL:-256M}" --innodb-log-file-size=64M \
    --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 --max-allowed-packet=64M \
    --performance-schema=OFF --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    "${user[@]}" </dev/null >/dev/null 2>&1 &
  DB_PID=$!
  for i in $(seq 1 600); do # up to 60 s
    if ! kill -0 "$DB_PID" 2>/dev/null; then
      tail -n 30 "$dir/error.log" >&2
      die "mariadbd exited during startup"
    fi
    # A fresh root has no password yet: an inherited MYSQL_PWD must not be sent.
    if [ -S "$DB_SOCKET" ] && env -u MYSQL_PWD mariadb --no-defaults --socket="$DB_SOCKET" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
      break
    fi
    [ "$i" -eq 600 ] && { tail -n 30 "$dir/error.log" >&2; die "mariadbd not ready after 60 s"; }
    sleep 0.1
  done
  # A preset DB_PASSWORD is kept (bench: source and target servers share one).
  DB_PASSWORD=${DB_PASSWORD:-$(python3 -c 'import secrets; print(secrets.token_hex(12))')}
  env -u MYSQL_PWD mariadb --no-defaults --socket="$DB_SOCKET" -uroot <<SQL
ALTER USER root@localhost IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER root@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  export MYSQL_PWD=$DB_PASSWORD
  DB_URL="mysql://root@127.0.0.1:$DB_PORT"
}

# mariadb_stop [PID]: SIGTERM, up to 30 s, then SIGKILL (default: the last started, $DB_PID).
mariadb_stop() {
  local pid=${1:-${DB_PID:-}} i
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$pid" != "${DB_PID:-}" ] || DB_PID=
}

# sql [ARGS...]: the mariadb client on the private server (-N -B), statements on stdin or -e.
sql() { mariadb --no-defaults --socket="$DB_SOCKET" -uroot -N -B --local-infile=1 --default-character-set=utf8mb4 "$@"; }
