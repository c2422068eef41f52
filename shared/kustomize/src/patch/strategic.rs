//! Strategic merge patches, applied as kustomize v5 applies them (kyaml's merge walker with
//! the Kubernetes merge keys of [`super::schema`]).
//!
//! Rules, as observed on `kubectl kustomize` (kustomize v5.5):
//! - mappings merge field by field; a `null` in the patch deletes the field; a scalar or a
//!   list without a merge strategy in the patch replaces the resource's value;
//! - `$patch: delete` on a mapping removes it, `$patch: replace` replaces it by the rest of the
//!   patch's mapping, `$patch: merge` is the default; a list element `{$patch: replace}` makes
//!   the patch's list replace the resource's list, an element `{$patch: delete}` removes the
//!   whole list, and an element carrying `$patch: delete` and a key removes the element with
//!   the same key;
//! - lists with a single merge key come out in the patch's order, followed by the resource's
//!   elements that the patch does not name;
//! - lists keyed by more than one field (ports by port and protocol, topology spread
//!   constraints) keep the resource's order and put the patch's new elements first; a patch
//!   element that matches a resource element on the first key, and on the others only where
//!   both sides set them, is dropped (kustomize drops it too);
//! - lists of scalars with the merge strategy (finalizers) are a set union, the patch's values
//!   first;
//! - an element of a merged list without the merge key makes kustomize replace the list by
//!   the patch's elements that have the key; duplicates in the resource's list take the place
//!   of the merged element, unmerged; a top-level `$patch: replace` leaves the resource as is;
//! - `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…` are not interpreted:
//!   kustomize copies them into the output as ordinary fields, and so does this module.

use serde_json::{Map, Value};

use super::PatchError;
use super::schema::{self, CustomSchema, ListStrategy, TypeRef};

const DIRECTIVE: &str = "$patch";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

fn directive_of(map: &Map<String, Value>, path: &str) -> Result<Directive, PatchError> {
    match map.get(DIRECTIVE) {
        None => Ok(Directive::Merge),
        Some(Value::String(s)) if s == "merge" => Ok(Directive::Merge),
        Some(Value::String(s)) if s == "replace" => Ok(Directive::Replace),
        Some(Value::String(s)) if s == "delete" => Ok(Directive::Delete),
        Some(other) => Err(PatchError::UnknownDirective { path: display_path(path), value: scalar_text(other) }),
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() { "(resource)".to_owned() } else { path.to_owned() }
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// The text of a scalar as kyaml compares merge keys (strings as-is, numbers and booleans as
/// written); `""` for a missing, null or non-scalar value.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
    }
}

fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) | Value::Number(_) | Value::String(_) => "a scalar",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Applies `patch` to `target`. A patch whose top level says `$patch: delete` deletes the whole
/// resource: `target` is then set to `Value::Null`.
pub(crate) fn apply(target: &mut Value, patch: &Value, custom: Option<&CustomSchema>) -> Result<(), PatchError> {
    let Value::Object(patch_map) = patch else {
        return Err(PatchError::Invalid(format!("a strategic merge patch must be a mapping, not {}", shape(patch))));
    };
    let ty = match target {
        Value::Object(map) => {
            let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
            schema::root_type(api_version, kind, custom)
        }
        _ => None,
    };
    if patch_map.get(DIRECTIVE).and_then(Value::as_str) == Some("replace") {
        // kustomize leaves the resource as it is for a top-level `$patch: replace`.
        return Ok(());
    }
    let dest = match std::mem::take(target) {
        Value::Object(map) => Some(map),
        Value::Null => None,
        other => {
            *target = other;
            return Err(PatchError::Invalid(
                "a strategic merge patch applies to a mapping (a Kubernetes resource)".to_owned(),
            ));
        }
    };
    *target = merge_map(dest, patch_map, ty, "")?.unwrap_or(Value::Null);
    Ok(())
}

/// Merges a patch mapping into a resource mapping (`None` when the resource has none);
/// `None` in the result means the mapping is deleted.
fn merge_map(
    dest: Option<Map<String, Value>>,
    patch: &Map<String, Value>,
    ty: Option<TypeRef<'_>>,
    path: &str,
) -> Result<Option<Value>, PatchError> {
    let mut result = match directive_of(patch, path)? {
        Directive::Delete => return Ok(None),
        Directive::Replace => Map::new(),
        Directive::Merge => dest.unwrap_or_default(),
    };
    for (key, value) in patch {
        if key == DIRECTIVE {
            continue;
        }
        if value.is_null() {
            remove_in_place(&mut result, key);
            continue;
        }
        let field = ty.and_then(|ty| schema::field(ty, key));
        let sub_path = child_path(path, key);
        let existing = result.get_mut(key).map(std::mem::take);
        match merge_value(existing, value, field, &sub_path)? {
            // Inserting over an existing key keeps its place in the mapping.
            Some(merged) => {
                result.insert(key.clone(), merged);
            }
            None => remove_in_place(&mut result, key),
        }
    }
    Ok(Some(Value::Object(result)))
}

