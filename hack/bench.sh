#!/usr/bin/env bash
# The benchmarks: Flux's time-to-production shape on the local control plane (OCI sources as
# Flux's benchmark, and a Git monorepo), against a floor measured in the same run; the monorepo
# storm, the idle controllers, the webhook-to-cluster latency and the source-controller alone.
# Builds release binaries, runs weir-bench, writes BENCHMARKS.md.
#   hack/bench.sh                                     every scenario at N = 100, 500, 1000
#   hack/bench.sh --sizes 50 --idle 10s               a quick look
#   hack/bench.sh --scenarios webhook                 one scenario (oci,git,storm,idle,webhook,source)
set -euo pipefail
cd "$(dirname "$0")/.."
hack/controlplane.sh install
# The servers the scenarios run: git http-backend (Git shapes) and the Docker registry (OCI shape).
missing=()
for pkg in git docker-registry; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[bench] installing ${missing[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
cargo build --release --locked --bin source-controller --bin kustomize-controller --bin notification-controller \
  --bin weir-bench
WEIR_BINARY_DIR=$PWD/target/release exec target/release/weir-bench --out BENCHMARKS.md "$@"
