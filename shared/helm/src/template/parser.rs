//! The parser: tokens to trees, one per template (`define` and `block` add more), with
//! Go's checks (undefined functions and variables, `break` outside `range`) and messages.

use std::sync::Arc;

use super::ast::{Arg, Branch, Command, Node, Pipe, Tree};
use super::error::Error;
use super::lexer::{Kind, Token, lex};
use super::literal::{NumberError, parse_number, unquote};

/// How deeply control structures and parentheses may nest. Go has no limit; ours keeps
/// recursion (and dropping the tree) well inside any thread's stack.
pub const MAX_NESTING: usize = 1000;

/// Parses `text` as template `name`; returns the trees it defines, the top-level one first.
pub fn parse(name: &str, text: &str, has_func: &dyn Fn(&str) -> bool) -> Result<Vec<Tree>, Error> {
    let tokens = lex(text, !has_func("break"), !has_func("continue"));
    let mut p = Parser {
        parse_name: name.to_string(),
        text: Arc::from(text),
        tokens,
        idx: 0,
        furthest: 0,
        has_func,
        vars: vec!["$".into()],
        range_depth: 0,
        action_line: 0,
        trees: Vec::new(),
        nesting: 0,
    };
    let root = p.parse_top()?;
    let top = Tree { name: name.to_string(), parse_name: name.to_string(), text: p.text.clone(), root };
    p.add(top)?;
    // The top-level tree first, then definitions in order.
    let mut trees = p.trees;
    if let Some(i) = trees.iter().position(|t| t.name == name) {
        let t = trees.remove(i);
        trees.insert(0, t);
    }
    Ok(trees)
}

struct Parser<'a> {
    parse_name: String,
    text: Arc<str>,
    tokens: Vec<Token>,
    idx: usize,
    furthest: usize,
    has_func: &'a dyn Fn(&str) -> bool,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
    trees: Vec<Tree>,
    nesting: usize,
}

/// What ended an item list.
enum End {
    End,
    Else { pos: usize },
}

type PResult<T> = Result<T, Error>;

