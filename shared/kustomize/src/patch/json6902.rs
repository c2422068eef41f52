//! JSON 6902 patches (RFC 6902), with the behaviour of the library kustomize uses
//! (evanphx/json-patch), as `kubectl kustomize` v5.5 shows it:
//! - `-` appends to a list; a negative index counts from the end (for `add`, `-1` appends);
//!   an index may have leading zeros (`01` is 1);
//! - `add` needs the parent to exist; the whole document (path `""`) cannot be added or replaced;
//! - `replace` of a missing key of a mapping adds it, but a missing list index or a missing
//!   parent is an error; `remove` needs the target to exist;
//! - in a pointer, `~0` is `~` and `~1` is `/`; any other `~` is kept as it is.

use serde_json::{Map, Value};

use super::PatchError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

impl Op {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "add" => Self::Add,
            "remove" => Self::Remove,
            "replace" => Self::Replace,
            "move" => Self::Move,
            "copy" => Self::Copy,
            "test" => Self::Test,
            _ => return None,
        })
    }
}

/// Splits a JSON pointer into unescaped tokens (`~1` is `/`, `~0` is `~`).
pub(crate) fn parse_pointer(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!("`{pointer}` is not a JSON pointer (it must start with `/`)"));
    };
    rest.split('/')
        .map(|token| {
            let mut out = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        Some(other) => {
                            out.push('~');
                            out.push(other);
                        }
                        None => out.push('~'),
                    }
                } else {
                    out.push(c);
                }
            }
            Ok(out)
        })
        .collect()
}

/// Resolves an array index token; `len` is the array's length. `allow_end` admits `-` and
/// `len` itself (the position after the last element, for `add`).
fn array_index(token: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    if token == "-" {
        return if allow_end { Ok(len) } else { Err("`-` only names a position for `add`".to_owned()) };
    }
    let parsed: i64 = token.parse().map_err(|_| format!("`{token}` is not a list index"))?;
    let len_i = i64::try_from(len).map_err(|_| "list too long".to_owned())?;
    let idx = match (parsed < 0, allow_end) {
        (false, _) => parsed,
        (true, false) => parsed + len_i,
        (true, true) => parsed + len_i + 1,
    };
    let max = if allow_end { len_i } else { len_i - 1 };
    if idx < 0 || idx > max {
        return Err(format!("index {token} is out of range (the list has {len} elements)"));
    }
    usize::try_from(idx).map_err(|_| format!("index {token} is out of range"))
}

fn get<'a>(doc: &'a Value, tokens: &[String]) -> Result<&'a Value, String> {
    let mut cur = doc;
    for (i, token) in tokens.iter().enumerate() {
        cur = match cur {
            Value::Object(map) => map.get(token),
            Value::Array(items) => array_index(token, items.len(), false).ok().and_then(|i| items.get(i)),
            _ => None,
        }
        .ok_or_else(|| format!("`/{}` does not exist", tokens[..=i].join("/")))?;
    }
    Ok(cur)
}

fn parent_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for (i, token) in tokens.iter().enumerate() {
        let missing = || format!("`/{}` does not exist", tokens[..=i].join("/"));
        cur = match cur {
            Value::Object(map) => map.get_mut(token).ok_or_else(missing)?,
            Value::Array(items) => {
                let idx = array_index(token, items.len(), false).map_err(|_| missing())?;
                items.get_mut(idx).ok_or_else(missing)?
            }
            _ => return Err(missing()),
        };
    }
    Ok(cur)
}

fn add(doc: &mut Value, tokens: &[String], value: Value) -> Result<(), String> {
    let Some((last, parents)) = tokens.split_last() else {
        return Err("the whole resource cannot be added; name a field".to_owned());
    };
    match parent_mut(doc, parents)? {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let idx = array_index(last, items.len(), true)?;
            items.insert(idx, value);
            Ok(())
        }
        other => Err(format!("the parent is a scalar ({other}), not a mapping or a list")),
    }
}

fn remove(doc: &mut Value, tokens: &[String]) -> Result<Value, String> {
    let Some((last, parents)) = tokens.split_last() else {
        return Err("cannot remove the whole resource".to_owned());
    };
    match parent_mut(doc, parents)? {
        Value::Object(map) => map.remove(last).ok_or_else(|| format!("there is no key `{last}` to remove")),
        Value::Array(items) => {
            let idx = array_index(last, items.len(), false)?;
            Ok(items.remove(idx))
        }
        _ => Err("the parent is a scalar, not a mapping or a list".to_owned()),
    }
}

fn replace(doc: &mut Value, tokens: &[String], value: Value) -> Result<(), String> {
    let Some((last, parents)) = tokens.split_last() else {
        return Err("the whole resource cannot be replaced; name a field".to_owned());
    };
    match parent_mut(doc, parents)? {
        Value::Object(map) => {
            // Like kustomize, a missing key is added.
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let idx = array_index(last, items.len(), false)?;
            items[idx] = value;
            Ok(())
        }
        _ => Err("the parent is a scalar, not a mapping or a list".to_owned()),
    }
}

fn field<'a>(op: &'a Map<String, Value>, name: &str, index: usize) -> Result<&'a Value, PatchError> {
    op.get(name).ok_or_else(|| PatchError::InvalidOperation { index, reason: format!("missing `{name}`") })
}

fn pointer_field(op: &Map<String, Value>, name: &str, index: usize) -> Result<String, PatchError> {
    match field(op, name, index)? {
        Value::String(s) => Ok(s.clone()),
        other => Err(PatchError::InvalidOperation { index, reason: format!("`{name}` must be a string, not {other}") }),
    }
}

