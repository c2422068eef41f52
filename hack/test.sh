#!/usr/bin/env bash
# Runs every test of the workspace against real components. On a fresh machine it first installs
# what the tests need and builds the Kubernetes control plane (about 11 minutes, once per machine).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
hack/controlplane.sh install
# source-controller's tests serve Git over smart HTTP with Debian's git http-backend.
if [ ! -x /usr/lib/git-core/git-http-backend ]; then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq git >&2
fi
echo "[test] prerequisites ready ($((SECONDS - start)) s)" >&2
# The end-to-end tests run the workspace's binaries; build them once up front.
cargo build --workspace --bins --locked
cargo test --workspace --locked "$@"
echo "[test] finished in $((SECONDS - start)) s" >&2
