#!/usr/bin/env bash
# The demo: GitOps on this machine. A local Kubernetes control plane, a local Git server holding
# examples/fleet, Weir's controllers as processes, `weir bootstrap git`, then a change committed to
# the repository and applied to the cluster.
#
#   hack/demo.sh          run it (Ctrl-C stops everything; without a terminal it keeps running)
#   hack/demo.sh down     stop a demo that is still running
set -euo pipefail
cd "$(dirname "$0")/.."

dir=.weir/demo
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
down() { hack/controlplane.sh down "$dir" >/dev/null 2>&1 || true; }

if [ "${1:-}" = down ]; then
  down
  echo "[demo] stopped" >&2
  exit 0
fi

step "Building Weir and the local control plane (cached after the first run)"
hack/controlplane.sh install
cargo build --quiet --locked --bin weir --bin source-controller --bin kustomize-controller
weir=$PWD/target/debug/weir
if [ -f "$dir/pids" ]; then
  echo "[demo] a demo is already running in $dir; restarting it" >&2
  down
fi
keep=0 # set once the demo has shown everything and should stay up
trap 'echo; echo "[demo] stopping" >&2; down; exit 130' INT TERM
trap '[ "$keep" = 1 ] || { echo "[demo] failed; stopping (logs in $dir)" >&2; down; }' EXIT
hack/controlplane.sh up "$dir" >/dev/null
export KUBECONFIG=$PWD/$dir/kubeconfig
"$weir" version --client 2>/dev/null || "$weir" version

step "A Git server on loopback holding examples/fleet"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
srv=$PWD/$dir/git-http
rm -rf "$srv" "$dir/work" && mkdir -p "$srv/cgi-bin"
git init -q --bare -b main "$srv/fleet.git"
git -C "$srv/fleet.git" config http.receivepack true
git clone -q "$srv/fleet.git" "$dir/work" 2>/dev/null
cp -r examples/fleet/. "$dir/work/"
git -C "$dir/work" add -A
git -C "$dir/work" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "The fleet: infrastructure and apps"
git -C "$dir/work" push -q origin main
cat >"$srv/cgi-bin/git" <<CGI
#!/bin/sh
# Python runs CGI scripts as nobody when started as root: let git serve a repository it does not own.
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' HOME=$srv XDG_CONFIG_HOME=$srv
GIT_PROJECT_ROOT=$srv GIT_HTTP_EXPORT_ALL=1 exec /usr/lib/git-core/git-http-backend
CGI
chmod +x "$srv/cgi-bin/git"
chmod -R a+rwX "$srv" # pushes arrive as the CGI's user
git_port=$(free_port)
(cd "$srv" && exec python3 -W ignore -m http.server --cgi --bind 127.0.0.1 "$git_port") >"$dir/git-http.log" 2>&1 &
echo $! >>"$dir/pids" # stopped with the control plane
git_url="http://127.0.0.1:$git_port/cgi-bin/git/fleet.git"
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$git_port") 2>/dev/null && break; sleep 0.1; done
git -C "$dir/work" remote set-url origin "$git_url"
echo "  $git_url"
find examples/fleet -type f ! -name README.md | sort | sed 's|^examples/fleet/|  |'

step "The controllers, as processes on this machine"
storage_port=$(free_port)
rm -rf "$PWD/$dir/storage"
target/debug/source-controller --kubeconfig "$KUBECONFIG" --storage-path "$PWD/$dir/storage" \
  --storage-addr "127.0.0.1:$storage_port" --storage-adv-addr "127.0.0.1:$storage_port" \
  --metrics-addr 0 --health-addr 0 --log-encoding console >"$dir/source-controller.log" 2>&1 &
echo $! >>"$dir/pids"
target/debug/kustomize-controller --kubeconfig "$KUBECONFIG" --metrics-addr 0 --health-addr 0 \
  --log-encoding console >"$dir/kustomize-controller.log" 2>&1 &
echo $! >>"$dir/pids"
echo "  logs: $dir/source-controller.log, $dir/kustomize-controller.log"

step "weir bootstrap git: Weir manages itself and the fleet from Git"
"$weir" bootstrap git --url "$git_url" --branch main --path clusters/demo \
  --components source-controller,kustomize-controller --timeout 5m

step "Waiting for infrastructure, then apps (which depends on it)"
"$weir" reconcile kustomization apps --timeout 3m >/dev/null 2>&1 || true
"$weir" get all -A
step "What the apps Kustomization manages"
"$weir" tree kustomization apps

step "A change in Git: staging runs podinfo 6.7.2"
git -C "$dir/work" pull -q origin main # bootstrap committed clusters/demo/flux-system
sed -i 's/newTag: 6.7.1/newTag: 6.7.2/' "$dir/work/apps/staging/kustomization.yaml"
git -C "$dir/work" -c user.name=demo -c user.email=demo@example.invalid commit -q -am "staging: podinfo 6.7.2"
git -C "$dir/work" push -q origin main
"$weir" reconcile kustomization apps --with-source --timeout 3m
image=$("$weir" get kustomizations -A >/dev/null; curl -fsS --cacert "$dir/certs/ca.crt" \
  -H "Authorization: Bearer $(awk '/token:/ {print $2}' "$KUBECONFIG")" \
  "$(awk '/server:/ {print $2}' "$KUBECONFIG")/apis/apps/v1/namespaces/podinfo-staging/deployments/podinfo" |
  jq -r '.spec.template.spec.containers[0].image')
echo "  the Deployment in podinfo-staging now runs $image"

cat <<MSG >&2

The cluster follows $git_url. Try:
  export KUBECONFIG=$PWD/$dir/kubeconfig
  $weir get all -A
  $weir events -A
  (cd $dir/work && edit files, git commit -a, git push) then: $weir reconcile ks apps --with-source
MSG
if [ -t 0 ]; then
  echo "Press Ctrl-C to stop the demo." >&2
  while true; do sleep 3600; done
else
  keep=1
  echo "Stop it with: hack/demo.sh down" >&2
fi
