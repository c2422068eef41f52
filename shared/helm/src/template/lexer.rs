//! The lexer: splits template text into text runs and the tokens inside `{{ }}` actions,
//! applying trim markers and dropping comments, with Go's error wording.

/// Token kinds, as Go's lexer names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Error,
    Eof,
    Text,
    LeftDelim,
    RightDelim,
    Space,
    /// A printable ASCII character with no other meaning (`,` and the like).
    Char,
    Assign,
    Declare,
    Pipe,
    LeftParen,
    RightParen,
    String,
    RawString,
    CharConstant,
    Number,
    Complex,
    Bool,
    Identifier,
    Field,
    Variable,
    Dot,
    // Keywords.
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl Kind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            Kind::Block
                | Kind::Break
                | Kind::Continue
                | Kind::Define
                | Kind::Else
                | Kind::End
                | Kind::If
                | Kind::Nil
                | Kind::Range
                | Kind::Template
                | Kind::With
                | Kind::Dot
        )
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    pub kind: Kind,
    pub val: String,
    /// Byte offset in the template text.
    pub pos: usize,
    pub line: usize,
}

impl std::fmt::Display for Token {
    /// How Go's parser quotes a token in "unexpected …" messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Kind::Eof => f.write_str("EOF"),
            Kind::Error => f.write_str(&self.val),
            k if k.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", super::format::quote(&head, false))
            }
            _ => f.write_str(&super::format::quote(&self.val, false)),
        }
    }
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// Lexes the whole input. The last token is `Eof` or `Error`.
/// `break_ok`/`continue_ok`: whether those words are keywords (they are unless a function
/// by that name exists).
pub fn lex(input: &str, break_ok: bool, continue_ok: bool) -> Vec<Token> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        tokens: Vec::new(),
        paren_depth: 0,
        break_ok,
        continue_ok,
        line_cache: (0, 1),
    };
    l.run();
    l.tokens
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    tokens: Vec<Token>,
    paren_depth: i32,
    break_ok: bool,
    continue_ok: bool,
    /// (offset, line at that offset) of the last token.
    line_cache: (usize, usize),
}

enum State {
    Text,
    InsideAction,
    Done,
}

