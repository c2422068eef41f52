//! Patch targets: group, version, kind, name and namespace (each an anchored regular expression,
//! as in kustomize: `kind: Deployment|StatefulSet` selects both), and Kubernetes label and
//! annotation selectors.

use regex::Regex;
use serde_json::{Map, Value};

use crate::kustomization::Selector;
use crate::resource::Resource;

/// A compiled selector.
pub struct Matcher {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
}

fn anchored(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("bad regular expression {pattern:?}: {e}"))
}

impl Matcher {
    /// A patch target: names and kinds are regular expressions, matched against any name the
    /// resource has had (its base name still selects it after a base prefix, as in kubectl).
    pub fn new(s: &Selector) -> Result<Self, String> {
        Self::build(s, anchored)
    }

    /// A replacement's source, `select` or `reject`: names and kinds are compared literally
    /// (`kind: A|B` selects nothing there), against any name the resource has had.
    pub fn exact(s: &Selector) -> Result<Self, String> {
        Self::build(s, |p| anchored(&regex::escape(p)))
    }

    fn build(s: &Selector, anchored: impl Fn(&str) -> Result<Regex, String>) -> Result<Self, String> {
        let anchored = &anchored;
        Ok(Matcher {
            group: s.group.as_deref().filter(|g| !g.is_empty()).map(anchored).transpose()?,
            version: s.version.as_deref().filter(|v| !v.is_empty()).map(anchored).transpose()?,
            kind: s.kind.as_deref().filter(|k| !k.is_empty()).map(anchored).transpose()?,
            name: s.name.as_deref().map(anchored).transpose()?,
            namespace: s.namespace.as_deref().map(anchored).transpose()?,
            labels: s.label_selector.as_deref().map(parse_selector).transpose()?.unwrap_or_default(),
            annotations: s.annotation_selector.as_deref().map(parse_selector).transpose()?.unwrap_or_default(),
        })
    }

    pub fn matches(&self, r: &Resource) -> bool {
        let id = r.id();
        let eq = |want: &Option<Regex>, have: &str| want.as_ref().is_none_or(|re| re.is_match(have));
        eq(&self.group, &id.group)
            && eq(&self.version, &id.version)
            && eq(&self.kind, &id.kind)
            && self.name.as_ref().is_none_or(|re| r.all_names().any(|n| re.is_match(n)))
            && self.namespace.as_ref().is_none_or(|re| r.all_namespaces().any(|n| re.is_match(n)))
            && self.labels.iter().all(|q| q.matches(r.labels()))
            && self.annotations.iter().all(|q| q.matches(r.annotations()))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, map: Option<&Map<String, Value>>) -> bool {
        let get = |k: &str| map.and_then(|m| m.get(k)).and_then(Value::as_str);
        match self {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        }
    }
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_selector(s: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    for part in split_top(s).into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let set = |rest: &str| -> Result<Vec<String>, String> {
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("bad selector {part:?}"))?;
            Ok(inner.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect())
        };
        let req = if let Some((k, v)) = part.split_once("!=") {
            Requirement::NotEquals(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = part.split_once("==") {
            Requirement::Equals(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = part.split_once('=') {
            Requirement::Equals(k.trim().into(), v.trim().into())
        } else if let Some((k, rest)) = part.split_once(" notin ") {
            Requirement::NotIn(k.trim().into(), set(rest)?)
        } else if let Some((k, rest)) = part.split_once(" in ") {
            Requirement::In(k.trim().into(), set(rest)?)
        } else if let Some(k) = part.strip_prefix('!') {
            Requirement::NotExists(k.trim().into())
        } else {
            Requirement::Exists(part.to_string())
        };
        out.push(req);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res() -> Resource {
        Resource::new(
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web-1", "labels": {"app": "web", "tier": "fe"}, "annotations": {"a": "b"}}}),
            "f".into(),
        )
    }

    fn sel(f: impl FnOnce(&mut Selector)) -> Matcher {
        let mut s = Selector::default();
        f(&mut s);
        Matcher::new(&s).unwrap()
    }

    #[test]
    fn selects() {
        let r = res();
        assert!(sel(|s| s.kind = Some("Deployment".into())).matches(&r));
        assert!(sel(|s| s.kind = Some("StatefulSet|Deployment".into())).matches(&r));
        assert!(!sel(|s| s.kind = Some("Deploy".into())).matches(&r));
        let exact = Selector { kind: Some("StatefulSet|Deployment".into()), ..Selector::default() };
        assert!(!Matcher::exact(&exact).unwrap().matches(&r));
        assert!(sel(|s| s.name = Some("web-.*".into())).matches(&r));
        assert!(!sel(|s| s.name = Some("web".into())).matches(&r));
        assert!(sel(|s| s.group = Some("apps".into())).matches(&r));
        assert!(sel(|s| s.label_selector = Some("app=web,tier in (fe, be)".into())).matches(&r));
        assert!(!sel(|s| s.label_selector = Some("app!=web".into())).matches(&r));
        assert!(sel(|s| s.label_selector = Some("!missing,app".into())).matches(&r));
        assert!(sel(|s| s.annotation_selector = Some("a=b".into())).matches(&r));
        assert!(!sel(|s| s.label_selector = Some("tier notin (fe)".into())).matches(&r));
    }
}
