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

echo
echo "Weir's custom resource definitions, as the API server serves them:"
server=$(awk '/server:/ {print $2}' "$KUBECONFIG")
token=$(awk '/token:/ {print $2}' "$KUBECONFIG")
curl -fsS --cacert "$dir/certs/ca.crt" -H "Authorization: Bearer $token" \
  "$server/apis/apiextensions.k8s.io/v1/customresourcedefinitions" |
  jq -r '.items[] | select(.spec.group | endswith("toolkit.fluxcd.io"))
         | [.spec.names.kind, "\(.spec.group)/\(.spec.versions[0].name)",
            "Established=\(.status.conditions[] | select(.type=="Established") | .status)"] | @tsv' |
  awk -F'\t' '{ printf "  %-16s %-42s %s\n", $1, $2, $3 }'

cat <<MSG

The control plane keeps running. Try:
  export KUBECONFIG=$PWD/$dir/kubeconfig
  $weir install --export | less
Stop it with: hack/controlplane.sh down $dir
MSG
