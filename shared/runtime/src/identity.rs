//! Where and who this process is: the namespace it runs in, and a name unique to this instance.

use std::hash::{BuildHasher, Hasher, RandomState};

const SERVICE_ACCOUNT_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// The namespace the controller runs in: `RUNTIME_NAMESPACE` (Flux's Deployments set it from the
/// downward API), else the service account's namespace file, else `default`.
pub fn runtime_namespace() -> String {
    let from_env = std::env::var("RUNTIME_NAMESPACE").ok();
    let from_file = || std::fs::read_to_string(SERVICE_ACCOUNT_NAMESPACE).ok();
    pick_namespace(from_env, from_file)
}

fn pick_namespace(from_env: Option<String>, from_file: impl FnOnce() -> Option<String>) -> String {
    [from_env, from_file()]
        .into_iter()
        .flatten()
        .map(|ns| ns.trim().to_string())
        .find(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// `<pod or host name>_<random hex>`, as client-go builds a leader election identity.
pub fn instance_identity() -> String {
    let host = ["POD_NAME", "HOSTNAME"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .chain(std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    format!("{host}_{:016x}", random_u64())
}

/// A random number from the standard library's per-process random hash keys: enough for an
/// identity suffix and retry jitter, without a dependency.
pub(crate) fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_precedence() {
        let file = || Some("from-file\n".to_string());
        assert_eq!(pick_namespace(Some("flux-system".into()), file), "flux-system");
        assert_eq!(pick_namespace(Some(" ".into()), file), "from-file");
        assert_eq!(pick_namespace(None, file), "from-file");
        assert_eq!(pick_namespace(None, || None), "default");
    }

    #[test]
    fn identities_differ() {
        let a = instance_identity();
        let b = instance_identity();
        assert_ne!(a, b);
        assert!(a.rsplit_once('_').is_some_and(|(host, suffix)| !host.is_empty() && suffix.len() == 16));
    }
}
