#!/usr/bin/env bash
# A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) on loopback,
# built from Debian's packages, for Weir's demo and tests. See ../../shared/docs/TESTENV.md.
#
#   hack/controlplane.sh install            install prerequisites and build the binaries once (cached)
#   hack/controlplane.sh up DIR [OWNER_PID] start a control plane in DIR, write DIR/kubeconfig;
#                                           with OWNER_PID it stops by itself when that process exits
#   hack/controlplane.sh down DIR           stop the control plane in DIR, leave no process behind
#   hack/controlplane.sh bin-dir            print where the cached binaries are
set -euo pipefail

K8S_VERSION=1.20.2
K8S_SOURCE_VERSION=1.20.5+really1.20.2
# Bump when the patches in hack/patches change, so cached binaries are rebuilt.
BUILD_REVISION=1
CACHE_ROOT=${WEIR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/weir}
BUILD_ROOT=$CACHE_ROOT/k8s-$K8S_VERSION-r$BUILD_REVISION
BIN_DIR=$BUILD_ROOT/bin
PATCH_DIR=$(cd "$(dirname "$0")" && pwd)/patches

say() { printf '[controlplane] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

# Installs the Debian packages behind the given commands (command:package pairs) that are missing.
ensure_commands() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# What running a control plane needs.
install_runtime_packages() { ensure_commands etcd:etcd-server openssl:openssl curl:curl jq:jq; }
# What building one needs.
install_build_packages() {
  PATH=/usr/lib/go/bin:$PATH ensure_commands go:golang-go rsync:rsync dpkg-source:dpkg-dev patch:patch
}

# The orig tarball of Debian's bookworm source package holds the whole tree with vendor/, so it
# builds offline. A private source list leaves the system's apt configuration untouched.
fetch_source() {
  local work=$1 apt_dir=$1/apt
  mkdir -p "$apt_dir/lists/partial"
  local mirror
  mirror=$(grep -hoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror%/} bookworm main" >"$apt_dir/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=- -o "Dir::State::Lists=$apt_dir/lists")
  say "downloading the kubernetes $K8S_SOURCE_VERSION source package"
  apt-get "${opts[@]}" -o APT::Sandbox::User=root update -qq >&2
  (cd "$work" && apt-get "${opts[@]}" -o APT::Sandbox::User=root source --download-only -qq kubernetes >&2)
}

