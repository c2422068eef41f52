#!/usr/bin/env bash
# The benchmarks: Flux's time-to-production shape on the local control plane, against a floor
# measured in the same run. Builds release binaries, runs weir-bench, writes BENCHMARKS.md.
#   hack/bench.sh                      N = 100, 500, 1000 (about 20 minutes on 2 cores)
#   hack/bench.sh --sizes 50 --idle 10s   a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
hack/controlplane.sh install
cargo build --release --locked --bin source-controller --bin kustomize-controller --bin weir-bench
WEIR_BINARY_DIR=$PWD/target/release exec target/release/weir-bench --out BENCHMARKS.md "$@"
