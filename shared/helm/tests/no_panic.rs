//! Property-style robustness test: random byte strings and mutated corpus templates go
//! through parse and execute; whatever happens must be an `Ok` or an `Err`, never a panic
//! or a stack overflow.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{load_corpus, test_funcs};
use weir_helm::template::{Template, Value};

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    "\n",
    ".",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    "\"",
    "`",
    "'",
    "/*",
    "*/",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "nil",
    "true",
    "printf",
    "index",
    "slice",
    "len",
    "and",
    "or",
    "not",
    "eq",
    "lt",
    "call",
    "print",
    "html",
    "js",
    ".a",
    ".a.b",
    "0x",
    "1e",
    "9",
    "-",
    "%",
    "%d",
    "%v",
    ",",
    "\\",
    "é",
    "\u{0}",
    "{{template \"t\" .}}",
];

fn run(text: &str, data: &Value) {
    let mut t = Template::new("t").funcs(test_funcs());
    if t.parse(text).is_ok() {
        let _ = t.execute(data);
    }
}

#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let data = Value::from_json(&serde_json::json!({"a": {"b": [1, "x", null]}, "l": [1, 2], "n": null}));
    for _ in 0..1500 {
        let mut s = String::new();
        for _ in 0..rng.below(30) {
            if rng.below(4) == 0 {
                let bytes: Vec<u8> = (0..rng.below(4)).map(|_| rng.next() as u8).collect();
                s.push_str(&String::from_utf8_lossy(&bytes));
            } else {
                s.push_str(PIECES[rng.below(PIECES.len())]);
            }
        }
        run(&s, &data);
    }
}

#[test]
fn mutated_corpus_never_panics() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let cases = load_corpus();
    for round in 0..6 {
        for case in &cases {
            let mut chars: Vec<char> = case.template.chars().collect();
            for _ in 0..=round {
                let n = chars.len();
                match rng.below(4) {
                    0 if n > 0 => {
                        chars.remove(rng.below(n));
                    }
                    1 => {
                        let piece: Vec<char> = PIECES[rng.below(PIECES.len())].chars().collect();
                        let at = rng.below(n + 1);
                        chars.splice(at..at, piece);
                    }
                    2 if n > 1 => {
                        let (i, j) = (rng.below(n), rng.below(n));
                        chars.swap(i, j);
                    }
                    _ if n > 0 => {
                        let start = rng.below(n);
                        let end = (start + rng.below(12)).min(n);
                        let dup: Vec<char> = chars[start..end].to_vec();
                        chars.splice(start..start, dup);
                    }
                    _ => {}
                }
            }
            let text: String = chars.into_iter().collect();
            let data = case.data.as_ref().map(Value::from_json).unwrap_or(Value::Nil);
            run(&text, &data);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_an_overflow() {
    let data = Value::Nil;
    for text in [
        format!("{{{{{}1{}}}}}", "(".repeat(20_000), ")".repeat(20_000)),
        format!("{}x{}", "{{if true}}".repeat(20_000), "{{end}}".repeat(20_000)),
        format!("{}x{}", "{{with 1}}".repeat(5_000), "{{end}}".repeat(5_000)),
    ] {
        run(&text, &data);
    }
    let mut t = Template::new("t");
    t.parse(r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#).unwrap();
    let e = t.execute(&data).unwrap_err();
    assert!(e.to_string().contains("exceeded maximum template depth"));
}
