//! Semantic versions as Masterminds/semver v3 reads them: `semver` (a version object with
//! `Major`, `Minor`, `Patch`, `Prerelease`, `Metadata`, `Original`, `String`, `Compare`,
//! `LessThan`, `GreaterThan`, `Equal`) and `semverCompare` (constraints with `=`, `!=`,
//! `>`, `<`, `>=`, `<=`, `~`, `^`, hyphen ranges, wildcards `x`/`X`/`*`, `,`/space for
//! AND and `||` for OR; prereleases match only constraints that name one).

use std::cmp::Ordering;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use super::{call_err, reg, str_arg};
use crate::template::{Arity, FuncError, FuncMap, Function, Object, Value};

const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

struct Res {
    version: Regex,
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

static RE: LazyLock<Option<Res>> = LazyLock::new(|| {
    Some(Res {
        version: Regex::new(
            r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$",
        )
        .ok()?,
        constraint: Regex::new(&format!(r"^\s*({OPS})\s*({CV})\s*$")).ok()?,
        range: Regex::new(&format!(r"\s*({CV})\s+-\s+({CV})\s*")).ok()?,
        find: Regex::new(&format!(r"({OPS})\s*({CV})")).ok()?,
        valid: Regex::new(&format!(r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$")).ok()?,
    })
});

fn res() -> Result<&'static Res, FuncError> {
    RE.as_ref().ok_or_else(|| call_err("semver: internal regex error"))
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
}

fn ident_ok(p: &str) -> bool {
    p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Version {
    pub(crate) fn parse(v: &str) -> Result<Version, String> {
        let re = res().map_err(|_| "Invalid Semantic Version".to_string())?;
        let caps = re.version.captures(v).ok_or("Invalid Semantic Version")?;
        let seg = |i: usize| -> Result<u64, String> {
            let s = caps.get(i).map(|m| m.as_str().trim_start_matches('.')).unwrap_or("");
            if s.is_empty() {
                return Ok(0);
            }
            s.parse::<u64>().map_err(|_| {
                format!("Error parsing version segment: strconv.ParseUint: parsing {s:?}: value out of range")
            })
        };
        let pre = caps.get(5).map(|m| m.as_str()).unwrap_or("").to_string();
        let metadata = caps.get(8).map(|m| m.as_str()).unwrap_or("").to_string();
        let version =
            Version { major: seg(1)?, minor: seg(2)?, patch: seg(3)?, pre, metadata, original: v.to_string() };
        for p in version.pre.split('.').filter(|_| !version.pre.is_empty()) {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                if p.len() > 1 && p.starts_with('0') {
                    return Err("Version segment starts with 0".into());
                }
            } else if !ident_ok(p) {
                return Err("Invalid Prerelease string".into());
            }
        }
        if !version.metadata.is_empty() && !version.metadata.split('.').all(ident_ok) {
            return Err("Invalid Metadata string".into());
        }
        Ok(version)
    }

    fn compare(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch)).then_with(|| {
            match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            }
        })
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let (ap, bp): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..ap.len().max(bp.len()) {
        let (s, o) = (ap.get(i).copied().unwrap_or(""), bp.get(i).copied().unwrap_or(""));
        if s == o {
            continue;
        }
        if s.is_empty() {
            return Ordering::Less;
        }
        if o.is_empty() {
            return Ordering::Greater;
        }
        return match (s.parse::<u64>(), o.parse::<u64>()) {
            (Err(_), Err(_)) => s.cmp(o),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Ok(x), Ok(y)) => {
                if x > y {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
        };
    }
    Ordering::Equal
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

struct Constraint {
    con: Version,
    op: String,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_constraint(c: &str) -> Result<Constraint, String> {
    let re = res().map_err(|_| "constraint Parser Error".to_string())?;
    let caps = re.constraint.captures(c).ok_or_else(|| format!("improper constraint: {c}"))?;
    let g = |i: usize| caps.get(i).map(|m| m.as_str()).unwrap_or("");
    let (major, minor, patch, pre) = (g(3), g(4), g(5), g(6));
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let ver = if is_x(major) || major.is_empty() {
        dirty = true;
        format!("0.0.0{pre}")
    } else if is_x(minor.trim_start_matches('.')) || minor.is_empty() {
        dirty = true;
        minor_dirty = true;
        format!("{major}.0.0{pre}")
    } else if is_x(patch.trim_start_matches('.')) || patch.is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{major}{minor}.0{pre}")
    } else {
        g(2).to_string()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint Parser Error".to_string())?;
    Ok(Constraint { con, op: g(1).to_string(), dirty, minor_dirty, patch_dirty })
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        let pre_blocked = !v.pre.is_empty() && c.pre.is_empty();
        match self.op.as_str() {
            "!=" => {
                if self.dirty {
                    if pre_blocked {
                        return false;
                    }
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.compare(c) != Ordering::Equal
            }
            _ if pre_blocked => false,
            ">" => {
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.compare(c) == Ordering::Greater
            }
            "<" => v.compare(c) == Ordering::Less,
            ">=" | "=>" => v.compare(c) != Ordering::Less,
            "<=" | "=<" => {
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                !(v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            "~" | "~>" => self.tilde(v),
            "^" => {
                if v.compare(c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
            _ => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    v.compare(c) == Ordering::Equal
                }
            }
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        v.major == c.major && (v.minor == c.minor || self.minor_dirty)
    }
}

/// A constraint set: OR of ANDs.
fn parse_constraints(c: &str) -> Result<Vec<Vec<Constraint>>, String> {
    let re = res().map_err(|e| format!("{e:?}"))?;
    let mut rewritten = c.to_string();
    for caps in re.range.captures_iter(c) {
        let (all, from, to) = (
            caps.get(0).map(|m| m.as_str()).unwrap_or(""),
            caps.get(1).map(|m| m.as_str()).unwrap_or(""),
            caps.get(11).map(|m| m.as_str()).unwrap_or(""),
        );
        rewritten = rewritten.replacen(all, &format!(">= {from}, <= {to}"), 1);
    }
    let mut ors = Vec::new();
    for part in rewritten.split("||") {
        if !re.valid.is_match(part) {
            return Err(format!("improper constraint: {part}"));
        }
        let mut found: Vec<&str> = re.find.find_iter(part).map(|m| m.as_str()).collect();
        if found.is_empty() {
            found.push(part);
        }
        ors.push(found.into_iter().map(parse_constraint).collect::<Result<Vec<_>, _>>()?);
    }
    Ok(ors)
}

pub(crate) fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let cs = parse_constraints(constraint)?;
    let v = Version::parse(version)?;
    Ok(cs.iter().any(|and| and.iter().all(|c| c.check(&v))))
}

/// `*semver.Version` in a template.
struct VersionObject(Version);

impl Object for VersionObject {
    fn type_name(&self) -> String {
        "*semver.Version".into()
    }

    fn field(&self, name: &str) -> Option<Value> {
        let v = &self.0;
        Some(match name {
            "Major" => Value::Int(v.major as i64),
            "Minor" => Value::Int(v.minor as i64),
            "Patch" => Value::Int(v.patch as i64),
            "Prerelease" => Value::String(v.pre.clone()),
            "Metadata" => Value::String(v.metadata.clone()),
            "Original" => Value::String(v.original.clone()),
            "String" => Value::String(v.to_string()),
            _ => return None,
        })
    }

    fn method(&self, name: &str) -> Option<Function> {
        let me = self.0.clone();
        let cmp = move |a: &[Value]| -> Result<Ordering, FuncError> {
            match a.first() {
                Some(Value::Object(o)) if o.type_name() == "*semver.Version" => {
                    let s = o.field("Original").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                    let other = Version::parse(&s).map_err(call_err)?;
                    Ok(me.compare(&other))
                }
                Some(v) => Err(FuncError::Exec(format!(
                    "wrong type for value; expected *semver.Version; got {}",
                    v.type_name()
                ))),
                None => Err(FuncError::Exec("missing argument".into())),
            }
        };
        let f = match name {
            "Compare" => Function::new(Arity::Exact(1), move |a| {
                Ok(Value::Int(match cmp(a)? {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                }))
            }),
            "LessThan" => Function::new(Arity::Exact(1), move |a| Ok(Value::Bool(cmp(a)? == Ordering::Less))),
            "GreaterThan" => Function::new(Arity::Exact(1), move |a| Ok(Value::Bool(cmp(a)? == Ordering::Greater))),
            "Equal" => Function::new(Arity::Exact(1), move |a| Ok(Value::Bool(cmp(a)? == Ordering::Equal))),
            _ => return None,
        };
        Some(f)
    }

    fn format(&self) -> String {
        self.0.to_string()
    }
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "semver", Arity::Exact(1), |a| {
        let v = Version::parse(str_arg(a, 0)?).map_err(call_err)?;
        Ok(Value::Object(Arc::new(VersionObject(v))))
    });
    reg(m, "semverCompare", Arity::Exact(2), |a| {
        Ok(Value::Bool(semver_compare(str_arg(a, 0)?, str_arg(a, 1)?).map_err(call_err)?))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints() {
        let yes = |c: &str, v: &str| assert_eq!(semver_compare(c, v), Ok(true), "{c} {v}");
        let no = |c: &str, v: &str| assert_eq!(semver_compare(c, v), Ok(false), "{c} {v}");
        yes("^1.2.3", "1.9.0");
        no("^1.2.3", "2.0.0");
        yes("~1.2.3", "1.2.9");
        no("~1.2.3", "1.3.0");
        yes(">=1.16.0-0", "1.20.0-gke.1");
        no(">=1.16.0", "1.20.0-gke.1");
        yes("1.2 - 1.4.5", "1.4.5");
        yes("<1.0 || >=2.0", "2.1.0");
        yes("1.x", "1.9.9");
        yes(">= 1.2, < 3.0.0", "2.0.0");
        assert!(semver_compare("nope", "1.0.0").is_err());
        assert!(semver_compare("1.0", "x").is_err());
    }
}
