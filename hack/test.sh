#!/usr/bin/env bash
# Runs every test of the workspace against real components. On a fresh machine it first installs
# what the tests need and builds the Kubernetes control plane (about 11 minutes, once per machine).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
hack/controlplane.sh install
# Real servers and reference implementations the tests run, from Debian: git http-backend (Git
# over smart HTTP), sshd (Git over SSH), gpg (signed commits), the Docker registry (OCI sources),
# Go's text/template and Masterminds' sprig (weir-helm's differential tests). kubectl, when
# installed, checks the kustomize renderer live; without it the goldens are used and it says so.
missing=()
for pkg in git gnupg openssh-server openssh-client docker-registry golang-go golang-github-masterminds-sprig-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[test] installing ${missing[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
echo "[test] prerequisites ready ($((SECONDS - start)) s)" >&2
# The end-to-end tests run the workspace's binaries; build them once up front.
cargo build --workspace --bins --locked
cargo test --workspace --locked --no-fail-fast "$@"
echo "[test] finished in $((SECONDS - start)) s" >&2
