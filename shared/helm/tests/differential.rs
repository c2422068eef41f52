//! Differential test: runs the whole corpus through Go's text/template (Go 1.19, the
//! reference) with tests/goreference and compares Go's results with ours, case by
//! case. Cases marked `not-go119` use later Go features and are not checked.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::go_reference::{GoFunctions, compare, run_go};
use common::{is_sprig, load_corpus};

#[test]
fn corpus_matches_go_text_template() {
    let cases: Vec<_> = load_corpus().into_iter().filter(|c| c.not_go119.is_none() && !is_sprig(c)).collect();
    let results = run_go(GoFunctions::Corpus, &cases);
    let failures = compare(&cases, &results);
    eprintln!("differential: {} of {} cases agree with Go", cases.len() - failures.len(), cases.len());
    assert!(failures.is_empty(), "{} cases differ from Go:\n{}", failures.len(), failures.join("\n"));
}

/// Mutated corpus templates through both engines. Exploratory (mutations that hit Go's
/// unusual corners are expected to find differences): run with `--ignored`.
#[test]
#[ignore]
fn mutated_corpus_matches_go() {
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED);
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let base: Vec<_> = load_corpus().into_iter().filter(|c| c.not_go119.is_none() && !is_sprig(c)).collect();
    let mut cases = Vec::new();
    for round in 0..4 {
        for c in &base {
            let mut chars: Vec<char> = c.template.chars().collect();
            let n = chars.len();
            if n == 0 {
                continue;
            }
            match next() % 3 {
                0 => {
                    chars.remove((next() % n as u64) as usize);
                }
                1 => {
                    let (i, j) = ((next() % n as u64) as usize, (next() % n as u64) as usize);
                    chars.swap(i, j);
                }
                _ => {
                    let at = (next() % n as u64) as usize;
                    let from = (next() % n as u64) as usize;
                    let c = chars[from];
                    chars.insert(at, c);
                }
            }
            let mut m = c.clone();
            m.name = format!("{} (mutation {round})", c.name);
            m.template = chars.into_iter().collect();
            cases.push(m);
        }
    }
    let results = run_go(GoFunctions::Corpus, &cases);
    let failures = compare(&cases, &results);
    eprintln!("mutations: {} of {} agree with Go", cases.len() - failures.len(), cases.len());
    assert!(failures.is_empty(), "{} cases differ from Go:\n{}", failures.len(), failures.join("\n"));
}

/// Random token soup through both engines. Exploratory: run with `--ignored`.
#[test]
#[ignore]
fn random_templates_match_go() {
    const PIECES: &[&str] = &[
        "{{",
        "}}",
        "{{- ",
        " -}}",
        " ",
        "\n",
        ".",
        "$",
        "$x",
        "$x := ",
        "$x = ",
        "|",
        "(",
        ")",
        "\"s\"",
        "`r`",
        "'c'",
        "{{/* c */}}",
        "if ",
        "else ",
        "end",
        "range ",
        "with ",
        "template \"T\" ",
        "define \"T\"",
        "break",
        "continue",
        "nil",
        "true",
        "printf \"%v\" ",
        "index ",
        "slice ",
        "len ",
        "and ",
        "or ",
        "not ",
        "eq ",
        "lt ",
        "print ",
        "html ",
        "js ",
        ".a",
        ".a.b",
        ".l",
        ".n",
        "0x1F",
        "1e3",
        "9",
        "-1",
        "1.5",
        ",",
        "$i, $v := ",
        "text",
        "{{end}}",
        "{{else}}",
        "{{if .a}}",
        "{{range .l}}",
        "{{with .a}}",
        "{{.}}",
    ];
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xABCD);
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let data = serde_json::json!({"a": {"b": [1, "x", null]}, "l": [1, 2.5, "s"], "n": null});
    let mut cases = Vec::new();
    for i in 0..3000 {
        let mut t = String::new();
        for _ in 0..(next() % 12) {
            t.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
        }
        cases.push(common::Case {
            name: format!("random {i}"),
            file: "random".into(),
            template: t,
            data: Some(data.clone()),
            also: Vec::new(),
            exec: String::new(),
            option: String::new(),
            not_go119: None,
            differs: None,
            expect: common::Expect::Unset,
        });
    }
    let results = run_go(GoFunctions::Corpus, &cases);
    let failures = compare(&cases, &results);
    eprintln!("random: {} of {} agree with Go", cases.len() - failures.len(), cases.len());
    assert!(failures.is_empty(), "{} cases differ from Go:\n{}", failures.len(), failures.join("\n"));
}