/// Removes a key without reordering the others (whatever the map's ordering feature).
fn remove_in_place(map: &mut Map<String, Value>, key: &str) {
    map.retain(|k, _| k != key);
}

/// Merges one patch value (never null) into the resource's value at the same place.
fn merge_value(
    dest: Option<Value>,
    patch: &Value,
    field: Option<schema::FieldSchema<'_>>,
    path: &str,
) -> Result<Option<Value>, PatchError> {
    let child = field.and_then(|f| f.child);
    let strategy = field.map_or(ListStrategy::Replace, |f| f.list);
    // Like kustomize, a value of another shape than the resource's is an error (only a
    // missing or null value in the resource can take any shape).
    if let Some(existing) = dest.as_ref().filter(|d| !d.is_null())
        && shape(existing) != shape(patch)
    {
        return Err(PatchError::KindMismatch { path: path.to_owned(), expected: shape(existing), found: shape(patch) });
    }
    match patch {
        Value::Object(patch_map) => match dest {
            Some(Value::Object(dest_map)) => merge_map(Some(dest_map), patch_map, child, path),
            _ => merge_map(None, patch_map, child, path),
        },
        Value::Array(items) => {
            let dest_items = match dest {
                Some(Value::Array(items)) => Some(items),
                _ => None,
            };
            match strategy {
                ListStrategy::Replace => Ok(Some(patch.clone())),
                ListStrategy::MergePrimitive => Ok(Some(merge_primitive(dest_items, items))),
                ListStrategy::MergeByKeys(keys) => merge_associative(dest_items, items, &keys.to_vec(), child, path),
            }
        }
        scalar => Ok(Some(scalar.clone())),
    }
}

/// A set union of scalars: the patch's values in order, then the resource's others.
fn merge_primitive(dest: Option<Vec<Value>>, patch: &[Value]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let is_directive = |v: &Value| v.as_object().is_some_and(|m| m.contains_key(DIRECTIVE));
    if patch.iter().any(|v| v.as_object().and_then(|m| m.get(DIRECTIVE)).is_some_and(|d| d == "replace")) {
        return Value::Array(patch.iter().filter(|v| !is_directive(v)).cloned().collect());
    }
    for value in patch.iter().chain(dest.iter().flatten()) {
        if is_directive(value) || value.is_null() || out.contains(value) {
            continue;
        }
        out.push(value.clone());
    }
    Value::Array(out)
}

fn key_values(elem: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| elem.get(*k).map(scalar_text).unwrap_or_default()).collect()
}

/// True for an element that only carries a list directive, such as `- $patch: replace`.
fn list_directive(elem: &Value) -> Option<&str> {
    let map = elem.as_object()?;
    let directive = map.get(DIRECTIVE)?.as_str()?;
    (map.len() == 1).then_some(directive)
}