/// Applies every operation in order; stops at the first one that fails.
pub(crate) fn apply(target: &mut Value, operations: &Value) -> Result<(), PatchError> {
    let Value::Array(ops) = operations else {
        return Err(PatchError::Invalid("a JSON 6902 patch must be a list of operations".to_owned()));
    };
    for (index, op) in ops.iter().enumerate() {
        let Value::Object(op) = op else {
            return Err(PatchError::InvalidOperation { index, reason: "an operation must be a mapping".to_owned() });
        };
        let name = match field(op, "op", index)? {
            Value::String(s) => s.clone(),
            other => {
                return Err(PatchError::InvalidOperation {
                    index,
                    reason: format!("`op` must be a string, not {other}"),
                });
            }
        };
        let kind = Op::parse(&name).ok_or_else(|| PatchError::InvalidOperation {
            index,
            reason: format!("unknown op `{name}` (expected add, remove, replace, move, copy or test)"),
        })?;
        let path = pointer_field(op, "path", index)?;
        let fail = |reason: String| PatchError::OperationFailed { index, op: name.clone(), path: path.clone(), reason };
        let tokens = parse_pointer(&path).map_err(fail)?;
        match kind {
            Op::Add => add(target, &tokens, field(op, "value", index)?.clone()).map_err(fail)?,
            Op::Replace => replace(target, &tokens, field(op, "value", index)?.clone()).map_err(fail)?,
            Op::Remove => {
                remove(target, &tokens).map_err(fail)?;
            }
            Op::Test => {
                let expected = field(op, "value", index)?;
                let actual = get(target, &tokens).map_err(fail)?;
                if actual != expected {
                    return Err(fail(format!("test failed: the value is {actual}, not {expected}")));
                }
            }
            Op::Move | Op::Copy => {
                let from = pointer_field(op, "from", index)?;
                let from_tokens = parse_pointer(&from).map_err(fail)?;
                let value = if kind == Op::Move {
                    if tokens.len() > from_tokens.len() && tokens.starts_with(&from_tokens) {
                        return Err(fail(format!("cannot move `{from}` into one of its own children")));
                    }
                    remove(target, &from_tokens).map_err(|e| fail(format!("from `{from}`: {e}")))?
                } else {
                    get(target, &from_tokens).map_err(|e| fail(format!("from `{from}`: {e}")))?.clone()
                };
                add(target, &tokens, value).map_err(fail)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_unescapes() {
        assert_eq!(parse_pointer("/a~1b/c~0d").unwrap(), vec!["a/b", "c~d"]);
        assert!(parse_pointer("a").is_err());
        assert_eq!(parse_pointer("/a~2").unwrap(), vec!["a~2"]);
        assert_eq!(parse_pointer("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn add_append_insert_and_negative() {
        let mut d = json!({"l": [1, 2]});
        apply(
            &mut d,
            &json!([
                {"op": "add", "path": "/l/-", "value": 3},
                {"op": "add", "path": "/l/0", "value": 0},
                {"op": "replace", "path": "/l/-1", "value": 9},
            ]),
        )
        .unwrap();
        assert_eq!(d, json!({"l": [0, 1, 2, 9]}));
    }

    #[test]
    fn errors_name_op_and_path() {
        let mut d = json!({"a": 1});
        let err = apply(&mut d, &json!([{"op": "remove", "path": "/b"}])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`remove` at `/b`") && text.contains("no key `b`"), "{text}");
        apply(&mut d, &json!([{"op": "replace", "path": "/n", "value": 1}])).unwrap();
        assert_eq!(d, json!({"a": 1, "n": 1}));
        let err = apply(&mut d, &json!([{"op": "replace", "path": "/x/y", "value": 1}])).unwrap_err();
        assert!(err.to_string().contains("`/x` does not exist"), "{err}");
        let err = apply(&mut d, &json!([{"op": "test", "path": "/a", "value": 2}])).unwrap_err();
        assert!(err.to_string().contains("test failed"), "{err}");
        let err = apply(&mut d, &json!([{"op": "frob", "path": "/a"}])).unwrap_err();
        assert!(err.to_string().contains("unknown op `frob`"), "{err}");
        let err = apply(&mut d, &json!([{"op": "add", "path": "/a"}])).unwrap_err();
        assert!(err.to_string().contains("missing `value`"), "{err}");
    }

    #[test]
    fn move_and_copy() {
        let mut d = json!({"a": {"b": 1}, "c": []});
        apply(
            &mut d,
            &json!([
                {"op": "copy", "from": "/a/b", "path": "/c/-"},
                {"op": "move", "from": "/a", "path": "/z"},
            ]),
        )
        .unwrap();
        assert_eq!(d, json!({"c": [1], "z": {"b": 1}}));
        let err = apply(&mut d, &json!([{"op": "move", "from": "/z", "path": "/z/b/q"}])).unwrap_err();
        assert!(err.to_string().contains("own children"), "{err}");
    }

    #[test]
    fn negative_add_counts_from_the_end() {
        let mut d = json!({"l": [1, 2]});
        apply(&mut d, &json!([{"op": "add", "path": "/l/-3", "value": 0}, {"op": "add", "path": "/l/-1", "value": 3}]))
            .unwrap();
        assert_eq!(d, json!({"l": [0, 1, 2, 3]}));
        apply(&mut d, &json!([{"op": "remove", "path": "/l/-1"}, {"op": "replace", "path": "/l/01", "value": 9}]))
            .unwrap();
        assert_eq!(d, json!({"l": [0, 9, 2]}));
    }

    #[test]
    fn out_of_range_index() {
        let mut d = json!({"l": [1]});
        let err = apply(&mut d, &json!([{"op": "replace", "path": "/l/1", "value": 1}])).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        let err = apply(&mut d, &json!([{"op": "add", "path": "/l/3", "value": 1}])).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }
}
