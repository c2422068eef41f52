//! The parse tree. Every node keeps its byte offset so execution errors can say
//! `NAME:LINE:COL`, and prints back as Go prints it in `executing "t" at <…>`.

use std::fmt;

/// A parsed template body.
#[derive(Debug, Clone)]
pub struct Tree {
    pub name: String,
    /// The name of the template whose text this tree came from (Go's `ParseName`).
    pub parse_name: String,
    /// The full source text, for line and column numbers.
    pub text: std::sync::Arc<str>,
    pub root: Vec<Node>,
}

impl Tree {
    /// `NAME:LINE:COL` of a byte offset (column 0-based, as Go reports it).
    pub fn location(&self, pos: usize) -> String {
        let pos = pos.min(self.text.len());
        let before = self.text.get(..pos).unwrap_or("");
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(i) => pos - (i + 1),
            None => pos,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }

    /// Whether the body is only whitespace text (Go's `IsEmptyTree`).
    pub fn is_empty(&self) -> bool {
        self.root.iter().all(|n| matches!(n, Node::Text { text, .. } if text.trim().is_empty()))
    }
}

#[derive(Debug, Clone)]
pub enum Node {
    Text { pos: usize, text: String },
    Action { pos: usize, pipe: Pipe },
    If(Branch),
    With(Branch),
    Range(Branch),
    Template { pos: usize, name: String, pipe: Option<Pipe> },
    Break { pos: usize },
    Continue { pos: usize },
}

/// `if`, `with` and `range`: a pipeline, a body and an optional else body.
#[derive(Debug, Clone)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    /// `$x :=` (or `$x =` when `is_assign`), `$i, $v :=` in range.
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `.a.b`
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `$x.a.b` (idents[0] is the variable name, with `$`).
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    /// `(pipeline).a.b`
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    /// A function name.
    Identifier {
        pos: usize,
        name: String,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Bool {
        pos: usize,
        value: bool,
    },
    Number {
        pos: usize,
        text: String,
        value: Number,
    },
    String {
        pos: usize,
        quoted: String,
        value: String,
    },
    Pipe(Box<Pipe>),
}

/// A numeric literal as Go's rules type it in an untyped context.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// An integer constant that does not fit in Go's `int`.
    Overflow,
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable { idents, .. } => f.write_str(&idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                if matches!(**node, Arg::Pipe(_)) {
                    write!(f, "({node})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot { .. } => f.write_str("."),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Bool { value, .. } => write!(f, "{value}"),
            Arg::Number { text, .. } => f.write_str(text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(" := ")?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text { text, .. } => write!(f, "{}", super::format::quote(text, false)),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(b) => write!(f, "{{{{if {}}}}}", b.pipe),
            Node::With(b) => write!(f, "{{{{with {}}}}}", b.pipe),
            Node::Range(b) => write!(f, "{{{{range {}}}}}", b.pipe),
            Node::Template { name, pipe, .. } => match pipe {
                Some(p) => write!(f, "{{{{template {} {p}}}}}", super::format::quote(name, false)),
                None => write!(f, "{{{{template {}}}}}", super::format::quote(name, false)),
            },
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}