/// Merges a list of mappings keyed by `keys`; `None` when the list is deleted.
fn merge_associative(
    dest: Option<Vec<Value>>,
    patch: &[Value],
    keys: &[&str],
    child: Option<TypeRef<'_>>,
    path: &str,
) -> Result<Option<Value>, PatchError> {
    // A `- $patch: replace` (or delete) element applies to the whole list.
    let mut whole = None;
    for elem in patch {
        if let Some(d) = list_directive(elem) {
            match d {
                "replace" | "delete" | "merge" => whole = Some(d),
                other => {
                    return Err(PatchError::UnknownDirective { path: path.to_owned(), value: other.to_owned() });
                }
            }
        }
    }
    let mut patch: Vec<&Value> = patch.iter().filter(|e| list_directive(e).is_none()).collect();
    let has_key = |e: &&Value| e.get(keys[0]).is_some();
    if keys.len() > 1 {
        // kustomize ignores the elements of a multi-key list that lack the first key.
        patch.retain(has_key);
    } else if !patch.iter().all(has_key) {
        // When an element lacks the merge key, kustomize no longer treats the list as
        // associative: the patch's elements that have the key replace the list.
        return Ok(Some(Value::Array(patch.into_iter().filter(has_key).cloned().collect())));
    }
    let dest = match whole {
        Some("replace") => None,
        Some("delete") => return Ok(None),
        _ => dest,
    };
    let mut dest = dest.unwrap_or_default();

    let secondary_used = keys.len() > 1
        && dest.iter().chain(patch.iter().copied()).any(|e| key_values(e, keys)[1..].iter().any(|v| !v.is_empty()));

    if secondary_used {
        return merge_multi_key(dest, &patch, keys, child, path).map(Some);
    }

    // Single effective key: the patch's elements in order, then the resource's others.
    let key = keys[0];
    let key_of = |e: &Value| scalar_text(e.get(key).unwrap_or(&Value::Null));
    let mut order: Vec<String> = Vec::new();
    for elem in patch.iter().copied().chain(dest.iter()) {
        let k = key_of(elem);
        if !order.contains(&k) {
            order.push(k);
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for k in order {
        let dest_elem = dest.iter().position(|e| key_of(e) == k).map(|i| dest.remove(i));
        let patch_elem = patch.iter().find(|e| key_of(e) == k);
        let merged = match (dest_elem, patch_elem) {
            (dest_elem, Some(p)) => merge_element(dest_elem, p, child, &format!("{path}[{key}={k}]"))?,
            (Some(d), None) => Some(d),
            (None, None) => None,
        };
        out.extend(merged);
    }
    // The resource's duplicates (two elements with one key) are left over: as in kustomize,
    // each takes the place of the merged element with its key, unmerged.
    for leftover in dest {
        let k = key_of(&leftover);
        if let Some(slot) = out.iter_mut().find(|e| key_of(e) == k) {
            *slot = leftover;
        }
    }
    Ok(Some(Value::Array(out)))
}

/// Merges a list keyed by several fields, some of whose secondary keys are set.
fn merge_multi_key(
    mut dest: Vec<Value>,
    patch: &[&Value],
    keys: &[&str],
    child: Option<TypeRef<'_>>,
    path: &str,
) -> Result<Value, PatchError> {
    let mut new_items = Vec::new();
    for p in patch {
        let pk = key_values(p, keys);
        let elem_path = format!("{path}[{}={}]", keys[0], pk[0]);
        if let Some(i) = dest.iter().position(|d| key_values(d, keys) == pk) {
            let d = dest.remove(i);
            if let Some(merged) = merge_element(Some(d), p, child, &elem_path)? {
                dest.insert(i, merged);
            }
            continue;
        }
        let overlaps = dest.iter().any(|d| {
            let dk = key_values(d, keys);
            dk[0] == pk[0] && dk[1..].iter().zip(&pk[1..]).all(|(a, b)| a == b || a.is_empty() || b.is_empty())
        });
        if overlaps {
            // kustomize silently drops such an element; so do we.
            continue;
        }
        if let Some(merged) = merge_element(None, p, child, &elem_path)? {
            new_items.push(merged);
        }
    }
    new_items.extend(dest);
    Ok(Value::Array(new_items))
}

/// Merges one element of an associative list; `None` when it is deleted (a `$patch: delete`,
/// or a mapping left empty).
fn merge_element(
    dest: Option<Value>,
    patch: &Value,
    child: Option<TypeRef<'_>>,
    path: &str,
) -> Result<Option<Value>, PatchError> {
    let merged = match (dest, patch) {
        (Some(Value::Object(d)), Value::Object(p)) => merge_map(Some(d), p, child, path)?,
        (None, Value::Object(p)) => merge_map(None, p, child, path)?,
        (_, other) => Some(other.clone()),
    };
    Ok(merged.filter(|v| !v.as_object().is_some_and(Map::is_empty)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
        super::apply(target, patch, None)
    }

    fn deploy(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec})
    }

    #[test]
    fn null_deletes_and_scalars_replace() {
        let mut t = json!({"kind": "X", "a": {"b": 1, "c": 2}, "d": 1});
        apply(&mut t, &json!({"a": {"b": null}, "d": 5})).unwrap();
        assert_eq!(t, json!({"kind": "X", "a": {"c": 2}, "d": 5}));
    }

    #[test]
    fn containers_follow_patch_order() {
        let mut t = deploy(json!({"template": {"spec": {"containers": [
            {"name": "a", "image": "a"}, {"name": "b", "image": "b"}]}}}));
        let p = deploy(json!({"template": {"spec": {"containers": [
            {"name": "n", "image": "n"}, {"name": "b", "image": "b2"}]}}}));
        apply(&mut t, &p).unwrap();
        assert_eq!(
            t["spec"]["template"]["spec"]["containers"],
            json!([{"name": "n", "image": "n"}, {"name": "b", "image": "b2"}, {"name": "a", "image": "a"}])
        );
    }

    #[test]
    fn delete_directive_on_element_and_resource() {
        let mut t = deploy(json!({"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}));
        let p = deploy(json!({"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}));
        apply(&mut t, &p).unwrap();
        assert_eq!(t["spec"]["template"]["spec"]["containers"], json!([{"name": "b"}]));
        apply(&mut t, &json!({"$patch": "delete"})).unwrap();
        assert!(t.is_null());
    }

    #[test]
    fn replace_directive_on_map_and_list() {
        let mut t = json!({"kind": "X", "m": {"a": 1, "b": 2}});
        apply(&mut t, &json!({"m": {"$patch": "replace", "c": 3}})).unwrap();
        assert_eq!(t["m"], json!({"c": 3}));
        let mut t = deploy(json!({"template": {"spec": {"containers": [{"name": "a"}]}}}));
        let p = deploy(json!({"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "z"}]}}}));
        apply(&mut t, &p).unwrap();
        assert_eq!(t["spec"]["template"]["spec"]["containers"], json!([{"name": "z"}]));
    }

    #[test]
    fn unknown_directive_is_an_error() {
        let mut t = json!({"kind": "X", "m": {}});
        let err = apply(&mut t, &json!({"m": {"$patch": "bogus"}})).unwrap_err();
        assert!(err.to_string().contains("$patch: bogus"), "{err}");
    }

    #[test]
    fn primitive_merge_is_a_union() {
        assert_eq!(
            merge_primitive(Some(vec![json!("a"), json!("c")]), &[json!("b"), json!("a")]),
            json!(["b", "a", "c"])
        );
    }

    #[test]
    fn unknown_kinds_replace_lists() {
        let mut t = json!({"apiVersion": "x.io/v1", "kind": "W", "l": [{"name": "a"}]});
        apply(&mut t, &json!({"l": [{"name": "b"}]})).unwrap();
        assert_eq!(t["l"], json!([{"name": "b"}]));
    }

    #[test]
    fn multi_key_ports() {
        let mut t = deploy(json!({"template": {"spec": {"containers": [{"name": "a", "ports": [
            {"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}]}]}}}));
        let p = deploy(json!({"template": {"spec": {"containers": [{"name": "a", "ports": [
            {"containerPort": 53, "protocol": "TCP"}, {"containerPort": 80, "protocol": "TCP", "hostPort": 1}]}]}}}));
        apply(&mut t, &p).unwrap();
        assert_eq!(
            t["spec"]["template"]["spec"]["containers"][0]["ports"],
            json!([{"containerPort": 53, "protocol": "TCP"}, {"containerPort": 80},
                   {"containerPort": 53, "protocol": "UDP"}])
        );
    }

    #[test]
    fn kind_mismatch_names_the_field() {
        let mut t = json!({"kind": "X", "a": "s"});
        let err = apply(&mut t, &json!({"a": {"b": 1}})).unwrap_err();
        assert!(err.to_string().contains("`a`"), "{err}");
        let mut t = deploy(json!({"template": {"spec": {"containers": [{"name": "app", "args": ["a"]}]}}}));
        let p = deploy(json!({"template": {"spec": {"containers": [{"name": "app", "args": "b"}]}}}));
        let err = apply(&mut t, &p).unwrap_err();
        assert!(err.to_string().contains("`spec.template.spec.containers[name=app].args`"), "{err}");
    }

    #[test]
    fn keyless_element_replaces_the_list() {
        let mut t = deploy(json!({"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}));
        let p = deploy(json!({"template": {"spec": {"containers": [{"image": "x"}, {"name": "c"}]}}}));
        apply(&mut t, &p).unwrap();
        assert_eq!(t["spec"]["template"]["spec"]["containers"], json!([{"name": "c"}]));
    }

    #[test]
    fn top_level_replace_leaves_the_resource() {
        let mut t = deploy(json!({"replicas": 1}));
        let before = t.clone();
        apply(&mut t, &json!({"$patch": "replace", "spec": {"replicas": 2}})).unwrap();
        assert_eq!(t, before);
    }
}
