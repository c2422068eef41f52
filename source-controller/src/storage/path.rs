//! Where an object's artifacts live: `<root>/<lowercase kind>/<namespace>/<name>/<file>`, served
//! at `http://<adv-addr>/<same path>` (Flux's `pkg/artifact/storage/path.go`).

use super::StorageError;

/// The object an artifact belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectRef<'a> {
    /// The kind, e.g. `GitRepository`; lowercased in the path.
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl<'a> ObjectRef<'a> {
    pub fn new(kind: &'a str, namespace: &'a str, name: &'a str) -> Self {
        ObjectRef { kind, namespace, name }
    }

    /// `<lowercase kind>/<namespace>/<name>`, every part checked by [`check_segment`].
    pub fn dir(&self) -> Result<String, StorageError> {
        let kind = self.kind.to_ascii_lowercase();
        check_segment("kind", &kind)?;
        check_segment("namespace", self.namespace)?;
        check_segment("name", self.name)?;
        Ok(format!("{kind}/{}/{}", self.namespace, self.name))
    }

    /// `<lowercase kind>/<namespace>/<name>/<file>`: the artifact's `path`.
    pub fn artifact_path(&self, file: &str) -> Result<String, StorageError> {
        check_segment("file name", file)?;
        Ok(format!("{}/{file}", self.dir()?))
    }
}

/// Refuses a path segment that could leave its directory or make the path ambiguous: empty,
/// `.`, `..`, or containing `/`, `\` or NUL. Kubernetes names never are, but the storage does
/// not rely on the API server for its safety.
pub fn check_segment(what: &'static str, segment: &str) -> Result<(), StorageError> {
    let bad = segment.is_empty()
        || segment == "."
        || segment == ".."
        || segment.contains(['/', '\\', '\0'])
        || segment.chars().any(char::is_control);
    if bad {
        return Err(StorageError::InvalidPath { what, value: segment.to_string() });
    }
    Ok(())
}

/// Checks a relative artifact path (`a/b/c`) segment by segment.
pub fn check_relative(path: &str) -> Result<(), StorageError> {
    path.split('/').try_for_each(|segment| check_segment("artifact path", segment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_fluxs() {
        let object = ObjectRef::new("GitRepository", "flux-system", "podinfo");
        assert_eq!(object.artifact_path("abc.tar.gz").unwrap(), "gitrepository/flux-system/podinfo/abc.tar.gz");
    }

    #[test]
    fn names_cannot_escape() {
        for (ns, name, file) in [
            ("..", "x", "f"),
            ("ns", "a/b", "f"),
            ("ns", "x", "../f"),
            ("ns", "x", ".."),
            ("ns", "", "f"),
            ("ns", "x", "a\\b"),
            ("ns", "x", "a\0"),
            ("ns", ".", "f"),
        ] {
            let object = ObjectRef::new("GitRepository", ns, name);
            assert!(object.artifact_path(file).is_err(), "{ns}/{name}/{file}");
        }
        assert!(check_relative("gitrepository/ns/x/../../etc").is_err());
        assert!(check_relative("/etc/passwd").is_err());
        assert!(check_relative("gitrepository/ns/x/f.tar.gz").is_ok());
    }
}
