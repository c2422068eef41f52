//! The Helm release name of a HelmRelease, as Flux derives it.
//!
//! Without `spec.releaseName` the name is `[<targetNamespace>-]<name>`. Helm refuses names longer
//! than 53 characters, so a longer name is cut to its first 40 bytes, followed by `-` and the first
//! 12 hex digits of the SHA-256 of the whole name. The result is stable, and two long names that
//! share their first 40 characters still get different release names.

use sha2::{Digest, Sha256};

/// The longest release name Helm accepts.
pub const MAX_RELEASE_NAME_LEN: usize = 53;
/// How many hex digits of the hash a shortened name ends with.
const HASH_LEN: usize = 12;

/// `[<target_namespace>-]<name>` unless `release_name` is set, shortened to fit Helm's limit.
pub fn release_name(release_name: Option<&str>, target_namespace: Option<&str>, name: &str) -> String {
    let full = match (release_name.filter(|n| !n.is_empty()), target_namespace.filter(|n| !n.is_empty())) {
        (Some(release), _) => release.to_string(),
        (None, Some(ns)) => format!("{ns}-{name}"),
        (None, None) => name.to_string(),
    };
    shorten(&full)
}

/// Returns `name` unchanged when it fits in [`MAX_RELEASE_NAME_LEN`] bytes, otherwise
/// `<first 40 bytes>-<first 12 hex digits of sha256(name)>` (53 bytes).
pub fn shorten(name: &str) -> String {
    if name.len() <= MAX_RELEASE_NAME_LEN {
        return name.to_string();
    }
    let mut keep = MAX_RELEASE_NAME_LEN - HASH_LEN - 1;
    // Kubernetes names are ASCII; the loop only guards against slicing inside a UTF-8 character.
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().take(HASH_LEN / 2).map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", &name[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_defaults_to_target_namespace_and_name() {
        assert_eq!(release_name(None, None, "podinfo"), "podinfo");
        assert_eq!(release_name(None, Some("apps"), "podinfo"), "apps-podinfo");
        assert_eq!(release_name(Some("web"), Some("apps"), "podinfo"), "web");
        assert_eq!(release_name(Some(""), Some(""), "podinfo"), "podinfo");
    }

    #[test]
    fn names_up_to_53_characters_are_kept() {
        let name = "a".repeat(53);
        assert_eq!(shorten(&name), name);
        assert_eq!(shorten(""), "");
    }

    #[test]
    fn long_names_are_cut_and_hashed() {
        // sha256("monitoring-kube-prometheus-stack-with-a-rather-long-name") starts with 6c51d553cc17
        // (checked with `printf %s ... | sha256sum`).
        let name = release_name(None, Some("monitoring"), "kube-prometheus-stack-with-a-rather-long-name");
        assert_eq!(name, "monitoring-kube-prometheus-stack-with-a--6c51d553cc17");
        assert_eq!(name.len(), MAX_RELEASE_NAME_LEN);

        let a = shorten(&format!("{}-one", "x".repeat(60)));
        let b = shorten(&format!("{}-two", "x".repeat(60)));
        assert_ne!(a, b, "names sharing a prefix must not collide");
        assert!(a.len() == 53 && b.len() == 53);
    }
}
