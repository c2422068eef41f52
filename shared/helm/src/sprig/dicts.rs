//! Dicts: `dict`, `get`, `set`, `unset`, `hasKey`, `pluck`, `dig`, `merge`,
//! `mergeOverwrite`, `keys`, `pick`, `omit`, `values`.
//!
//! Dicts are shared references as Go's maps are: `set`, `unset`, `merge` and
//! `mergeOverwrite` change the dict passed in (and return it), so `$_ := set $d "k" 1`
//! changes `$d`, and whatever else refers to the same dict.

use super::{call_err, map_arg, map_entries, reg, reg_must, str_arg, str_list, strval};
use crate::template::{Arity, FuncError, FuncMap, Map, MapRef, Value};

/// mergo's `isEmptyValue` for the values a dict holds.
fn mergo_empty(v: &Value) -> bool {
    super::is_empty(v)
}

/// mergo's `Merge` (`overwrite` false) and `MergeWithOverwrite` on `map[string]interface{}`:
/// `dst` (and the maps inside it) change in place.
fn deep_merge(dst: &MapRef, src: Map, overwrite: bool) {
    for (k, s) in src {
        let d = dst.read().get(&k).cloned();
        if let (Value::Map(sm), Some(Value::Map(dm))) = (&s, &d) {
            if !sm.ptr_eq(dm) {
                deep_merge(dm, sm.snapshot(), overwrite);
            }
            continue;
        }
        let d_nonempty = d.as_ref().is_some_and(|d| !mergo_empty(d));
        if d_nonempty && matches!(s, Value::Map(_) | Value::List(_)) && !overwrite {
            continue;
        }
        if d_nonempty && matches!(s, Value::Map(_)) {
            continue;
        }
        let replace = match &d {
            None => true,
            Some(d) => overwrite || mergo_empty(d),
        };
        if replace && !holds(&s, dst) {
            dst.write().insert(k, s);
        }
    }
}

fn merge(a: &[Value], overwrite: bool) -> Result<Value, FuncError> {
    let dst = map_arg(a, 0)?.unwrap_or_default();
    for i in 1..a.len() {
        let src = map_entries(a, i)?;
        deep_merge(&dst, src, overwrite);
    }
    Ok(Value::Map(dst))
}

/// Whether `v` is or holds (at any depth) the map `target`: storing it there would make
/// a cycle, which Go allows but then cannot print or encode (a fatal stack overflow);
/// here it is an error.
fn holds(v: &Value, target: &MapRef) -> bool {
    match v {
        Value::Map(m) => m.ptr_eq(target) || m.read().values().any(|x| holds(x, target)),
        Value::List(l) => l.iter().any(|x| holds(x, target)),
        _ => false,
    }
}

const CYCLE: &str = "a dict cannot contain itself";

fn iface_conversion(v: &Value, want: &str) -> FuncError {
    let got = match v {
        Value::Nil => "nil".to_string(),
        v => v.type_name(),
    };
    call_err(format!("interface conversion: interface {{}} is {got}, not {want}"))
}