/// Random well-formed templates (a small grammar over Go's built-ins and the data below)
/// through both engines, to exercise execution rather than parse errors. Exploratory:
/// run with `--ignored`.
#[test]
#[ignore]
fn generated_templates_match_go() {
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[(self.next() % xs.len() as u64) as usize]
        }
        fn operand(&mut self, depth: u32) -> String {
            match self.next() % 10 {
                0..=3 => self
                    .pick(&[".a", ".a.b", ".l", ".n", ".f", ".s", ".m", ".m.k", ".missing", ".a.b.c", "$", "$.s", "."])
                    .to_string(),
                4..=6 => self
                    .pick(&[
                        "1", "0", "-2", "1.5", "0.0", "1e6", "\"x\"", "\"\"", "true", "false", "nil", "'a'", "0x10",
                    ])
                    .to_string(),
                7 if depth < 3 => format!("({})", self.pipeline(depth + 1)),
                _ => self.pick(&["$v", "$i", ".", "\"%v\"", "\"%d\"", "\"%s|%q\""]).to_string(),
            }
        }
        fn command(&mut self, depth: u32) -> String {
            let f = self.pick(&[
                "", "", "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt",
                "le", "gt", "ge", "html", "js", "urlquery",
            ]);
            if f.is_empty() {
                return self.operand(depth);
            }
            let n = self.next() % 4;
            let mut s = f.to_string();
            for _ in 0..n {
                s.push(' ');
                s.push_str(&self.operand(depth));
            }
            s
        }
        fn pipeline(&mut self, depth: u32) -> String {
            let mut p = self.command(depth);
            if self.next().is_multiple_of(4) {
                p.push_str(" | ");
                let f = self.pick(&["print", "printf \"%v\"", "len", "not", "html", "eq 1.5", "index .m", "urlquery"]);
                p.push_str(f);
            }
            p
        }
        fn body(&mut self, depth: u32) -> String {
            let mut out = String::new();
            for _ in 0..(1 + self.next() % 3) {
                match self.next() % 8 {
                    0 if depth < 2 => {
                        let p = self.pipeline(depth);
                        let b = self.body(depth + 1);
                        out.push_str(&format!("{{{{if {p}}}}}{b}{{{{else}}}}E{{{{end}}}}"));
                    }
                    1 if depth < 2 => {
                        let p = self.pick(&[".l", ".m", ".a.b", ".n", ".missing", ".s"]);
                        let b = self.body(depth + 1);
                        out.push_str(&format!("{{{{range $i, $v := {p}}}}}{b};{{{{else}}}}none{{{{end}}}}"));
                    }
                    2 if depth < 2 => {
                        let p = self.pipeline(depth);
                        let b = self.body(depth + 1);
                        out.push_str(&format!("{{{{with {p}}}}}{b}{{{{end}}}}"));
                    }
                    _ => {
                        let p = self.pipeline(depth);
                        out.push_str(&format!("[{{{{{p}}}}}]"));
                    }
                }
            }
            out
        }
    }
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xC0FFEE);
    let mut g = Gen(seed | 1);
    let data = serde_json::json!({
        "a": {"b": [1, "x", null, {"c": 2}]}, "l": [3, 2.5, "s", true], "n": null, "f": 1000000,
        "s": "héllo <&>", "m": {"k": "v", "z": [1]}, "v": 1
    });
    let mut cases = Vec::new();
    for i in 0..3000 {
        let template = format!("{{{{$v := 0}}}}{{{{$i := 1}}}}{}", g.body(0));
        cases.push(common::Case {
            name: format!("generated {i}"),
            file: "generated".into(),
            template,
            data: Some(data.clone()),
            also: Vec::new(),
            exec: String::new(),
            option: String::new(),
            not_go119: None,
            differs: None,
            expect: common::Expect::Unset,
        });
    }
    let results = run_go(GoFunctions::Corpus, &cases);
    let ok = results.iter().filter(|r| !r.failed).count();
    let failures = compare(&cases, &results);
    eprintln!(
        "generated: {} of {} agree with Go ({ok} ran without error in Go)",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{} cases differ from Go:\n{}", failures.len(), failures.join("\n"));
}
