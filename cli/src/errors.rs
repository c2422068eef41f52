//! Turns API errors into messages that say what to do next.

use anyhow::anyhow;

/// An API error during `doing` (e.g. "listing gitrepositories"), with a hint for the usual causes.
pub fn api(error: kube::Error, doing: &str) -> anyhow::Error {
    match &error {
        kube::Error::Api(status) if status.code == 404 => anyhow!(
            "{doing}: the cluster does not serve this kind ({}); are Weir's CRDs installed? Run `weir check` or `weir install`",
            status.message
        ),
        kube::Error::Api(status) if status.code == 403 => {
            anyhow!("{doing}: forbidden ({}); ask for RBAC rights or use another --context", status.message)
        }
        kube::Error::Api(status) if status.code == 401 => {
            anyhow!("{doing}: unauthorized; your credentials were refused, log in again or check --kubeconfig")
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => anyhow!(
            "{doing}: cannot reach the cluster ({error}); check --kubeconfig and --context, and that the API server is up"
        ),
        _ => anyhow::Error::new(error).context(doing.to_string()),
    }
}

/// The not-found of a Flux object, with how to list what exists.
pub fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(s) if s.code == 404)
}
