//! Values as Helm coalesces them (`chartutil.CoalesceValues`): the user's values win,
//! maps merge deeply, a user `null` deletes the chart's key, each subchart's values sit
//! under its name (or alias) with the parent's `global` copied in, and dependency
//! `condition`s and `tags` decide which subcharts take part (`ProcessDependencies`).

use crate::chart::Chart;
use crate::template::{Map, Value};

/// A copy with no map shared with the original.
pub fn deep_copy(v: &Value) -> Value {
    match v {
        Value::Map(m) => Value::map(m.read().iter().map(|(k, v)| (k.clone(), deep_copy(v))).collect()),
        Value::List(l) => Value::list(l.iter().map(deep_copy).collect()),
        v => v.clone(),
    }
}

fn as_map(v: &Value) -> Option<Map> {
    match v {
        Value::Map(m) => Some(m.snapshot()),
        _ => None,
    }
}

/// The chart's values with `user` coalesced over them, subcharts included.
pub fn coalesce(chart: &Chart, user: &Value) -> Map {
    let dest = match deep_copy(user) {
        Value::Map(m) => m.snapshot(),
        _ => Map::new(),
    };
    coalesce_chart(chart, dest)
}

fn coalesce_chart(chart: &Chart, mut dest: Map) -> Map {
    if let Some(chart_values) = as_map(&chart.values) {
        coalesce_tables(&mut dest, &chart_values);
    }
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        let mut sub_vals = match dest.get(&name) {
            None | Some(Value::Nil) => Map::new(),
            Some(Value::Map(m)) => m.snapshot(),
            Some(_) => continue,
        };
        coalesce_globals(&mut sub_vals, &dest);
        dest.insert(name, Value::map(coalesce_chart(sub, sub_vals)));
    }
    dest
}

/// Fills `dst` from `src`: `dst` wins, maps merge, a `null` in `dst` removes the key.
fn coalesce_tables(dst: &mut Map, src: &Map) {
    for (k, sv) in src {
        match dst.get(k) {
            None => {
                dst.insert(k.clone(), deep_copy(sv));
            }
            Some(Value::Nil) => {
                dst.remove(k);
            }
            Some(Value::Map(dm)) => {
                if let Some(sm) = as_map(sv) {
                    let mut merged = dm.snapshot();
                    coalesce_tables(&mut merged, &sm);
                    dst.insert(k.clone(), Value::map(merged));
                }
            }
            Some(_) => {}
        }
    }
}

/// Copies the parent's `global` into the subchart's: the parent's entries win.
fn coalesce_globals(sub: &mut Map, parent: &Map) {
    let mut dg = sub.get("global").and_then(as_map).unwrap_or_default();
    let sg = parent.get("global").and_then(as_map).unwrap_or_default();
    for (k, v) in &sg {
        match (v, dg.get(k)) {
            (Value::Map(vm), Some(Value::Map(dm))) => {
                let mut merged = vm.snapshot();
                coalesce_tables(&mut merged, &dm.snapshot());
                dg.insert(k.clone(), Value::map(merged));
            }
            (Value::Map(_), Some(_)) => {}
            (_, Some(Value::Map(_))) => {}
            (v, _) => {
                dg.insert(k.clone(), deep_copy(v));
            }
        }
    }
    sub.insert("global".into(), Value::map(dg));
}

/// The chart with aliases applied, disabled subcharts removed and `import-values` merged
/// into the importing charts' values, as Helm's `ProcessDependenciesWithMerge` leaves it.
pub fn process_dependencies(chart: &Chart, user: &Value) -> Result<Chart, String> {
    let aliased = with_aliases(chart)?;
    let top = coalesce(&aliased, user);
    let mut enabled = enable(&aliased, &top, "");
    import_values(&mut enabled);
    Ok(enabled)
}

/// Helm's `processDependencyImportValues` (merge mode), deepest charts first: each
/// dependency's `import-values` copy tables of the child's values (defaults only, not the
/// user's) into the parent's values, where the parent's own values win. A string `NAME`
/// imports the child's `exports.NAME` table into the parent's root; `{child, parent}`
/// imports the child's table at path `child` to path `parent`. Missing tables (and scalars,
/// which Helm cannot import either) are skipped.
fn import_values(chart: &mut Chart) {
    for sub in &mut chart.dependencies {
        import_values(sub);
    }
    if chart.metadata.dependencies.iter().all(|d| d.import_values.is_empty()) {
        return;
    }
    let all = coalesce(chart, &Value::Nil);
    let mut imported = Map::new();
    for dep in &chart.metadata.dependencies {
        let name = if dep.alias.is_empty() { &dep.name } else { &dep.alias };
        for spec in &dep.import_values {
            let (child, parent) = match spec {
                Value::String(s) => (format!("exports.{s}"), ".".to_string()),
                Value::Map(m) => {
                    let m = m.read();
                    let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                    (text("child"), text("parent"))
                }
                _ => continue,
            };
            let Some(Value::Map(table)) = lookup_path(&all, &format!("{name}.{child}")) else { continue };
            merge_tables(&mut imported, &path_to_map(&parent, deep_copy(&Value::Map(table))));
        }
    }
    let mut values = all;
    merge_tables(&mut values, &imported);
    chart.values = Value::map(values);
}