build() {
  if [ -x "$BIN_DIR/kube-apiserver" ] && [ -x "$BIN_DIR/kube-controller-manager" ]; then
    return 0
  fi
  install_build_packages
  local work=$BUILD_ROOT/build
  rm -rf "$work" && mkdir -p "$work"
  fetch_source "$work"
  say "unpacking"
  tar xzf "$work/kubernetes_${K8S_SOURCE_VERSION}.orig.tar.gz" -C "$work"
  local src
  src=$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)
  [ -n "$src" ] || die "the source tarball held no kubernetes-* directory"
  local p
  for p in "$PATCH_DIR"/*.patch; do
    say "applying $(basename "$p")"
    patch -d "$src" -p1 --quiet <"$p" || die "patch $p does not apply"
  done
  say "building kube-apiserver and kube-controller-manager (about 11 minutes on 2 cores, once per machine)"
  local start=$SECONDS
  (
    cd "$src"
    export PATH=/usr/lib/go/bin:$PATH GOPATH=$src/.go CGO_ENABLED=0 GOFLAGS=-mod=vendor
    export GOCACHE=$CACHE_ROOT/go-build
    mkdir -p .go/src/k8s.io && ln -sfn ../../.. .go/src/k8s.io/kubernetes
    # The build prints thousands of lines; keep a log and show a heartbeat instead.
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$work/build.log" 2>&1 &
    local pid=$!
    while kill -0 $pid 2>/dev/null; do
      sleep 30
      kill -0 $pid 2>/dev/null && say "still building ($((SECONDS - start)) s)"
    done
    wait $pid || { tail -n 40 "$work/build.log" >&2; exit 1; }
  ) || die "build failed, log in $work/build.log"
  mkdir -p "$BIN_DIR"
  cp "$src/_output/bin/kube-apiserver" "$src/_output/bin/kube-controller-manager" "$BIN_DIR/"
  rm -rf "$work"
  say "built in $((SECONDS - start)) s, cached in $BIN_DIR"
}

install() {
  mkdir -p "$CACHE_ROOT"
  # Several test binaries may ask at once; one builds, the others wait for it.
  exec 9>"$BUILD_ROOT.lock"
  flock 9
  install_runtime_packages
  build
  # Release the lock now: the control plane's processes would otherwise inherit it and hold it.
  exec 9>&-
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    port_is_free "$p" && { echo "$p"; return 0; }
  done
  die "no free loopback port found"
}

# wait_for WHAT TIMEOUT PID CMD...: runs CMD until it succeeds; fails at the timeout, or at once
# when the process PID (the server being waited for) has exited.
wait_for() {
  local what=$1 timeout=$2 pid=$3; shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { say "$what exited"; return 1; }
    [ $SECONDS -lt $deadline ] || { say "$what not ready after ${timeout}s"; return 1; }
    sleep 0.2
  done
  say "$what ready"
}

make_certs() {
  local d=$1
  mkdir -p "$d/certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=weir-test-ca" \
    -keyout "$d/certs/ca.key" -out "$d/certs/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$d/certs/apiserver.key" -out "$d/certs/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >"$d/certs/ext.cnf"
  openssl x509 -req -in "$d/certs/apiserver.csr" -CA "$d/certs/ca.crt" -CAkey "$d/certs/ca.key" -CAcreateserial \
    -days 3650 -extfile "$d/certs/ext.cnf" -out "$d/certs/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
}

# Starts etcd and kube-apiserver on fresh loopback ports, writes the kubeconfig and prints the
# API port. Fails, with both stopped, when either cannot start.
start_servers() {
  local d=$1 token=$2 etcd_port peer_port api_port
  etcd_port=$(free_port)
  peer_port=$(free_port)
  api_port=$(free_port)
  if [ "$etcd_port" = "$peer_port" ] || [ "$etcd_port" = "$api_port" ] || [ "$peer_port" = "$api_port" ]; then
    return 1
  fi
  rm -rf "$d/etcd"
  etcd --name weir-test --data-dir "$d/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "weir-test=http://127.0.0.1:$peer_port" --unsafe-no-fsync \
    >"$d/etcd.log" 2>&1 &
  local etcd_pid=$!
  if ! wait_for "etcd on 127.0.0.1:$etcd_port" 30 "$etcd_pid" curl -fsS "http://127.0.0.1:$etcd_port/health"; then
    kill "$etcd_pid" 2>/dev/null
    tail -n 5 "$d/etcd.log" >&2
    return 1
  fi

  "$BIN_DIR/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 --secure-port="$api_port" --insecure-port=0 \
    --tls-cert-file="$d/certs/apiserver.crt" --tls-private-key-file="$d/certs/apiserver.key" \
    --client-ca-file="$d/certs/ca.crt" --token-auth-file="$d/tokens.csv" --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$d/sa.key" \
    --service-account-signing-key-file="$d/sa.key" --service-cluster-ip-range=10.96.0.0/12 \
    --enable-priority-and-fairness=false --max-requests-inflight=2000 --max-mutating-requests-inflight=1000 \
    >"$d/apiserver.log" 2>&1 &
  local api_pid=$!
  if ! wait_for "kube-apiserver on 127.0.0.1:$api_port" 60 "$api_pid" curl -fsS --cacert "$d/certs/ca.crt" \
    -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz"; then
    kill "$api_pid" "$etcd_pid" 2>/dev/null
    grep -v '^[IW][0-9]' "$d/apiserver.log" | tail -n 5 >&2
    return 1
  fi
  echo "$etcd_pid" >>"$d/pids"
  echo "$api_pid" >>"$d/pids"

  cat >"$d/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: weir-test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 <"$d/certs/ca.crt")
users:
- name: admin
  user:
    token: $token
contexts:
- name: weir-test
  context: {cluster: weir-test, user: admin}
current-context: weir-test
KC
  echo "$api_port"
}


up() {
  local d=${1:?usage: up DIR [OWNER_PID]} owner=${2:-}
  install
  mkdir -p "$d" && d=$(cd "$d" && pwd)
  [ ! -f "$d/pids" ] || die "$d already holds a control plane; run: $0 down $d"
  local token
  token=$(openssl rand -hex 16)
  make_certs "$d"
  echo "$token,admin,admin,\"system:masters\"" >"$d/tokens.csv"
  : >"$d/pids"

  # Free ports are chosen before they are bound, so another process may take one in between:
  # start again on fresh ports when a server cannot bind.
  local attempt api_port
  for attempt in 1 2 3; do
    if api_port=$(start_servers "$d" "$token"); then
      break
    fi
    [ "$attempt" -lt 3 ] || { down "$d"; die "the control plane did not start, logs in $d"; }
    say "a port was taken; starting again on other ports"
  done

  "$BIN_DIR/kube-controller-manager" --kubeconfig="$d/kubeconfig" --leader-elect=false --secure-port=0 --port=0 \
    --controllers='*,-serviceaccount-token,-nodeipam,-nodelifecycle,-csrsigning,-bootstrapsigner,-tokencleaner' \
    --kube-api-qps=1000 --kube-api-burst=2000 --concurrent-deployment-syncs=20 --concurrent-replicaset-syncs=20 \
    >"$d/controller-manager.log" 2>&1 &
  echo $! >>"$d/pids"

  if [ -n "$owner" ]; then
    # A watchdog: when the process that owns this control plane is gone, so is the control plane.
    nohup bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; "$2" down "$3"' _ "$owner" "$(realpath "$0")" "$d" \
      >"$d/watchdog.log" 2>&1 &
    echo $! >"$d/watchdog.pid"
  fi
  say "control plane up; export KUBECONFIG=$d/kubeconfig"
  echo "$d/kubeconfig"
}

down() {
  local d=${1:?usage: down DIR}
  if [ -f "$d/watchdog.pid" ]; then
    local watchdog
    watchdog=$(cat "$d/watchdog.pid")
    # The watchdog runs this very script to stop us (bash execs the last command of `bash -c`,
    # so it may be this process itself): never kill the caller.
    if [ "$watchdog" != "$$" ] && [ "$watchdog" != "$PPID" ]; then
      kill "$watchdog" 2>/dev/null || true
    fi
    rm -f "$d/watchdog.pid"
  fi
  [ -f "$d/pids" ] || return 0
  local pids
  pids=$(tac "$d/pids")
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
  rm -f "$d/pids"
  rm -rf "$d/etcd"
  say "control plane in $d stopped"
}

case "${1:-}" in
  install) install ;;
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  bin-dir) echo "$BIN_DIR" ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
