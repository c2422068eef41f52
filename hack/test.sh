#!/usr/bin/env bash
# Runs every test of the workspace against real components. On a fresh machine it first installs
# what the tests need and builds the Kubernetes control plane (about 11 minutes, once per machine).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
hack/controlplane.sh install
echo "[test] prerequisites ready ($((SECONDS - start)) s)" >&2
# The end-to-end tests run the workspace's binaries; build them once up front.
cargo build --workspace --bins --locked
cargo test --workspace --locked "$@"
echo "[test] finished in $((SECONDS - start)) s" >&2