/// Helm's `pathToMap`: `a.b` and a table give `{a: {b: table}}`; `.` gives the table.
fn path_to_map(path: &str, table: Value) -> Map {
    let mut value = table;
    if path != "." && !path.is_empty() {
        for key in path.rsplit('.') {
            value = Value::map(Map::from([(key.to_string(), value)]));
        }
    }
    match value {
        Value::Map(m) => m.snapshot(),
        _ => Map::new(),
    }
}

/// Helm's `MergeTables`: `dst` wins, maps merge, nils are kept.
fn merge_tables(dst: &mut Map, src: &Map) {
    for (k, sv) in src {
        match (dst.get(k), sv) {
            (None, _) => {
                dst.insert(k.clone(), deep_copy(sv));
            }
            (Some(Value::Map(dm)), Value::Map(sm)) => {
                let mut merged = dm.snapshot();
                merge_tables(&mut merged, &sm.snapshot());
                dst.insert(k.clone(), Value::map(merged));
            }
            _ => {}
        }
    }
}

/// Subcharts renamed by their dependency's alias; a chart listed twice under two aliases
/// appears twice.
fn with_aliases(chart: &Chart) -> Result<Chart, String> {
    let mut out = chart.clone();
    out.dependencies.clear();
    let mut used = vec![false; chart.dependencies.len()];
    for dep in &chart.metadata.dependencies {
        let Some(i) = chart.dependencies.iter().position(|c| c.name() == dep.name) else {
            return Err(format!("found in Chart.yaml, but missing in charts/ directory: {}", dep.name));
        };
        used[i] = true;
        let mut sub = with_aliases(&chart.dependencies[i])?;
        if !dep.alias.is_empty() {
            sub.metadata.name = dep.alias.clone();
        }
        out.dependencies.push(sub);
    }
    for (i, c) in chart.dependencies.iter().enumerate() {
        if !used[i] {
            out.dependencies.push(with_aliases(c)?);
        }
    }
    Ok(out)
}

/// `chart` has its aliases applied: listed dependencies come first, in their order.
fn enable(chart: &Chart, top: &Map, path: &str) -> Chart {
    let mut out = chart.clone();
    out.dependencies.clear();
    let listed: Vec<_> = chart.metadata.dependencies.iter().collect();
    for (i, sub) in chart.dependencies.iter().enumerate() {
        let dep = listed.get(i);
        let mut enabled = true;
        if let Some(dep) = dep {
            if !dep.tags.is_empty() {
                let tags = top.get("tags").and_then(as_map).unwrap_or_default();
                let states: Vec<bool> = dep
                    .tags
                    .iter()
                    .filter_map(|t| if let Some(Value::Bool(b)) = tags.get(t) { Some(*b) } else { None })
                    .collect();
                if states.contains(&true) {
                    enabled = true;
                } else if states.contains(&false) {
                    enabled = false;
                }
            }
            for cond in dep.condition.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                if let Some(Value::Bool(b)) = lookup_path(top, &format!("{path}{cond}")) {
                    enabled = b;
                    break;
                }
            }
        }
        if enabled {
            let next_path = format!("{path}{}.", sub.name());
            out.dependencies.push(enable(sub, top, &next_path));
        }
    }
    out
}

fn lookup_path(m: &Map, path: &str) -> Option<Value> {
    let mut parts = path.split('.');
    let mut cur = m.get(parts.next()?)?.clone();
    for p in parts {
        cur = match &cur {
            Value::Map(inner) => inner.read().get(p)?.clone(),
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{File, load_files};

    fn chart() -> Chart {
        let f = |n: &str, d: &str| File { name: n.into(), data: d.as_bytes().to_vec() };
        load_files(vec![
            f(
                "Chart.yaml",
                "apiVersion: v2\nname: p\nversion: 1.0.0\ndependencies:\n- name: s\n  version: 0.1.0\n  condition: db.enabled\n  alias: db\n",
            ),
            f("values.yaml", "a: {b: 1, c: 2}\nglobal: {g: 1}\ndb: {enabled: true}\n"),
            f("charts/s/Chart.yaml", "apiVersion: v2\nname: s\nversion: 0.1.0"),
            f("charts/s/values.yaml", "x: 1\nglobal: {g: 0, h: 2}\n"),
        ])
        .unwrap()
    }

    #[test]
    fn user_wins_and_null_deletes() {
        let user = Value::from_json(&serde_json::json!({"a": {"c": null, "d": 3}}));
        let c = process_dependencies(&chart(), &user).unwrap();
        let v = Value::map(coalesce(&c, &user));
        assert_eq!(
            crate::helm_funcs::to_json(&v),
            r#"{"a":{"b":1,"d":3},"db":{"enabled":true,"global":{"g":1,"h":2},"x":1},"global":{"g":1}}"#
        );
    }

    #[test]
    fn condition_disables() {
        let user = Value::from_json(&serde_json::json!({"db": {"enabled": false}}));
        let c = process_dependencies(&chart(), &user).unwrap();
        assert!(c.dependencies.is_empty());
    }
}