impl Parser<'_> {
    fn tok(&self, i: usize) -> Token {
        match self.tokens.get(i).or(self.tokens.last()) {
            Some(t) => t.clone(),
            None => Token { kind: Kind::Eof, val: String::new(), pos: 0, line: 1 },
        }
    }

    fn next(&mut self) -> Token {
        let t = self.tok(self.idx);
        if self.idx < self.tokens.len().saturating_sub(1) {
            self.idx += 1;
        } else {
            // Stay on the final EOF/error token, but remember it was consumed.
            self.idx = self.tokens.len();
        }
        self.furthest = self.furthest.max(self.idx.saturating_sub(1));
        t
    }

    fn backup(&mut self) {
        self.idx = self.idx.saturating_sub(1);
    }

    fn peek(&mut self) -> Token {
        let t = self.next();
        self.backup();
        t
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn errorf(&self, msg: impl std::fmt::Display) -> Error {
        let line = self.tok(self.furthest).line;
        Error::Parse(format!("template: {}:{}: {}", self.parse_name, line, msg))
    }

    fn unexpected(&self, token: &Token, context: &str) -> Error {
        if token.kind == Kind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at {}:{}", self.parse_name, self.action_line);
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{token}{extra}"));
        }
        self.errorf(format!("unexpected {token} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Token> {
        let t = self.next_non_space();
        if t.kind != kind {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    /// Adds a tree to this parse's set, as Go's `(*Tree).add` does.
    fn add(&mut self, tree: Tree) -> PResult<()> {
        match self.trees.iter().position(|t| t.name == tree.name) {
            None => self.trees.push(tree),
            Some(i) if self.trees[i].is_empty() => self.trees[i] = tree,
            Some(_) if !tree.is_empty() => {
                return Err(self.errorf(format!("template: multiple definition of template {}", quote(&tree.name))));
            }
            Some(_) => {}
        }
        Ok(())
    }

    fn new_tree(&self, name: String, root: Vec<Node>) -> Tree {
        Tree { name, parse_name: self.parse_name.clone(), text: self.text.clone(), root }
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.idx;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.idx = save;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End => return Err(self.errorf("unexpected {{end}}")),
                Item::Else(_) => return Err(self.errorf("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    /// Runs `f` with a fresh variable scope and range depth, as a new tree gets.
    fn in_new_tree<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let depth = std::mem::replace(&mut self.range_depth, 0);
        let r = f(self);
        self.vars = vars;
        self.range_depth = depth;
        r
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let t = self.next_non_space();
        if !matches!(t.kind, Kind::String | Kind::RawString) {
            return Err(self.unexpected(&t, context));
        }
        let name = unquote(&t.val).ok_or_else(|| self.errorf("invalid syntax"))?;
        self.expect(Kind::RightDelim, context)?;
        let (list, end) = self.in_new_tree(|p| p.item_list())?;
        if let End::Else { .. } = end {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        let tree = self.new_tree(name, list);
        self.add(tree)
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, End)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::End => return Ok((list, End::End)),
                Item::Else(pos) => return Ok((list, End::Else { pos })),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Item::Node(Node::Text { pos: t.pos, text: t.val })),
            Kind::LeftDelim => {
                self.action_line = t.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Block => return self.block_control().map(Item::Node),
            Kind::Break | Kind::Continue => {
                let word = if t.kind == Kind::Break { "break" } else { "continue" };
                let next = self.next_non_space();
                if next.kind != Kind::RightDelim {
                    return Err(self.unexpected(&next, &format!("{{{{{word}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{{{{{word}}}}} outside {{{{range}}}}")));
                }
                return Ok(Item::Node(if t.kind == Kind::Break {
                    Node::Break { pos: t.pos }
                } else {
                    Node::Continue { pos: t.pos }
                }));
            }
            Kind::Else => {
                let peek = self.peek_non_space();
                if matches!(peek.kind, Kind::If | Kind::With) {
                    return Ok(Item::Else(peek.pos));
                }
                let t = self.expect(Kind::RightDelim, "else")?;
                return Ok(Item::Else(t.pos));
            }
            Kind::End => {
                let t = self.expect(Kind::RightDelim, "end")?;
                let _ = t;
                return Ok(Item::End);
            }
            Kind::If => return self.control("if").map(|b| Item::Node(Node::If(b))),
            Kind::Range => return self.control("range").map(|b| Item::Node(Node::Range(b))),
            Kind::With => return self.control("with").map(|b| Item::Node(Node::With(b))),
            Kind::Template => return self.template_control().map(Item::Node),
            _ => {}
        }
        self.backup();
        let t = self.peek();
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Node::Action { pos: t.pos, pipe }))
    }

    fn control(&mut self, context: &str) -> PResult<Branch> {
        self.nest()?;
        let nvars = self.vars.len();
        let r = self.control_inner(context);
        self.vars.truncate(nvars);
        self.nesting -= 1;
        r
    }

    fn nest(&mut self) -> PResult<()> {
        if self.nesting >= MAX_NESTING {
            return Err(self.errorf(format!("exceeded maximum nesting depth ({MAX_NESTING})")));
        }
        self.nesting += 1;
        Ok(())
    }

    fn control_inner(&mut self, context: &str) -> PResult<Branch> {
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, end) = r?;
        let mut else_list = None;
        if let End::Else { pos } = end {
            let peek = self.peek();
            let chained = match (context, peek.kind) {
                ("if", Kind::If) => Some("if"),
                // `else with` is Go 1.23's.
                ("with", Kind::With) => Some("with"),
                _ => None,
            };
            if let Some(kw) = chained {
                self.next();
                let inner = self.control(kw)?;
                let node = if kw == "if" { Node::If(inner) } else { Node::With(inner) };
                let _ = pos;
                else_list = Some(vec![node]);
            } else {
                if matches!(peek.kind, Kind::If | Kind::With) {
                    return Err(self.unexpected(&peek, "input"));
                }
                let (list, end) = self.item_list()?;
                if let End::Else { .. } = end {
                    return Err(self.errorf("expected end; found {{else}}"));
                }
                else_list = Some(list);
            }
        }
        Ok(Branch { pos: pipe.pos, pipe, list, else_list })
    }

    fn template_name(&mut self, token: &Token, context: &str) -> PResult<String> {
        match token.kind {
            Kind::String | Kind::RawString => unquote(&token.val).ok_or_else(|| self.errorf("invalid syntax")),
            _ => Err(self.unexpected(token, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, context)?;
        let mut pipe = None;
        if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, Kind::RightDelim)?);
        }
        Ok(Node::Template { pos: token.pos, name, pipe })
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let (list, end) = self.in_new_tree(|p| p.item_list())?;
        if let End::Else { .. } = end {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        let tree = self.new_tree(name.clone(), list);
        self.add(tree)?;
        Ok(Node::Template { pos: token.pos, name, pipe: Some(pipe) })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe { pos: start.pos, decl: Vec::new(), is_assign: false, cmds: Vec::new() };
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let save = self.idx;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue 'decls,
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => self.idx = save,
            }
            break;
        }
        loop {
            let t = self.next_non_space();
            match t.kind {
                k if k == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&t, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(Arg::Bool { .. } | Arg::Dot { .. } | Arg::Nil { .. } | Arg::Number { .. } | Arg::String { .. })
            ) {
                return Err(self.errorf(format!("non executable command in pipeline stage {}", i + 1)));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command { pos, args: Vec::new() };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else { return Ok(None) };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            let t = self.next();
            fields.push(t.val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos: chain_pos, idents }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable { pos: chain_pos, idents }
            }
            Arg::Bool { .. } | Arg::String { .. } | Arg::Number { .. } | Arg::Nil { .. } | Arg::Dot { .. } => {
                return Err(self.errorf(format!("unexpected . after term {}", quote(&node.to_string()))));
            }
            node => Arg::Chain { pos: chain_pos, node: Box::new(node), fields },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        let arg = match t.kind {
            Kind::Identifier => {
                if !(self.has_func)(&t.val) {
                    return Err(self.errorf(format!("function {} not defined", quote(&t.val))));
                }
                Arg::Identifier { pos: t.pos, name: t.val }
            }
            Kind::Dot => Arg::Dot { pos: t.pos },
            Kind::Nil => Arg::Nil { pos: t.pos },
            Kind::Variable => {
                let idents: Vec<String> = t.val.split('.').map(str::to_string).collect();
                if !self.vars.iter().any(|v| *v == idents[0]) {
                    return Err(self.errorf(format!("undefined variable {}", quote(&idents[0]))));
                }
                Arg::Variable { pos: t.pos, idents }
            }
            Kind::Field => Arg::Field { pos: t.pos, idents: t.val[1..].split('.').map(str::to_string).collect() },
            Kind::Bool => Arg::Bool { pos: t.pos, value: t.val == "true" },
            Kind::CharConstant | Kind::Complex | Kind::Number => match parse_number(&t.val) {
                Ok(value) => Arg::Number { pos: t.pos, text: t.val, value },
                Err(NumberError::Complex) => {
                    return Err(self.errorf(format!("complex number {} is not supported", quote(&t.val))));
                }
                Err(NumberError::InvalidSyntax) => return Err(self.errorf("invalid syntax")),
                Err(NumberError::IntegerOverflow) => {
                    return Err(self.errorf(format!("integer overflow: {}", quote(&t.val))));
                }
                Err(NumberError::Illegal) if t.kind == Kind::CharConstant => {
                    return Err(self.errorf(format!("malformed character constant: {}", t.val)));
                }
                Err(NumberError::Illegal) => {
                    return Err(self.errorf(format!("illegal number syntax: {}", quote(&t.val))));
                }
            },
            Kind::LeftParen => {
                self.nest()?;
                let pipe = self.pipeline("parenthesized pipeline", Kind::RightParen);
                self.nesting -= 1;
                Arg::Pipe(Box::new(pipe?))
            }
            Kind::String | Kind::RawString => {
                let value = unquote(&t.val).ok_or_else(|| self.errorf("invalid syntax"))?;
                Arg::String { pos: t.pos, quoted: t.val, value }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(arg))
    }
}

enum Item {
    Node(Node),
    End,
    Else(usize),
}

fn quote(s: &str) -> String {
    super::format::quote(s, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Vec<Tree>, Error> {
        parse("t", s, &|name| matches!(name, "printf" | "len"))
    }

    fn err(s: &str) -> String {
        match p(s) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("expected an error for {s:?}"),
        }
    }

    #[test]
    fn parses_defines() {
        let trees = p(r#"a{{define "x"}}X{{end}}b"#).unwrap();
        let names: Vec<&str> = trees.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["t", "x"]);
    }

    #[test]
    fn error_messages() {
        assert_eq!(err("{{foo}}"), r#"template: t:1: function "foo" not defined"#);
        assert_eq!(err("{{ .a } }}"), r#"template: t:1: unexpected "}" in operand"#);
        assert_eq!(err("{{if .}}"), "template: t:1: unexpected EOF");
        assert_eq!(err("{{end}}"), "template: t:1: unexpected {{end}}");
        assert_eq!(err("{{$x}}"), r#"template: t:1: undefined variable "$x""#);
        assert_eq!(err("{{break}}"), "template: t:1: {{break}} outside {{range}}");
        assert_eq!(err("{{}}"), "template: t:1: missing value for command");
        assert_eq!(err("\n{{.a | 1}}"), "template: t:2: non executable command in pipeline stage 2");
    }
}
