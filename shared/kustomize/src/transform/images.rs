//! `images`: rewrite the `image` of every container and init container, wherever a `containers`
//! or `initContainers` list appears in an object (kustomize walks all of them, custom resources
//! included).

use serde_json::Value;

use crate::fieldspec::{FieldSpec, visit_parents};
use crate::kustomization::Image;
use crate::resource::Resource;

const CONTAINER_LISTS: &[&str] = &["containers", "initContainers"];

/// An image reference split into name, `:tag` and `@digest`.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

pub fn parse_image(image: &str) -> ImageRef<'_> {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(i) => ImageRef { name: &rest[..slash + i], tag: Some(&rest[slash + i + 1..]), digest },
        None => ImageRef { name: rest, tag: None, digest },
    }
}

/// The new image string when `image` matches `rule`, else `None`.
pub fn rewrite(image: &str, rule: &Image) -> Option<String> {
    let parsed = parse_image(image);
    if parsed.name != rule.name {
        return None;
    }
    let name = rule.new_name.as_deref().unwrap_or(parsed.name);
    let mut out = name.to_string();
    if let Some(digest) = rule.digest.as_deref() {
        out.push('@');
        out.push_str(digest);
    } else if let Some(tag) = rule.new_tag.as_deref() {
        out.push(':');
        out.push_str(tag);
    } else {
        if let Some(tag) = parsed.tag {
            out.push(':');
            out.push_str(tag);
            if let Some(suffix) = rule.tag_suffix.as_deref() {
                out.push_str(suffix);
            }
        }
        if let Some(digest) = parsed.digest {
            out.push('@');
            out.push_str(digest);
        }
    }
    Some(out)
}

/// Rewrites images in container lists, and at `extra` field specs (user `configurations`),
/// which point at image strings.
pub fn apply(resources: &mut [Resource], images: &[Image], extra: &[FieldSpec<'_>]) {
    if images.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        walk(&mut r.obj, images);
        let id = r.id();
        for spec in extra.iter().filter(|s| s.applies_to(&id)) {
            visit_parents(&mut r.obj, &spec.segments(), false, &mut |parent, key| {
                if let Some(Value::String(image)) = parent.get_mut(key)
                    && let Some(new) = images.iter().find_map(|rule| rewrite(image, rule))
                {
                    *image = new;
                }
            });
        }
    }
}

fn walk(value: &mut Value, images: &[Image]) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if CONTAINER_LISTS.contains(&key.as_str())
                    && let Value::Array(containers) = child
                {
                    for c in containers.iter_mut() {
                        if let Some(Value::String(image)) = c.get_mut("image")
                            && let Some(new) = images.iter().find_map(|rule| rewrite(image, rule))
                        {
                            *image = new;
                        }
                    }
                }
                walk(child, images);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, images)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        assert_eq!(parse_image("nginx"), ImageRef { name: "nginx", tag: None, digest: None });
        assert_eq!(
            parse_image("localhost:5000/a/b:1@sha256:x"),
            ImageRef { name: "localhost:5000/a/b", tag: Some("1"), digest: Some("sha256:x") }
        );
    }

    #[test]
    fn rewrites() {
        let rule = Image { name: "nginx".into(), new_tag: Some("2".into()), ..Image::default() };
        assert_eq!(rewrite("nginx:1", &rule).as_deref(), Some("nginx:2"));
        assert_eq!(rewrite("docker.io/nginx:1", &rule), None);
        let rule = Image { name: "a".into(), new_name: Some("b".into()), ..Image::default() };
        assert_eq!(rewrite("a:1@sha256:x", &rule).as_deref(), Some("b:1@sha256:x"));
        let rule = Image { name: "a".into(), digest: Some("sha256:y".into()), ..Image::default() };
        assert_eq!(rewrite("a:1", &rule).as_deref(), Some("a@sha256:y"));
    }
}
