//! Go's text/template in pure Rust, exact to Go's behaviour as Helm relies on it.
//!
//! ```
//! use weir_helm::template::{Template, Value};
//! let mut t = Template::new("t");
//! t.parse("{{ range $k, $v := . }}{{ $k }}={{ $v }} {{ end }}").unwrap();
//! let data = Value::from_json(&serde_json::json!({"b": 2, "a": 1e6}));
//! assert_eq!(t.execute(&data).unwrap(), "a=1e+06 b=2 ");
//! ```
//!
//! The pieces, in the order text flows through them: `lexer` (tokens, trim markers,
//! comments), `parser` (trees, Go's parse-time checks), `exec` (walking a tree with data),
//! `funcs` (Go's built-ins and the function registry), `format` (Go's `fmt` verbs),
//! `value` (the dynamic values), `literal` (Go's literal syntax), `error` (Go's messages).
//!
//! Reference behaviour is Go's, checked by `tests/differential.rs` against Go itself.
//!
//! # Adding sprig and Helm's functions
//! - A function is a [`Function`]: an [`Arity`] (checked before the call, with Go's
//!   "wrong number of args" message) and a closure over `&[Value]`. Register them with
//!   [`Template::funcs`] *before* parsing: the parser rejects unknown names as Go does.
//!   Later registrations replace earlier ones and shadow Go's built-ins of the same name.
//! - [`Function::with_params`] declares Go parameter types ([`Param`]): the executor then
//!   checks each argument as Go's text/template does for a `func(string, int)`, with
//!   Go's messages at the argument's position; undeclared parameters are `interface{}`.
//! - Maps are shared references ([`MapRef`]), as Go's maps are: a function may change
//!   one in place (sprig's `set`, `merge`) and every holder sees the change. Read with
//!   `read()`, change with `write()`, and never hold a guard across a template call.
//! - Arguments arrive as Go's `interface{}` would see them: a missing key is `Value::Nil`.
//!   Numbers from values files are `Value::Float` (Helm decodes YAML through JSON);
//!   template literals and `len` give `Value::Int` (Go's `int`).
//! - Errors: [`FuncError::Call`] is printed as `error calling NAME: MSG` (a Go function's
//!   error result, e.g. sprig's `fail`, Helm's `required`); [`FuncError::Exec`] is printed
//!   as the message alone (Go's own argument checks: `wrong type for value; expected
//!   string; got float64`); [`FuncError::Template`] wraps a nested execution's error
//!   (Helm's `include`/`tpl` report `error calling include: template: …`).
//! - [`Function::with_context`] gives a [`Context`]: `execute_template` runs a named
//!   template of the current set (Helm's `include`); cloning `template()`, then
//!   `parse_named` and `execute_in` on the clone, is Helm's `tpl`. Depth is shared, so
//!   include recursion stops at [`MAX_EXEC_DEPTH`] instead of overflowing the stack.
//! - Helm's objects with methods (`.Files.Get`, `.Capabilities.APIVersions.Has`) are an
//!   [`Object`]: `field` for `.Name`, `method` for `.Name arg…`.
//! - `Value` is `Serialize`/`Deserialize` (integral floats serialise as integers, as Go's
//!   encoding/json writes them) for `toYaml`/`toJson`/`fromYaml` and values files.
//!
//! # Not supported (yet)
//! - Complex number literals (`1i`, `1+2i`): a parse error here; Go prints `(0+1i)`.
//! - Go's sized integer types: everything integral is `int` (`%T` of `index "abc" 0` is
//!   `int`, Go says `uint8`; Helm's `--set` ints are `int64` in Go).
//! - `%x`/`%b` on floats (hex/binary float formats), `%p`, `%#v` of Go structs.
//! - Custom delimiters (`Delims`), `html/template` escaping, range over functions and
//!   channels (Go 1.23).
//! - Depth limits differ from Go: template calls stop at [`MAX_EXEC_DEPTH`] (Go: 100000)
//!   and control structures/parentheses nest at most 1000 deep (Go: no limit).

