//! The template corpus: parsing the case files and running a case through weir-helm.
//!
//! A case file holds cases back to back:
//!
//! ```text
//! === case name
//! data: {"json": "on one line"}      (optional; default null)
//! option: missingkey=error           (optional)
//! exec: NAME                         (optional; ExecuteTemplate instead of Execute)
//! not-go119: why                     (optional; not checked against Go 1.19)
//! differs: why                       (optional; a known difference from the Go reference)
//! --- template
//! text, up to the next "--- " or "=== " line (the last newline is not part of it)
//! --- also NAME                      (optional, repeatable: t.New(NAME).Parse(text))
//! --- output | --- error
//! the expected output or error message
//! ```
//! Lines starting with `#` before the first case are comments.
//!
//! Files named `sprig*.txt` run with sprig's functions (`weir_helm::sprig::sprig_funcs`)
//! and are checked against Masterminds/sprig by tests/sprig_differential.rs; the others
//! run with [`test_funcs`] and are checked against Go's text/template alone.

#![allow(dead_code)]

pub mod go_reference;

use std::path::PathBuf;

use weir_helm::sprig::sprig_funcs;
use weir_helm::template::{Arity, FuncError, FuncMap, Function, MissingKey, Template, Value, sprint};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Case {
    pub name: String,
    #[serde(skip)]
    pub file: String,
    pub template: String,
    /// Raw JSON.
    pub data: Option<serde_json::Value>,
    pub also: Vec<Named>,
    pub exec: String,
    pub option: String,
    #[serde(skip)]
    pub not_go119: Option<String>,
    /// A known difference from the Go reference, not checked by the differential tests.
    #[serde(skip)]
    pub differs: Option<String>,
    #[serde(skip)]
    pub expect: Expect,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Named {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub enum Expect {
    #[default]
    Unset,
    Output(String),
    Error(String),
}

/// What running a case gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Output(String),
    Error(String),
}

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

pub fn load_corpus() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read corpus");
        let file = f.file_name().expect("name").to_string_lossy().into_owned();
        cases.extend(parse_cases(&file, &text));
    }
    cases
}

pub fn parse_cases(file: &str, text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut section: Option<(String, Vec<&str>)> = None;
    let flush = |cases: &mut Vec<Case>, section: &mut Option<(String, Vec<&str>)>| {
        let Some((kind, lines)) = section.take() else { return };
        let body = lines.join("\n");
        let case = cases.last_mut().expect("section before case");
        if kind == "template" {
            case.template = body;
        } else if let Some(name) = kind.strip_prefix("also ") {
            case.also.push(Named { name: name.to_string(), text: body });
        } else if kind == "output" {
            case.expect = Expect::Output(body);
        } else if kind == "error" {
            case.expect = Expect::Error(body);
        } else {
            panic!("{file}: unknown section {kind:?}");
        }
    };
    for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
        if let Some(name) = line.strip_prefix("=== ") {
            flush(&mut cases, &mut section);
            cases.push(Case {
                name: name.trim().to_string(),
                file: file.to_string(),
                template: String::new(),
                data: None,
                also: Vec::new(),
                exec: String::new(),
                option: String::new(),
                not_go119: None,
                differs: None,
                expect: Expect::Unset,
            });
            continue;
        }
        if let Some(kind) = line.strip_prefix("--- ") {
            flush(&mut cases, &mut section);
            section = Some((kind.trim().to_string(), Vec::new()));
            continue;
        }
        if let Some((_, lines)) = section.as_mut() {
            lines.push(line);
            continue;
        }
        let Some(case) = cases.last_mut() else {
            assert!(line.is_empty() || line.starts_with('#'), "{file}: stray line {line:?}");
            continue;
        };
        if let Some(d) = line.strip_prefix("data: ") {
            case.data = Some(serde_json::from_str(d).unwrap_or_else(|e| panic!("{}: bad data: {e}", case.name)));
        } else if let Some(o) = line.strip_prefix("option: ") {
            case.option = o.trim().to_string();
        } else if let Some(x) = line.strip_prefix("exec: ") {
            case.exec = x.trim().to_string();
        } else if let Some(r) = line.strip_prefix("not-go119: ") {
            case.not_go119 = Some(r.to_string());
        } else if let Some(r) = line.strip_prefix("differs: ") {
            case.differs = Some(r.to_string());
        } else if !line.is_empty() {
            panic!("{file}: {}: unknown header line {line:?}", case.name);
        }
    }
    flush(&mut cases, &mut section);
    cases
}

/// The functions the corpus uses beyond Go's built-ins (the Go runner defines the same).
pub fn test_funcs() -> FuncMap {
    let mut f = FuncMap::new();
    f.insert("fail".into(), Function::new(Arity::Exact(0), |_| Err(FuncError::call("boom"))));
    f.insert(
        "joiner".into(),
        Function::new(Arity::Exact(0), |_| {
            Ok(Value::Func(Function::new(Arity::AtLeast(0), |a| Ok(Value::String(sprint(a))))))
        }),
    );
    f.insert(
        "failer".into(),
        Function::new(Arity::Exact(0), |_| {
            Ok(Value::Func(Function::new(Arity::AtLeast(0), |_| Err(FuncError::call("inner boom")))))
        }),
    );
    f.insert("echo".into(), Function::new(Arity::AtLeast(0), |a| Ok(a.last().cloned().unwrap_or(Value::Nil))));
    f
}

/// Whether a case belongs to the sprig corpus.
pub fn is_sprig(case: &Case) -> bool {
    case.file.starts_with("sprig")
}

pub fn run_case(case: &Case) -> Outcome {
    let missing = match case.option.as_str() {
        "missingkey=error" => MissingKey::Error,
        "missingkey=zero" => MissingKey::Zero,
        _ => MissingKey::Default,
    };
    let funcs = if is_sprig(case) { sprig_funcs() } else { test_funcs() };
    let mut t = Template::new("t").funcs(funcs).with_missing_key(missing);
    if let Err(e) = t.parse(&case.template) {
        return Outcome::Error(e.to_string());
    }
    for a in &case.also {
        if let Err(e) = t.parse_named(&a.name, &a.text) {
            return Outcome::Error(e.to_string());
        }
    }
    let data = case.data.as_ref().map(Value::from_json).unwrap_or(Value::Nil);
    let r = if case.exec.is_empty() { t.execute(&data) } else { t.execute_template(&case.exec, &data) };
    match r {
        Ok(s) => Outcome::Output(s),
        Err(e) => Outcome::Error(e.to_string()),
    }
}
