//! `namePrefix`/`nameSuffix`: rename every resource except the kinds kustomize leaves alone
//! (CustomResourceDefinitions, whose names are fixed by their group, and Namespaces). References
//! to the old names are updated later by the name-reference pass.

use crate::resource::Resource;

const UNTOUCHED_KINDS: &[&str] = &["CustomResourceDefinition", "Namespace"];

pub fn apply(resources: &mut [Resource], prefix: &str, suffix: &str) {
    if prefix.is_empty() && suffix.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        if UNTOUCHED_KINDS.contains(&r.kind()) {
            continue;
        }
        let name = format!("{prefix}{}{suffix}", r.name());
        r.set_name(name);
        if !prefix.is_empty() {
            r.prefixes.push(prefix.to_string());
        }
        if !suffix.is_empty() {
            r.suffixes.push(suffix.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renames_and_remembers() {
        let mut rs = vec![
            Resource::new(json!({"kind": "Service", "metadata": {"name": "a"}}), "f".into()),
            Resource::new(json!({"kind": "CustomResourceDefinition", "metadata": {"name": "x.y"}}), "f".into()),
        ];
        apply(&mut rs, "p-", "-s");
        assert_eq!(rs[0].name(), "p-a-s");
        assert_eq!(rs[0].previous_names, vec!["a"]);
        assert_eq!(rs[1].name(), "x.y");
    }
}
