#!/usr/bin/env bash
# The demo: a local Kubernetes control plane with Weir installed into it.
# It stays up after the script ends; stop it with: hack/controlplane.sh down .weir/demo
set -euo pipefail
cd "$(dirname "$0")/.."

dir=.weir/demo
hack/controlplane.sh install
if [ -f "$dir/pids" ]; then
  echo "[demo] a demo control plane is already running in $dir; restarting it" >&2
  hack/controlplane.sh down "$dir"
fi
hack/controlplane.sh up "$dir" >/dev/null
export KUBECONFIG=$PWD/$dir/kubeconfig

echo "[demo] building weir" >&2
cargo build --quiet --locked --bin weir
weir=target/debug/weir

"$weir" version
"$weir" install

server=$(awk '/server:/ {print $2}' "$KUBECONFIG")
token=$(awk '/token:/ {print $2}' "$KUBECONFIG")
api() { # api METHOD PATH [BODY]: a call to the API server with the demo's admin token
  curl -fsS --cacert "$dir/certs/ca.crt" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -X "$1" "$server$2" ${3:+--data "$3"}
}

echo
echo "Weir's custom resource definitions, as the API server serves them:"
api GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions |
  jq -r '.items[] | select(.spec.group | endswith("toolkit.fluxcd.io"))
         | [.spec.names.kind, "\(.spec.group)/\(.spec.versions[0].name)",
            "Established=\(.status.conditions[] | select(.type=="Established") | .status)"] | @tsv' |
  awk -F'\t' '{ printf "  %-16s %-42s %s\n", $1, $2, $3 }'

# A Git repository on this machine, followed by source-controller running as a local process.
repo=$PWD/$dir/repo
rm -rf "$repo" && mkdir -p "$repo/apps"
cat >"$repo/apps/podinfo.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: podinfo
data:
  greeting: hello from Git
YAML
echo "logo.png is ignored, like Flux ignores images" >"$repo/logo.png"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "first commit"

# Served over git's smart HTTP protocol (git http-backend behind Python's CGI server), on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
git_port=$(free_port)
rm -rf "$dir/git-http" && mkdir -p "$dir/git-http/cgi-bin"
git clone -q --bare "$repo" "$dir/git-http/demo.git"
cat >"$dir/git-http/cgi-bin/git" <<CGI
#!/bin/sh
# Python runs CGI scripts as nobody when started as root: let git serve a repository it does not own.
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
GIT_PROJECT_ROOT=$PWD/$dir/git-http GIT_HTTP_EXPORT_ALL=1 exec /usr/lib/git-core/git-http-backend
CGI
chmod +x "$dir/git-http/cgi-bin/git"
(cd "$dir/git-http" && exec python3 -W ignore -m http.server --cgi --bind 127.0.0.1 "$git_port") >"$dir/git-http.log" 2>&1 &
echo $! >>"$dir/pids"
git_url="http://127.0.0.1:$git_port/cgi-bin/git/demo.git"

cargo build --quiet --locked --bin source-controller --bin kustomize-controller
storage_port=$(free_port)
rm -rf "$PWD/$dir/storage"
target/debug/source-controller --kubeconfig "$KUBECONFIG" --storage-path "$PWD/$dir/storage" \
  --storage-addr "127.0.0.1:$storage_port" --storage-adv-addr "127.0.0.1:$storage_port" \
  --metrics-addr 0 --health-addr 0 --log-encoding console >"$dir/source-controller.log" 2>&1 &
echo $! >>"$dir/pids" # stopped with the control plane

echo
echo "A GitRepository for $git_url:"
api POST /apis/source.toolkit.fluxcd.io/v1/namespaces/default/gitrepositories "$(jq -n --arg url "$git_url" '{
  apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository",
  metadata: {name: "demo"}, spec: {url: $url, interval: "1m", ref: {branch: "main"}}}')" >/dev/null
for _ in $(seq 150); do
  ready=$(api GET /apis/source.toolkit.fluxcd.io/v1/namespaces/default/gitrepositories/demo |
    jq -r '.status.conditions[]? | select(.type=="Ready") | "\(.status) \(.message)"')
  case "$ready" in True*) break ;; esac
  sleep 0.2
done
echo "  Ready: ${ready:-not yet (see $dir/source-controller.log)}"
artifact=$(api GET /apis/source.toolkit.fluxcd.io/v1/namespaces/default/gitrepositories/demo | jq -c '.status.artifact')
echo "  artifact: $(jq -r '"revision \(.revision)\n            digest   \(.digest)\n            url      \(.url)"' <<<"$artifact")"
url=$(jq -r .url <<<"$artifact")
if [ -n "$url" ] && [ "$url" != null ]; then
  echo "  its files, downloaded from source-controller:"
  curl -fsS "$url" | tar -tzf - | sed 's/^/    /'
fi

# kustomize-controller applies what the artifact holds, and keeps the cluster in line with it.
target/debug/kustomize-controller --kubeconfig "$KUBECONFIG" --metrics-addr 0 --health-addr 0 \
  --log-encoding console >"$dir/kustomize-controller.log" 2>&1 &
echo $! >>"$dir/pids"
echo
echo "A Kustomization applying ./apps from it:"
api POST /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/default/kustomizations "$(jq -n '{
  apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization",
  metadata: {name: "apps"},
  spec: {sourceRef: {kind: "GitRepository", name: "demo"}, path: "./apps", prune: true, interval: "1m"}}')" >/dev/null
for _ in $(seq 150); do
  ready=$(api GET /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/default/kustomizations/apps |
    jq -r '.status.conditions[]? | select(.type=="Ready") | "\(.status) \(.message)"')
  case "$ready" in True*) break ;; esac
  sleep 0.2
done
echo "  Ready: ${ready:-not yet (see $dir/kustomize-controller.log)}"
echo "  inventory: $(api GET /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/default/kustomizations/apps |
  jq -r '[.status.inventory.entries[]?.id] | join(", ")')"
echo "  the ConfigMap in the cluster, applied from Git:"
api GET /api/v1/namespaces/default/configmaps/podinfo |
  jq -r '"    data.greeting = \(.data.greeting)\n    labels: \(.metadata.labels | to_entries | map("\(.key)=\(.value)") | join(", "))"'

cat <<MSG

The control plane keeps running. Try:
  export KUBECONFIG=$PWD/$dir/kubeconfig
  kubectl get gitrepositories,kustomizations -A     # if kubectl is installed
  kubectl edit configmap podinfo                    # reverted at the next reconcile (1m)
  git -C $repo -c user.name=you -c user.email=you@example.invalid commit -q --allow-empty -m next
  git -C $repo push -q $PWD/$dir/git-http/demo.git main   # published and applied within 1m
  $weir install --export | less
Stop it (and the controllers) with: hack/controlplane.sh down $dir
MSG
