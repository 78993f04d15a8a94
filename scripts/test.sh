#!/usr/bin/env bash
# shellcheck disable=SC2317  # check functions run through step()
# THE test command (README, .ci/run): installs what is missing, then checks format, lints,
# the purity of cairn-core, and runs every test of the workspace. Exits non-zero on any failure.
#   CAIRN_TEST_THREADS=N  parallel tests (default 4: most tests wait on servers, not CPU)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
started=$(date +%s)
threads="${CAIRN_TEST_THREADS:-4}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A one-shot CI build gains nothing from incremental caches, which would add ~3 GB on disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi

passed=()
failed=()
step() {
  local name=$1
  shift
  printf '\n==> %s: %s\n' "$name" "$*"
  if "$@"; then passed+=("$name"); else failed+=("$name"); fi
}

summary() {
  local secs=$(($(date +%s) - started))
  printf '\n'
  if [ "${#failed[@]}" -eq 0 ]; then
    printf 'cairn test summary: PASSED (%s) in %ss\n' "${passed[*]}" "$secs"
    exit 0
  fi
  printf 'cairn test summary: FAILED: %s (passed: %s) in %ss\n' "${failed[*]}" "${passed[*]:-none}" "$secs"
  exit 1
}

if ! bash scripts/install-deps.sh; then
  failed+=(install-deps)
  summary
fi

# cairn-core must stay pure: no IO runtimes or clients in its normal dependency tree.
core_purity() {
  local tree bad
  tree=$(cargo tree -q -p cairn-core -e normal --prefix none) || return 1
  bad=$(grep -E '^(tokio|hyper|kube-client|mysql_async|object_store|reqwest|rustic_core) v' <<<"$tree" | sort -u)
  if [ -n "$bad" ]; then
    printf 'cairn-core depends on IO crates (move that code to adapters/):\n%s\n' "$bad"
    return 1
  fi
}

run_tests() {
  # The e2e tests run the binary cargo builds for them (CARGO_BIN_EXE_cairn): a separate
  # `cargo build -p cairn` would compile half the workspace a second time with other features.
  if cargo nextest --version >/dev/null 2>&1; then
    local cfg=()
    [ -f .config/nextest.toml ] || cfg=(--config-file scripts/nextest.toml)
    cargo nextest run --workspace --no-fail-fast "${cfg[@]}" --test-threads "$threads"
  else
    # No per-test timeout in libtest: bound the whole run instead.
    timeout --kill-after=30s 45m cargo test --workspace --no-fail-fast -- --test-threads "$threads"
  fi
}

step fmt cargo fmt --all -- --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
step core-purity core_purity
step tests run_tests
summary