mod ast;
mod error;
mod exec;
mod format;
mod funcs;
mod lexer;
mod literal;
mod parser;
mod serde_impl;
mod value;

use std::collections::HashMap;
use std::sync::Arc;

pub use ast::Tree;
pub use error::{Error, FuncError};
pub use exec::{Context, MAX_EXEC_DEPTH, MissingKey};
pub use format::{quote, sprint, sprintf, sprintln};
pub use funcs::{Arity, Builtin, FuncMap, Function, Param, escape_html, escape_js, escape_query};
pub use value::{Map, MapRef, Object, Val, Value};

/// A set of named templates sharing functions and options, as Go's `*template.Template`
/// with its associated templates. Cloning is cheap (trees are shared).
#[derive(Clone)]
pub struct Template {
    name: String,
    trees: HashMap<String, Arc<Tree>>,
    funcs: Arc<FuncMap>,
    missing_key: MissingKey,
}

impl Template {
    /// An empty set whose main template is `name`.
    pub fn new(name: impl Into<String>) -> Template {
        Template {
            name: name.into(),
            trees: HashMap::new(),
            funcs: Arc::new(FuncMap::new()),
            missing_key: MissingKey::Default,
        }
    }

    /// Adds functions (later ones replace earlier ones and Go's built-ins of the same name).
    /// Call before parsing: the parser rejects unknown function names.
    pub fn funcs(mut self, funcs: FuncMap) -> Template {
        Arc::make_mut(&mut self.funcs).extend(funcs);
        self
    }

    /// Sets what a missing map key yields.
    pub fn missing_key(&self) -> MissingKey {
        self.missing_key
    }