impl Lexer<'_> {
    /// The line of a byte offset, counted on from the previous call (offsets only grow).
    fn line_at(&mut self, pos: usize) -> usize {
        let (from, line) = if pos >= self.line_cache.0 { self.line_cache } else { (0, 1) };
        let line = line + self.input.as_bytes()[from..pos].iter().filter(|b| **b == b'\n').count();
        self.line_cache = (pos, line);
        line
    }

    fn emit(&mut self, kind: Kind) {
        let val = self.input[self.start..self.pos].to_string();
        let line = self.line_at(self.start);
        self.tokens.push(Token { kind, val, pos: self.start, line });
        self.start = self.pos;
    }

    fn error(&mut self, msg: String) -> State {
        let line = self.line_at(self.start);
        self.tokens.push(Token { kind: Kind::Error, val: msg, pos: self.start, line });
        State::Done
    }

    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn run(&mut self) {
        let mut state = State::Text;
        loop {
            state = match state {
                State::Text => self.lex_text(),
                State::InsideAction => self.lex_inside_action(),
                State::Done => return,
            };
        }
    }

    fn lex_text(&mut self) -> State {
        let Some(x) = self.rest().find(LEFT) else {
            self.pos = self.input.len();
            if self.pos > self.start {
                self.emit(Kind::Text);
            }
            self.emit(Kind::Eof);
            return State::Done;
        };
        self.pos += x;
        let after = &self.input[self.pos + LEFT.len()..];
        let mut trim = 0;
        if has_left_trim(after) {
            let text = &self.input[self.start..self.pos];
            trim = text.len() - text.trim_end_matches(is_space).len();
        }
        self.pos -= trim;
        if self.pos > self.start {
            self.emit(Kind::Text);
        }
        self.pos += trim;
        self.start = self.pos;
        self.lex_left_delim()
    }

    fn lex_left_delim(&mut self) -> State {
        self.pos += LEFT.len();
        let trim = has_left_trim(self.rest());
        let after = if trim { 2 } else { 0 };
        if self.input[self.pos + after..].starts_with("/*") {
            self.pos += after;
            self.start = self.pos;
            return self.lex_comment();
        }
        self.emit(Kind::LeftDelim);
        self.pos += after;
        self.start = self.pos;
        self.paren_depth = 0;
        State::InsideAction
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim(rest) && rest[2..].starts_with(RIGHT) {
            return (true, true);
        }
        (rest.starts_with(RIGHT), false)
    }

    fn skip_left_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches(is_space).len();
    }

    fn lex_comment(&mut self) -> State {
        self.pos += 2;
        let Some(i) = self.rest().find("*/") else {
            return self.error("unclosed comment".into());
        };
        self.pos += i + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT.len();
        if trim {
            self.skip_left_space();
        }
        self.start = self.pos;
        State::Text
    }

    fn lex_right_delim(&mut self) -> State {
        let trim = has_right_trim(self.rest());
        if trim {
            self.pos += 2;
            self.start = self.pos;
        }
        self.pos += RIGHT.len();
        self.emit(Kind::RightDelim);
        if trim {
            self.skip_left_space();
            self.start = self.pos;
        }
        State::Text
    }

    fn lex_inside_action(&mut self) -> State {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.lex_right_delim();
            }
            return self.error("unclosed left paren".into());
        }
        let Some(c) = self.next() else {
            return self.error("unclosed action".into());
        };
        match c {
            c if is_space(c) => {
                self.pos -= 1;
                return self.lex_space();
            }
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => return self.lex_quote(),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_variable(),
            '\'' => return self.lex_char(),
            // A '.' at the very end of the input is scanned as a number, as Go does.
            '.' if self.peek().is_some_and(|c| !c.is_ascii_digit()) => {
                return self.lex_field_or_variable(Kind::Field);
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.pos -= 1;
                return self.lex_number();
            }
            c if is_alnum(c) => {
                self.pos -= c.len_utf8();
                return self.lex_identifier();
            }
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.emit(Kind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error(format!("unexpected right paren {}", unicode_name(c)));
                }
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
            c => return self.error(format!("unrecognized character in action: {}", unicode_name(c))),
        }
        State::InsideAction
    }

    fn lex_space(&mut self) -> State {
        let mut n = 0;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
            n += 1;
        }
        let before = &self.input[self.pos - 1..];
        if has_right_trim(before) && before[2..].starts_with(RIGHT) {
            self.pos -= 1;
            if n == 1 {
                return self.lex_right_delim();
            }
        }
        self.emit(Kind::Space);
        State::InsideAction
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT),
        }
    }

    fn lex_identifier(&mut self) -> State {
        while self.peek().is_some_and(is_alnum) {
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\0');
            self.next();
            return self.error(format!("bad character {}", unicode_name(c)));
        }
        let kind = match &self.input[self.start..self.pos] {
            "block" => Kind::Block,
            "break" if self.break_ok => Kind::Break,
            "continue" if self.continue_ok => Kind::Continue,
            "define" => Kind::Define,
            "else" => Kind::Else,
            "end" => Kind::End,
            "if" => Kind::If,
            "nil" => Kind::Nil,
            "range" => Kind::Range,
            "template" => Kind::Template,
            "with" => Kind::With,
            "true" | "false" => Kind::Bool,
            _ => Kind::Identifier,
        };
        self.emit(kind);
        State::InsideAction
    }

    fn lex_variable(&mut self) -> State {
        if self.at_terminator() {
            self.emit(Kind::Variable);
            return State::InsideAction;
        }
        self.lex_field_or_variable(Kind::Variable)
    }

    fn lex_field_or_variable(&mut self, kind: Kind) -> State {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable { Kind::Variable } else { Kind::Dot });
            return State::InsideAction;
        }
        while self.peek().is_some_and(is_alnum) {
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\0');
            self.next();
            return self.error(format!("bad character {}", unicode_name(c)));
        }
        self.emit(kind);
        State::InsideAction
    }

    fn lex_char(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some('\n') | None => return self.error("unterminated character constant".into()),
                    _ => {}
                },
                Some('\n') | None => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(Kind::CharConstant);
        State::InsideAction
    }

    fn lex_number(&mut self) -> State {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", super::format::quote(&text, false)));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", super::format::quote(&text, false)));
            }
            self.emit(Kind::Complex);
        } else {
            self.emit(Kind::Number);
        }
        State::InsideAction
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.next();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some('\n') | None => return self.error("unterminated quoted string".into()),
                    _ => {}
                },
                Some('\n') | None => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        self.emit(Kind::String);
        State::InsideAction
    }

    fn lex_raw_quote(&mut self) -> State {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(Kind::RawString);
        State::InsideAction
    }
}

/// Go's `%#U`: `U+0021 '!'`.
fn unicode_name(c: char) -> String {
    if c.is_control() { format!("U+{:04X}", c as u32) } else { format!("U+{:04X} '{c}'", c as u32) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Kind> {
        lex(s, true, true).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn trims_and_comments() {
        let toks = lex("a  {{- .x -}}  b{{/* c */}}d", true, true);
        let texts: Vec<&str> = toks.iter().filter(|t| t.kind == Kind::Text).map(|t| t.val.as_str()).collect();
        assert_eq!(texts, vec!["a", "b", "d"]);
    }

    #[test]
    fn action_tokens() {
        use Kind::*;
        assert_eq!(
            kinds("{{$x := .a.b | printf \"%d\" 1}}"),
            vec![
                LeftDelim, Variable, Space, Declare, Space, Field, Field, Space, Pipe, Space, Identifier, Space,
                String, Space, Number, RightDelim, Eof
            ]
        );
    }

    #[test]
    fn errors() {
        let toks = lex("{{ .a", true, true);
        assert_eq!(toks.last().map(|t| t.val.as_str()), Some("unclosed action"));
        let toks = lex("{{/* x */ }}", true, true);
        assert_eq!(toks.last().map(|t| t.val.as_str()), Some("comment ends before closing delimiter"));
    }
}