fn dig(a: &[Value]) -> Result<Value, FuncError> {
    if a.len() < 3 {
        return Err(call_err("dig needs at least three arguments"));
    }
    let Value::Map(mut dict) = a[a.len() - 1].clone() else {
        return Err(iface_conversion(&a[a.len() - 1], "map[string]interface {}"));
    };
    let default = &a[a.len() - 2];
    let mut keys = Vec::new();
    for k in &a[..a.len() - 2] {
        match k {
            Value::String(s) => keys.push(s.as_str()),
            v => return Err(iface_conversion(v, "string")),
        }
    }
    for (i, k) in keys.iter().enumerate() {
        let Some(step) = dict.read().get(*k).cloned() else { return Ok(default.clone()) };
        if i == keys.len() - 1 {
            return Ok(step);
        }
        match step {
            Value::Map(m) => dict = m,
            v => return Err(iface_conversion(&v, "map[string]interface {}")),
        }
    }
    Ok(default.clone())
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "dict", Arity::AtLeast(0), |a| {
        let mut d = Map::new();
        for pair in a.chunks(2) {
            let v = pair.get(1).cloned().unwrap_or_else(|| Value::from(""));
            d.insert(strval(&pair[0]), v);
        }
        Ok(Value::map(d))
    });
    reg(m, "get", Arity::Exact(2), |a| {
        let found = map_arg(a, 0)?.and_then(|d| d.read().get(str_arg(a, 1).unwrap_or("")).cloned());
        Ok(found.unwrap_or_else(|| Value::from("")))
    });
    reg(m, "set", Arity::Exact(3), |a| {
        let Some(d) = map_arg(a, 0)? else { return Err(call_err("assignment to entry in nil map")) };
        let (k, v) = (str_arg(a, 1)?.to_string(), a[2].clone());
        if holds(&v, &d) {
            return Err(call_err(CYCLE));
        }
        d.write().insert(k, v);
        Ok(Value::Map(d))
    });
    reg(m, "unset", Arity::Exact(2), |a| {
        let Some(d) = map_arg(a, 0)? else { return Ok(Value::map(Map::new())) };
        let k = str_arg(a, 1)?;
        d.write().remove(k);
        Ok(Value::Map(d))
    });
    reg(m, "hasKey", Arity::Exact(2), |a| {
        Ok(Value::Bool(map_arg(a, 0)?.is_some_and(|d| d.read().contains_key(str_arg(a, 1).unwrap_or("")))))
    });
    reg(m, "pluck", Arity::AtLeast(1), |a| {
        let name = str_arg(a, 0)?;
        let mut out = Vec::new();
        for i in 1..a.len() {
            if let Some(v) = map_entries(a, i)?.get(name) {
                out.push(v.clone());
            }
        }
        Ok(Value::list(out))
    });
    reg(m, "dig", Arity::AtLeast(0), dig);
    reg_must(m, "merge", Arity::AtLeast(1), |a| merge(a, false));
    reg_must(m, "mergeOverwrite", Arity::AtLeast(1), |a| merge(a, true));
    reg(m, "keys", Arity::AtLeast(0), |a| {
        let mut out = Vec::new();
        for i in 0..a.len() {
            out.extend(map_entries(a, i)?.into_keys());
        }
        Ok(str_list(out))
    });
    reg(m, "pick", Arity::AtLeast(1), |a| {
        let d = map_entries(a, 0)?;
        let mut out = Map::new();
        for i in 1..a.len() {
            let k = str_arg(a, i)?;
            if let Some(v) = d.get(k) {
                out.insert(k.to_string(), v.clone());
            }
        }
        Ok(Value::map(out))
    });
    reg(m, "omit", Arity::AtLeast(1), |a| {
        let mut d = map_entries(a, 0)?;
        for i in 1..a.len() {
            d.remove(str_arg(a, i)?);
        }
        Ok(Value::map(d))
    });
    reg(m, "values", Arity::Exact(1), |a| Ok(Value::list(map_entries(a, 0)?.into_values().collect())));
}

#[cfg(test)]
mod tests {
    use super::super::test_util::check;

    #[test]
    fn cycles_are_refused() {
        let e = super::super::test_util::render(r#"{{ $d := dict }}{{ $_ := set $d "x" (list $d) }}"#).unwrap_err();
        assert!(e.ends_with("error calling set: a dict cannot contain itself"), "{e}");
    }

    #[test]
    fn dicts() {
        check(
            r#"{{ $d := dict "a" 1 "b" "x" }}{{ $d.a }} {{ get $d "b" }} {{ hasKey $d "c" }} {{ keys $d }}"#,
            "1 x false [a b]",
        );
        check(
            r#"{{ dig "a" "b" "none" (dict "a" (dict "b" 2)) }} {{ dig "a" "x" "none" (dict "a" (dict)) }}"#,
            "2 none",
        );
        check(
            r#"{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) }}"#,
            "map[a:1 b:3 n:map[x:1 y:2]]",
        );
        check(
            r#"{{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "n" (dict "x" 3)) }}"#,
            "map[a:2 n:map[x:3]]",
        );
        check(
            r#"{{ pick (dict "a" 1 "b" 2) "a" }} {{ omit (dict "a" 1 "b" 2) "a" }} {{ set (dict) "k" "v" }}"#,
            "map[a:1] map[b:2] map[k:v]",
        );
    }
}
