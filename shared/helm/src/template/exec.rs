//! Execution: walks a tree with a data value and writes the output, with Go's rules for
//! fields on maps, missing keys, pipelines, variables, `range`, templates and errors.

use super::Template;
use super::ast::{Arg, Branch, Command, Node, Number, Pipe, Tree};
use super::error::{Error, FuncError};
use super::format;
use super::funcs::{Arity, Builtin, Function, Param, values};
use super::value::{Val, Value};

/// How deep `{{template}}` calls (and Helm's `include`) may nest. Go allows 100000 on a
/// growable stack; ours is fixed, so the limit is lower and execution gets a large stack.
pub const MAX_EXEC_DEPTH: usize = 10_000;

/// Stack for the thread that parses and executes templates.
const STACK_SIZE: usize = 512 * 1024 * 1024;

/// What a missing map key yields (Go's `missingkey` option).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MissingKey {
    /// `<no value>` when printed (Go's default, `missingkey=default`/`invalid`).
    #[default]
    Default,
    /// The zero value: nil for Helm's maps (`missingkey=zero`).
    Zero,
    /// An error (`missingkey=error`, Helm's strict mode).
    Error,
}

/// Runs `f` on a thread with a large stack, so deep templates end in an error rather
/// than a stack overflow. Runs it on the current thread if no thread can be started.
pub(crate) fn with_big_stack<T: Send, F: FnOnce() -> T + Send>(f: F) -> T {
    let cell = std::sync::Mutex::new(Some(f));
    let ran = std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn_scoped(s, || cell.lock().ok().and_then(|mut f| f.take()).map(|f| f()));
        match spawned {
            Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(_) => None,
        }
    });
    match ran {
        Some(v) => v,
        None => match cell.into_inner() {
            Ok(Some(f)) => f(),
            // The thread took the closure and then returned nothing: it cannot happen,
            // since a taken closure always runs to a value or unwinds.
            _ => unreachable!("template thread lost its work"),
        },
    }
}

/// Access to the running execution for functions such as Helm's `include` and `tpl`.
pub struct Context<'a> {
    tmpl: &'a Template,
    depth: usize,
}

impl<'a> Context<'a> {
    /// The template set being executed.
    pub fn template(&self) -> &'a Template {
        self.tmpl
    }

    /// How many template calls deep this call is.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Executes a named template of the current set with `data` and returns its output.
    pub fn execute_template(&mut self, name: &str, data: &Value) -> Result<String, Error> {
        let tmpl = self.tmpl;
        self.execute_in(tmpl, name, data)
    }

    /// Executes a named template of another set (Helm's `tpl` parses into a copy).
    pub fn execute_in(&mut self, tmpl: &Template, name: &str, data: &Value) -> Result<String, Error> {
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(Error::Exec(format!("template: {name}: exceeded maximum template depth ({MAX_EXEC_DEPTH})")));
        }
        execute_at_depth(tmpl, name, data, self.depth + 1)
    }
}

/// Executes template `name` of `tmpl` on the current thread.
pub(crate) fn execute_at_depth(tmpl: &Template, name: &str, data: &Value, depth: usize) -> Result<String, Error> {
    let Some(tree) = tmpl.tree(name) else {
        return Err(Error::NoTemplate { name: name.to_string(), parent: tmpl.name().to_string() });
    };
    let dot = match data {
        Value::Nil => Val::Invalid,
        v => Val::Plain(v.clone()),
    };
    let mut s = State { tmpl, tree, vars: vec![("$".into(), dot.clone())], depth, out: String::new(), at: At::None };
    s.walk_list(&dot, &tree.root)?;
    Ok(s.out)
}

