//! Lists: `list`, `tuple`, `first`, `rest`, `last`, `initial`, `append`/`push`, `prepend`,
//! `concat`, `reverse`, `uniq`, `without`, `has`, `slice`, `chunk` (and `must*` variants).

use std::sync::Arc;

use super::{NIL_DEREF, call_err, int_arg, kind_name, reg, reg_must, to_i64};
use crate::template::{Arity, FuncError, FuncMap, Value};

/// The list argument of a sprig list function, or sprig's panic/error for anything else.
fn list_of<'a>(v: &'a Value, what: &str) -> Result<&'a Arc<Vec<Value>>, FuncError> {
    match v {
        Value::List(l) => Ok(l),
        Value::Nil => Err(call_err(NIL_DEREF)),
        v => Err(call_err(format!("Cannot {what} type {}", kind_name(v)))),
    }
}

fn unique(l: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(l.len());
    for v in l {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

pub(super) fn register(m: &mut FuncMap) {
    for name in ["list", "tuple"] {
        reg(m, name, Arity::AtLeast(0), |a| Ok(Value::list(a.to_vec())));
    }
    reg_must(m, "first", Arity::Exact(1), |a| {
        Ok(list_of(&a[0], "find first on")?.first().cloned().unwrap_or(Value::Nil))
    });
    reg_must(m, "last", Arity::Exact(1), |a| Ok(list_of(&a[0], "find last on")?.last().cloned().unwrap_or(Value::Nil)));
    reg_must(m, "rest", Arity::Exact(1), |a| {
        let l = list_of(&a[0], "find rest on")?;
        Ok(Value::list(l.iter().skip(1).cloned().collect()))
    });
    reg_must(m, "initial", Arity::Exact(1), |a| {
        let l = list_of(&a[0], "find initial on")?;
        Ok(Value::list(l[..l.len().saturating_sub(1)].to_vec()))
    });
    for name in ["append", "push"] {
        reg_must(m, name, Arity::Exact(2), |a| {
            let mut l = list_of(&a[0], "push on")?.to_vec();
            l.push(a[1].clone());
            Ok(Value::list(l))
        });
    }
    reg_must(m, "prepend", Arity::Exact(2), |a| {
        let l = list_of(&a[0], "prepend on")?;
        let mut out = Vec::with_capacity(l.len() + 1);
        out.push(a[1].clone());
        out.extend(l.iter().cloned());
        Ok(Value::list(out))
    });
    reg(m, "concat", Arity::AtLeast(0), |a| {
        let mut out = Vec::new();
        for v in a {
            match v {
                Value::List(l) => out.extend(l.iter().cloned()),
                Value::Nil => return Err(call_err(NIL_DEREF)),
                v => return Err(call_err(format!("Cannot concat type {} as list", kind_name(v)))),
            }
        }
        Ok(Value::list(out))
    });
    reg_must(m, "reverse", Arity::Exact(1), |a| {
        Ok(Value::list(list_of(&a[0], "find reverse on")?.iter().rev().cloned().collect()))
    });
    reg_must(m, "uniq", Arity::Exact(1), |a| Ok(Value::list(unique(list_of(&a[0], "find uniq on")?))));
    reg_must(m, "without", Arity::AtLeast(1), |a| {
        let l = list_of(&a[0], "find without on")?;
        Ok(Value::list(l.iter().filter(|v| !a[1..].contains(v)).cloned().collect()))
    });
    reg_must(m, "has", Arity::Exact(2), |a| match &a[1] {
        Value::Nil => Ok(Value::Bool(false)),
        h => Ok(Value::Bool(list_of(h, "find has on")?.contains(&a[0]))),
    });
    reg_must(m, "slice", Arity::AtLeast(1), |a| {
        let l = match &a[0] {
            Value::List(l) => l,
            Value::Nil => return Err(call_err(NIL_DEREF)),
            v => return Err(call_err(format!("list should be type of slice or array but {}", kind_name(v)))),
        };
        if l.is_empty() {
            return Ok(Value::Nil);
        }
        let start = a.get(1).map(to_i64).unwrap_or(0);
        let end = a.get(2).map(to_i64).unwrap_or(l.len() as i64);
        if start < 0 || end < start || end as usize > l.len() {
            return Err(call_err("reflect.Value.Slice: slice index out of bounds"));
        }
        Ok(Value::list(l[start as usize..end as usize].to_vec()))
    });
    reg_must(m, "chunk", Arity::Exact(2), |a| {
        let size = int_arg(a, 0)?;
        let l = list_of(&a[1], "chunk")?;
        if l.is_empty() {
            return Ok(Value::list(Vec::new()));
        }
        if size <= 0 {
            return Err(call_err("runtime error: makeslice: len out of range"));
        }
        Ok(Value::list(l.chunks(size as usize).map(|c| Value::list(c.to_vec())).collect()))
    });
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{check, render};

    #[test]
    fn lists() {
        check(
            r#"{{ first (list 1 2) }} {{ rest (list 1 2 3) }} {{ last (list 1 2) }} {{ initial (list 1 2 3) }}"#,
            "1 [2 3] 2 [1 2]",
        );
        check(
            r#"{{ append (list 1) 2 }} {{ prepend (list 1) 0 }} {{ concat (list 1) (list 2 3) }}"#,
            "[1 2] [0 1] [1 2 3]",
        );
        check(
            r#"{{ uniq (list 1 1 2) }} {{ without (list 1 2 3) 2 }} {{ has 2 (list 1 2) }} {{ slice (list 1 2 3) 1 }}"#,
            "[1 2] [1 3] true [2 3]",
        );
        check(r#"{{ chunk 2 (list 1 2 3) }} {{ reverse (list 1 2) }}"#, "[[1 2] [3]] [2 1]");
        assert!(
            render(r#"{{ first "x" }}"#)
                .unwrap_err()
                .ends_with("error calling first: Cannot find first on type string")
        );
    }
}