    pub fn with_missing_key(mut self, missing_key: MissingKey) -> Template {
        self.missing_key = missing_key;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn funcs_map(&self) -> &FuncMap {
        &self.funcs
    }

    pub(crate) fn tree(&self, name: &str) -> Option<&Tree> {
        self.trees.get(name).map(|t| &**t)
    }

    /// Whether a function name is known to the parser.
    pub fn has_function(&self, name: &str) -> bool {
        self.funcs.contains_key(name) || Builtin::lookup(name).is_some()
    }

    /// Parses `text` as the main template (Go's `t.Parse`).
    pub fn parse(&mut self, text: &str) -> Result<&mut Template, Error> {
        let name = self.name.clone();
        self.parse_named(&name, text)?;
        Ok(self)
    }

    /// Parses `text` as template `name` of this set (Go's `t.New(name).Parse(text)`),
    /// adding its `define`s and `block`s. A definition replaces an earlier one of the
    /// same name unless it is empty.
    pub fn parse_named(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let trees = {
            let has = |n: &str| self.has_function(n);
            exec::with_big_stack(|| parser::parse(name, text, &has))?
        };
        for tree in trees {
            // Go's `associate`: an empty body never replaces an existing template.
            if tree.is_empty() && self.trees.contains_key(&tree.name) {
                continue;
            }
            self.trees.insert(tree.name.clone(), Arc::new(tree));
        }
        Ok(())
    }

    /// Whether a template by that name is defined.
    pub fn lookup(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The names of the defined templates, sorted.
    pub fn template_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.trees.keys().cloned().collect();
        names.sort();
        names
    }

    /// Executes the main template with `data` as dot.
    pub fn execute(&self, data: &Value) -> Result<String, Error> {
        if !self.trees.contains_key(&self.name) {
            return Err(Error::Exec(format!(
                "template: {}: {} is an incomplete or empty template",
                self.name,
                quote(&self.name, false)
            )));
        }
        self.execute_template(&self.name.clone(), data)
    }

    /// Executes template `name` of this set (Go's `ExecuteTemplate`).
    pub fn execute_template(&self, name: &str, data: &Value) -> Result<String, Error> {
        exec::with_big_stack(|| exec::execute_at_depth(self, name, data, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, data: serde_json::Value) -> Result<String, Error> {
        let mut t = Template::new("t");
        t.parse(text)?;
        t.execute(&Value::from_json(&data))
    }

    #[test]
    fn template_is_send_and_sync() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Template>();
        check::<Value>();
    }

    #[test]
    fn basic() {
        assert_eq!(run("{{ .a }}-{{ .b }}", serde_json::json!({"a": 1})).unwrap(), "1-<no value>");
    }

    #[test]
    fn nil_pointer_error() {
        let e = run("{{ .a.b }}", serde_json::json!({"a": null})).unwrap_err();
        assert_eq!(e.to_string(), r#"template: t:1:5: executing "t" at <.a.b>: nil pointer evaluating interface {}.b"#);
    }

    #[test]
    fn later_definitions_replace_earlier() {
        let mut t = Template::new("t");
        t.parse(r#"{{define "x"}}1{{end}}{{template "x"}}"#).unwrap();
        t.parse_named("other", r#"{{define "x"}}2{{end}}"#).unwrap();
        assert_eq!(t.execute(&Value::Nil).unwrap(), "2");
        t.parse_named("other2", r#"{{define "x"}}{{end}}"#).unwrap();
        assert_eq!(t.execute(&Value::Nil).unwrap(), "2");
    }

    #[test]
    fn custom_functions_and_context() {
        let mut funcs = FuncMap::new();
        funcs.insert(
            "upper".into(),
            Function::new(Arity::Exact(1), |a| Ok(Value::String(a[0].to_string().to_uppercase()))),
        );
        funcs.insert(
            "include".into(),
            Function::with_context(Arity::Exact(2), |ctx, a| {
                let name = a[0].as_str().unwrap_or_default().to_string();
                ctx.execute_template(&name, &a[1]).map(Value::String).map_err(FuncError::from)
            }),
        );
        let mut t = Template::new("t").funcs(funcs);
        t.parse(r#"{{define "n"}}[{{.}}]{{end}}{{ include "n" .a | upper }}"#).unwrap();
        assert_eq!(t.execute(&Value::from_json(&serde_json::json!({"a": "x"}))).unwrap(), "[X]");
    }

    #[test]
    fn tpl_parses_into_a_copy_of_the_set() {
        let mut funcs = FuncMap::new();
        funcs.insert(
            "tpl".into(),
            Function::with_context(Arity::Exact(2), |ctx, a| {
                let mut set = ctx.template().clone();
                set.parse_named("tpl", a[0].as_str().unwrap_or_default())?;
                ctx.execute_in(&set, "tpl", &a[1]).map(Value::String).map_err(FuncError::from)
            }),
        );
        let mut t = Template::new("t").funcs(funcs);
        t.parse(r#"{{define "h"}}<{{.}}>{{end}}{{ tpl .text . }}"#).unwrap();
        let data = Value::from_json(&serde_json::json!({"text": "{{ template \"h\" .name }}", "name": "n"}));
        assert_eq!(t.execute(&data).unwrap(), "<n>");
        assert!(!t.lookup("tpl"), "tpl must not change the original set");
    }

    #[test]
    fn panicking_function_is_an_error() {
        let mut funcs = FuncMap::new();
        #[allow(clippy::panic)]
        funcs.insert("boom".into(), Function::new(Arity::Exact(0), |_| panic!("kaboom")));
        let mut t = Template::new("t").funcs(funcs);
        t.parse("{{ boom }}").unwrap();
        let e = t.execute(&Value::Nil).unwrap_err();
        assert_eq!(e.to_string(), r#"template: t:1:3: executing "t" at <boom>: error calling boom: kaboom"#);
    }

    #[test]
    fn deep_recursion_is_an_error() {
        let e = run(r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#, serde_json::json!(1)).unwrap_err();
        assert!(e.to_string().contains("exceeded maximum template depth"), "{e}");
    }
}