/// The node an error is reported at.
#[derive(Clone, Copy)]
enum At<'a> {
    None,
    Node(&'a Node),
    Pipe(&'a Pipe),
    Cmd(&'a Command),
    Arg(&'a Arg),
}

enum Flow {
    Normal,
    Break,
    Continue,
}

type R<T> = Result<T, Error>;

struct State<'a> {
    tmpl: &'a Template,
    tree: &'a Tree,
    vars: Vec<(String, Val)>,
    depth: usize,
    out: String,
    at: At<'a>,
}

impl<'a> State<'a> {
    fn errorf(&self, msg: impl std::fmt::Display) -> Error {
        let (pos, ctx) = match self.at {
            At::None => return Error::Exec(format!("template: {}: {msg}", self.tree.name)),
            At::Node(n) => (node_pos(n), n.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Arg(a) => (a.pos(), a.to_string()),
        };
        Error::Exec(format!(
            "template: {}: executing {} at <{}>: {msg}",
            self.tree.location(pos),
            format::quote(&self.tree.name, false),
            ctx
        ))
    }

    fn walk_list(&mut self, dot: &Val, list: &'a [Node]) -> R<Flow> {
        for node in list {
            match self.walk(dot, node)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val, node: &'a Node) -> R<Flow> {
        self.at = At::Node(node);
        match node {
            Node::Text { text, .. } => self.out.push_str(text),
            Node::Action { pipe, .. } => {
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    self.print_value(node, &val)?;
                }
            }
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Continue { .. } => return Ok(Flow::Continue),
            Node::If(b) => return self.walk_if_or_with(dot, b, false),
            Node::With(b) => return self.walk_if_or_with(dot, b, true),
            Node::Range(b) => return self.walk_range(dot, b),
            Node::Template { name, pipe, .. } => self.walk_template(dot, node, name, pipe.as_ref())?,
        }
        Ok(Flow::Normal)
    }

    fn print_value(&mut self, node: &Node, val: &Val) -> R<()> {
        match val.value() {
            None => self.out.push_str("<no value>"),
            Some(Value::Func(f)) => {
                return Err(self.errorf(format!("can't print {node} of type {}", f.type_name())));
            }
            Some(v) => self.out.push_str(&format::sprint(std::slice::from_ref(v))),
        }
        Ok(())
    }

    fn walk_if_or_with(&mut self, dot: &Val, b: &'a Branch, with: bool) -> R<Flow> {
        let mark = self.vars.len();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            if val.is_true() {
                if with { self.walk_list(&val, &b.list) } else { self.walk_list(dot, &b.list) }
            } else if let Some(else_list) = &b.else_list {
                self.walk_list(dot, else_list)
            } else {
                Ok(Flow::Normal)
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, dot: &Val, b: &'a Branch) -> R<Flow> {
        let mark = self.vars.len();
        let r = self.walk_range_inner(dot, b);
        self.vars.truncate(mark);
        r
    }

    fn walk_range_inner(&mut self, dot: &Val, b: &'a Branch) -> R<Flow> {
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let mut items: Vec<(Val, Val)> = Vec::new();
        match val.value() {
            None => {}
            Some(Value::List(l)) => {
                items = l
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (Val::Plain(Value::Int(i as i64)), Val::Elem(v.clone())))
                    .collect();
            }
            Some(Value::Map(m)) => {
                items = m
                    .read()
                    .iter()
                    .map(|(k, v)| (Val::Plain(Value::String(k.clone())), Val::Elem(v.clone())))
                    .collect();
            }
            Some(Value::Int(n)) => {
                // Go 1.22: range over an integer.
                if b.pipe.decl.len() > 1 {
                    return Err(self.errorf(format!("can't use {n} to iterate over more than one variable")));
                }
                items = (0..*n).map(|i| (Val::Plain(Value::Int(i)), Val::Plain(Value::Int(i)))).collect();
            }
            Some(v) => {
                return Err(
                    self.errorf(format!("range can't iterate over {}", format::sprint(std::slice::from_ref(v))))
                );
            }
        }
        if items.is_empty() {
            if let Some(else_list) = &b.else_list {
                return self.walk_list(dot, else_list);
            }
            return Ok(Flow::Normal);
        }
        for (index, elem) in items {
            let decl = &b.pipe.decl;
            if !decl.is_empty() {
                if b.pipe.is_assign {
                    if decl.len() > 1 {
                        self.set_var(&decl[0], index.clone())?;
                        self.set_var(&decl[1], elem.clone())?;
                    } else {
                        self.set_var(&decl[0], elem.clone())?;
                    }
                } else {
                    let n = self.vars.len();
                    self.vars[n - 1].1 = elem.clone();
                    if decl.len() > 1 {
                        self.vars[n - 2].1 = index.clone();
                    }
                }
            }
            let mark = self.vars.len();
            let flow = self.walk_list(&elem, &b.list);
            self.vars.truncate(mark);
            match flow? {
                Flow::Break => break,
                Flow::Continue | Flow::Normal => {}
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_template(&mut self, dot: &Val, node: &'a Node, name: &str, pipe: Option<&'a Pipe>) -> R<()> {
        self.at = At::Node(node);
        let Some(tree) = self.tmpl.tree(name) else {
            return Err(self.errorf(format!("template {} not defined", format::quote(name, false))));
        };
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.errorf(format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})")));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Val::Invalid,
        };
        let mut sub = State {
            tmpl: self.tmpl,
            tree,
            vars: vec![("$".into(), new_dot.clone())],
            depth: self.depth + 1,
            out: std::mem::take(&mut self.out),
            at: At::None,
        };
        let r = sub.walk_list(&new_dot, &tree.root);
        self.out = std::mem::take(&mut sub.out);
        r.map(|_| ())
    }

    fn set_var(&mut self, name: &str, val: Val) -> R<()> {
        for (n, v) in self.vars.iter_mut().rev() {
            if n == name {
                *v = val;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn var_value(&self, name: &str) -> R<Val> {
        for (n, v) in self.vars.iter().rev() {
            if n == name {
                return Ok(v.clone());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn eval_pipeline(&mut self, dot: &Val, pipe: &'a Pipe) -> R<Val> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Val> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            value = Some(v.unwrap_iface());
        }
        let value = value.unwrap_or(Val::Invalid);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], fin: &Option<Val>) -> R<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val, cmd: &'a Command, fin: Option<Val>) -> R<Val> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at = At::Arg(first);
                return self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args, fin);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, &cmd.args, fin),
            Arg::Identifier { name, .. } => return self.eval_function(dot, first, name, Some(cmd), &cmd.args, fin),
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { .. } => return self.eval_variable(dot, first, &cmd.args, fin),
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool { value, .. } => Ok(Val::Plain(Value::Bool(*value))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.errorf("nil is not a command")),
            Arg::Number { .. } => self.ideal_constant(first),
            Arg::String { value, .. } => Ok(Val::Plain(Value::String(value.clone()))),
            _ => Err(self.errorf(format!("can't evaluate command {}", format::quote(&first.to_string(), false)))),
        }
    }

    fn ideal_constant(&mut self, arg: &'a Arg) -> R<Val> {
        self.at = At::Arg(arg);
        match arg {
            Arg::Number { value: Number::Int(i), .. } => Ok(Val::Plain(Value::Int(*i))),
            Arg::Number { value: Number::Float(f), .. } => Ok(Val::Plain(Value::Float(*f))),
            Arg::Number { text, value: Number::Overflow, .. } => Err(self.errorf(format!("{text} overflows int"))),
            _ => Ok(Val::Invalid),
        }
    }

    fn eval_chain(&mut self, dot: &Val, chain: &'a Arg, args: &'a [Arg], fin: Option<Val>) -> R<Val> {
        self.at = At::Arg(chain);
        let Arg::Chain { node, fields, .. } = chain else { return Ok(Val::Invalid) };
        if let Arg::Nil { .. } = **node {
            return Err(self.errorf(format!("indirection through explicit nil in {chain}")));
        }
        let receiver = self.eval_arg(dot, node)?;
        self.eval_field_chain(dot, receiver, chain, fields, args, fin)
    }

    fn eval_variable(&mut self, dot: &Val, var: &'a Arg, args: &'a [Arg], fin: Option<Val>) -> R<Val> {
        self.at = At::Arg(var);
        let Arg::Variable { idents, .. } = var else { return Ok(Val::Invalid) };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, var, &idents[1..], args, fin)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val,
        mut receiver: Val,
        node: &'a Arg,
        idents: &[String],
        args: &'a [Arg],
        fin: Option<Val>,
    ) -> R<Val> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            receiver = self.eval_field(dot, ident, node, &[], None, receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, fin, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Val,
        name: &str,
        node: &'a Arg,
        args: &'a [Arg],
        fin: Option<Val>,
        receiver: Val,
    ) -> R<Val> {
        let Some(value) = receiver.value() else {
            if self.tmpl.missing_key() == MissingKey::Error {
                return Err(self.errorf(format!("nil data; no entry for key {}", format::quote(name, false))));
            }
            return Ok(Val::Invalid);
        };
        let typ = receiver.type_name();
        let has_args = args.len() > 1 || fin.is_some();
        match value {
            Value::Nil => Err(self.errorf(format!("nil pointer evaluating {typ}.{name}"))),
            Value::Object(o) => {
                if let Some(method) = o.method(name) {
                    return self.eval_call(dot, Callee::Func(&method), node_as_at(node), name, args, fin);
                }
                match o.field(name) {
                    Some(v) if !has_args => Ok(Val::Plain(v)),
                    Some(_) => Err(self.errorf(format!("{name} has arguments but cannot be invoked as function"))),
                    None => Err(self.errorf(format!("can't evaluate field {name} in type {typ}"))),
                }
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                let found = m.read().get(name).cloned();
                match found {
                    Some(v) => Ok(Val::Elem(v)),
                    None => match self.tmpl.missing_key() {
                        MissingKey::Default => Ok(Val::Invalid),
                        MissingKey::Zero => Ok(Val::Elem(Value::Nil)),
                        MissingKey::Error => {
                            Err(self.errorf(format!("map has no entry for key {}", format::quote(name, false))))
                        }
                    },
                }
            }
            _ => Err(self.errorf(format!("can't evaluate field {name} in type {typ}"))),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Val,
        ident: &'a Arg,
        name: &str,
        cmd: Option<&'a Command>,
        args: &'a [Arg],
        fin: Option<Val>,
    ) -> R<Val> {
        self.at = At::Arg(ident);
        let at = cmd.map_or(At::Arg(ident), At::Cmd);
        if let Some(f) = self.tmpl.funcs_map().get(name) {
            let f = f.clone();
            return self.eval_call(dot, Callee::Func(&f), at, name, args, fin);
        }
        match Builtin::lookup(name) {
            Some(b) => self.eval_call(dot, Callee::Builtin(b), at, name, args, fin),
            None => Err(self.errorf(format!("{} is not a defined function", format::quote(name, false)))),
        }
    }

    /// Calls a function; `args[0]` is the function's own node and is not passed.
    fn eval_call(
        &mut self,
        dot: &Val,
        callee: Callee<'_>,
        at: At<'a>,
        name: &str,
        args: &'a [Arg],
        fin: Option<Val>,
    ) -> R<Val> {
        let args = args.get(1..).unwrap_or(&[]);
        let n = args.len() + usize::from(fin.is_some());
        let arity_err = match callee {
            Callee::Func(f) => f.check_arity(name, n),
            Callee::Builtin(b) => b.check_arity(name, n),
        };
        if let Some(msg) = arity_err {
            return Err(self.errorf(msg));
        }
        if let Callee::Builtin(b @ (Builtin::And | Builtin::Or)) = callee {
            let want = b == Builtin::Or;
            let mut v = Val::Invalid;
            for arg in args {
                v = self.eval_arg(dot, arg)?;
                if v.is_true() == want {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        let param = |i: usize| match callee {
            Callee::Func(f) => f.param(i),
            Callee::Builtin(_) => Param::Any,
        };
        let mut argv = Vec::with_capacity(n);
        for (i, arg) in args.iter().enumerate() {
            if i == 0 && matches!(callee, Callee::Builtin(Builtin::Printf)) {
                argv.push(self.eval_string_arg(dot, arg)?);
            } else if param(i) != Param::Any {
                argv.push(self.eval_typed_arg(dot, arg, param(i))?);
            } else {
                argv.push(self.eval_arg(dot, arg)?);
            }
        }
        if let Some(f) = &fin
            && param(n - 1) != Param::Any
        {
            self.validate_type(f, param(n - 1))?;
        }
        if let Some(f) = fin {
            if args.is_empty()
                && matches!(callee, Callee::Builtin(Builtin::Printf))
                && !matches!(f.value(), Some(Value::String(_)))
            {
                return Err(match f.value() {
                    None => self.errorf("invalid value; expected string"),
                    Some(v) => self.errorf(format!("wrong type for value; expected string; got {}", v.type_name())),
                });
            }
            argv.push(f);
        }
        let result = match callee {
            Callee::Builtin(Builtin::Call) => self.builtin_call(&argv),
            Callee::Builtin(b) => b.call(&argv),
            Callee::Func(f) => {
                let mut ctx = Context { tmpl: self.tmpl, depth: self.depth };
                call_caught(f, &mut ctx, &values(&argv)).map(Val::Elem)
            }
        };
        result.map_err(|e| {
            self.at = at;
            match e {
                FuncError::Call(msg) => self.errorf(format!("error calling {name}: {msg}")),
                FuncError::Exec(msg) => self.errorf(msg),
                FuncError::Template(e) => self.errorf(format!("error calling {name}: {e}")),
            }
        })
    }

    fn builtin_call(&mut self, argv: &[Val]) -> Result<Val, FuncError> {
        let f = match argv[0].value() {
            None | Some(Value::Nil) => return Err(FuncError::call("call of nil")),
            Some(Value::Func(f)) => f.clone(),
            Some(v) => return Err(FuncError::call(format!("non-function of type {}", v.type_name()))),
        };
        let n = argv.len() - 1;
        match f.arity() {
            Arity::Exact(want) if n != want => {
                return Err(FuncError::call(format!("wrong number of args: got {n} want {want}")));
            }
            Arity::AtLeast(want) if n < want => {
                return Err(FuncError::call(format!("wrong number of args: got {n} want at least {want}")));
            }
            _ => {}
        }
        let mut ctx = Context { tmpl: self.tmpl, depth: self.depth };
        call_caught(&f, &mut ctx, &values(&argv[1..])).map(Val::Elem)
    }

    /// An argument for a parameter of type `interface{}`.
    fn eval_arg(&mut self, dot: &Val, arg: &'a Arg) -> R<Val> {
        self.at = At::Arg(arg);
        match arg {
            Arg::Dot { .. } => Ok(dot.clone()),
            // Go's built-ins take reflect.Value (nil is invalid there); functions taking
            // interface{} see nil either way.
            Arg::Nil { .. } => Ok(Val::Invalid),
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot, dot.clone(), arg, idents, std::slice::from_ref(arg), None)
            }
            Arg::Variable { .. } => self.eval_variable(dot, arg, &[], None),
            Arg::Pipe(p) => self.eval_pipeline(dot, p),
            Arg::Identifier { name, .. } => self.eval_function(dot, arg, name, None, &[], None),
            Arg::Chain { .. } => self.eval_chain(dot, arg, &[], None),
            Arg::Bool { value, .. } => Ok(Val::Plain(Value::Bool(*value))),
            Arg::Number { .. } => self.ideal_constant(arg),
            Arg::String { value, .. } => Ok(Val::Plain(Value::String(value.clone()))),
        }
    }

    /// An argument for a parameter of a concrete Go type (Go's `evalArg` with a type).
    fn eval_typed_arg(&mut self, dot: &Val, arg: &'a Arg, p: Param) -> R<Val> {
        let literal_err = |me: &mut Self, what: &str| -> R<Val> {
            me.at = At::Arg(arg);
            Err(me.errorf(format!("expected {what}; found {arg}")))
        };
        match (p, arg) {
            (Param::Map, Arg::Nil { .. }) => Ok(Val::Invalid),
            (_, Arg::Nil { .. }) => {
                self.at = At::Arg(arg);
                Err(self.errorf(format!("cannot assign nil to {}", p.go_type())))
            }
            (Param::Map, Arg::Bool { .. } | Arg::Number { .. } | Arg::String { .. }) => {
                self.at = At::Arg(arg);
                Err(self.errorf(format!("can't handle {arg} for arg of type {}", p.go_type())))
            }
            (Param::String, Arg::String { value, .. }) => Ok(Val::Plain(Value::String(value.clone()))),
            (Param::String, Arg::Bool { .. } | Arg::Number { .. }) => literal_err(self, "string"),
            (Param::Bool, Arg::Bool { value, .. }) => Ok(Val::Plain(Value::Bool(*value))),
            (Param::Bool, Arg::String { .. } | Arg::Number { .. }) => literal_err(self, "bool"),
            (Param::Int, Arg::Number { .. }) => match self.ideal_constant(arg)?.value() {
                Some(Value::Int(i)) => Ok(Val::Plain(Value::Int(*i))),
                Some(Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(Val::Plain(Value::Int(*f as i64))),
                _ => literal_err(self, "integer"),
            },
            (Param::Int, Arg::String { .. } | Arg::Bool { .. }) => literal_err(self, "integer"),
            (Param::Float64, Arg::Number { .. }) => match self.ideal_constant(arg)?.value() {
                Some(Value::Int(i)) => Ok(Val::Plain(Value::Float(*i as f64))),
                Some(v) => Ok(Val::Plain(v.clone())),
                None => literal_err(self, "float"),
            },
            (Param::Float64, Arg::String { .. } | Arg::Bool { .. }) => literal_err(self, "float"),
            _ => {
                let v = self.eval_arg(dot, arg)?;
                self.validate_type(&v, p)?;
                Ok(v)
            }
        }
    }

    /// Go's `validateType` for a computed value and a concrete parameter type.
    fn validate_type(&mut self, v: &Val, p: Param) -> R<()> {
        let ok = matches!(
            (p, v.value()),
            (Param::Any, _)
                | (Param::Map, None)
                | (Param::String, Some(Value::String(_)))
                | (Param::Int, Some(Value::Int(_)))
                | (Param::Float64, Some(Value::Float(_)))
                | (Param::Bool, Some(Value::Bool(_)))
                | (Param::Map, Some(Value::Map(_)))
        );
        if ok {
            return Ok(());
        }
        Err(match v.value() {
            None => self.errorf(format!("invalid value; expected {}", p.go_type())),
            Some(Value::Nil) => {
                self.errorf(format!("wrong type for value; expected {}; got {}", p.go_type(), v.type_name()))
            }
            Some(inner) => {
                self.errorf(format!("wrong type for value; expected {}; got {}", p.go_type(), inner.type_name()))
            }
        })
    }

    /// An argument for a parameter of type `string` (printf's format).
    fn eval_string_arg(&mut self, dot: &Val, arg: &'a Arg) -> R<Val> {
        match arg {
            Arg::String { value, .. } => Ok(Val::Plain(Value::String(value.clone()))),
            Arg::Bool { .. } | Arg::Number { .. } => {
                self.at = At::Arg(arg);
                Err(self.errorf(format!("expected string; found {arg}")))
            }
            Arg::Nil { .. } => {
                self.at = At::Arg(arg);
                Err(self.errorf("cannot assign nil to string"))
            }
            _ => {
                let v = self.eval_arg(dot, arg)?;
                match v.value() {
                    Some(Value::String(_)) => Ok(v),
                    None => Err(self.errorf("invalid value; expected string")),
                    Some(Value::Nil) => {
                        Err(self.errorf(format!("wrong type for value; expected string; got {}", v.type_name())))
                    }
                    Some(inner) => {
                        Err(self.errorf(format!("wrong type for value; expected string; got {}", inner.type_name())))
                    }
                }
            }
        }
    }
}

/// Calls a function, turning a panic into an error as Go's `safeCall` does.
fn call_caught(f: &Function, ctx: &mut Context<'_>, args: &[Value]) -> Result<Value, FuncError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.call(ctx, args))) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            Err(FuncError::Call(msg))
        }
    }
}

#[derive(Clone, Copy)]
enum Callee<'f> {
    Builtin(Builtin),
    Func(&'f Function),
}

fn node_as_at(node: &Arg) -> At<'_> {
    At::Arg(node)
}

fn node_pos(n: &Node) -> usize {
    match n {
        Node::Text { pos, .. }
        | Node::Action { pos, .. }
        | Node::Template { pos, .. }
        | Node::Break { pos }
        | Node::Continue { pos } => *pos,
        Node::If(b) | Node::With(b) | Node::Range(b) => b.pos,
    }
}
