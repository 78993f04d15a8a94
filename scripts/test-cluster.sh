#!/usr/bin/env bash
# Starts or stops the Kubernetes test cluster (test-only, never shipped): an API server,
# controllers and a kubelet running pods as local processes, all in one background
# process of `cairn-test-cluster serve`. See docs/testing.md, "The Kubernetes test cluster".
#   bash scripts/test-cluster.sh up DIR     # prints `export KUBECONFIG=DIR/kubeconfig`
#   bash scripts/test-cluster.sh down DIR
# Env: CAIRN_TEST_CLUSTER_BIN, CAIRN_BIN (binaries to use instead of building them),
#      CARGO_TARGET_DIR (where to build them; default ./target),
#      CAIRN_TEST_CLUSTER_READY_SECS (bound of the readiness wait, default 60).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf 'test-cluster: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 up|down DIR"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
pid_file="$dir/cluster.pid"

running() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

up() {
  if running; then
    log "already running (pid $(cat "$pid_file"))"
    printf 'export KUBECONFIG=%s/kubeconfig\n' "$dir"
    return
  fi
  # kubectl and helm into DIR/bin, linked from the shared cache (installed once).
  local tools
  tools="$(bash scripts/install-kube-tools.sh)"
  mkdir -p "$dir/bin"
  ln -sf "$tools/kubectl" "$dir/bin/kubectl"
  ln -sf "$tools/helm" "$dir/bin/helm"
  # The workspace's own build (what `cargo build`/`cargo test` wrote), never another tree's.
  local target="${CARGO_TARGET_DIR:-$PWD/target}"
  local server_bin="${CAIRN_TEST_CLUSTER_BIN:-$target/debug/cairn-test-cluster}"
  local cairn_bin="${CAIRN_BIN:-$target/debug/cairn}"
  if [ ! -x "$server_bin" ]; then
    log "building cairn-test-cluster into $target"
    CARGO_TARGET_DIR="$target" cargo build -q -p cairn-test-cluster >&2
  fi
  if [ ! -x "$cairn_bin" ]; then
    log "building cairn into $target"
    CARGO_TARGET_DIR="$target" cargo build -q -p cairn --bin cairn >&2
  fi
  rm -f "$dir/server.url"
  setsid "$server_bin" serve --dir "$dir" --cairn-bin "$cairn_bin" >"$dir/cluster.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  local bound="${CAIRN_TEST_CLUSTER_READY_SECS:-60}" waited=0
  while :; do
    if ! running; then
      tail -n 30 "$dir/cluster.log" >&2 || true
      die "cairn-test-cluster exited during startup (log: $dir/cluster.log)"
    fi
    if [ -f "$dir/server.url" ] && [ -f "$dir/ca.crt" ] && [ -f "$dir/admin.token" ] &&
      curl -fsS --max-time 2 --cacert "$dir/ca.crt" -H "Authorization: Bearer $(cat "$dir/admin.token")" \
        "$(cat "$dir/server.url")/readyz" >/dev/null 2>&1; then
      break
    fi
    if [ "$waited" -ge $((bound * 10)) ]; then
      tail -n 30 "$dir/cluster.log" >&2 || true
      down
      die "the API server did not become ready within ${bound}s (log: $dir/cluster.log)"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  log "up: $(cat "$dir/server.url") (pid $(cat "$pid_file"), log $dir/cluster.log, kubectl/helm in $dir/bin)"
  printf 'export KUBECONFIG=%s/kubeconfig\n' "$dir"
}

down() {
  if ! running; then
    rm -f "$pid_file"
    log "not running"
    return
  fi
  local pid
  pid="$(cat "$pid_file")"
  kill -TERM "$pid" 2>/dev/null || true
  # The server stops its kubelet, which kills every pod process, within ~15s.
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after 20s: SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  # Leftover pod processes (each container is its own process group, pids in pods/*/*/*.pid).
  for f in "$dir"/pods/*/*/*.pid; do
    [ -f "$f" ] || continue
    kill -KILL -- "-$(cat "$f")" 2>/dev/null || true
  done
  rm -f "$pid_file"
  log "down"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down DIR" ;;
esac
