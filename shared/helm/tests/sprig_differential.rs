//! Differential test for sprig: runs every case of tests/corpus/sprig*.txt through Go's
//! text/template with Masterminds/sprig (as Helm 3 registers it: `TxtFuncMap` without
//! `env`/`expandenv`) using tests/gosprig/main.go, and compares with weir-helm.
//!
//! The reference is Debian's golang-github-masterminds-sprig-dev (sprig 3.2.3, built in
//! GOPATH mode from /usr/share/gocode; override with SPRIG_GOPATH). Cases marked
//! `differs:` are known differences and are not compared.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{Case, Outcome, is_sprig, load_corpus, run_case};

#[derive(serde::Deserialize)]
struct GoResult {
    name: String,
    output: String,
    error: String,
    failed: bool,
}

fn gopath() -> PathBuf {
    let p = PathBuf::from(std::env::var("SPRIG_GOPATH").unwrap_or_else(|_| "/usr/share/gocode".into()));
    assert!(
        p.join("src/github.com/Masterminds/sprig").is_dir(),
        "sprig's Go source is needed as the reference: `apt-get install golang-github-masterminds-sprig-dev` \
         (Debian) or set SPRIG_GOPATH to a GOPATH holding github.com/Masterminds/sprig and its dependencies"
    );
    p
}

fn run_go(cases: &[Case]) -> Vec<GoResult> {
    let go = std::env::var("GO").unwrap_or_else(|_| "go".into());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gosprig");
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("weir-helm-gocache");
    let mut child = Command::new(go)
        .args(["run", "main.go"])
        .current_dir(&dir)
        .env("GOCACHE", &cache)
        .env("GOPATH", gopath())
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start go run (Go is needed as the reference)");
    let input = serde_json::to_vec(cases).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "go run failed: {}", String::from_utf8_lossy(&out.stderr));
    let results: Vec<GoResult> = serde_json::from_slice(&out.stdout).expect("go results");
    assert_eq!(results.len(), cases.len());
    results
}

#[test]
fn sprig_corpus_matches_masterminds_sprig() {
    let cases: Vec<_> = load_corpus().into_iter().filter(|c| is_sprig(c) && c.differs.is_none()).collect();
    assert!(cases.len() >= 100, "sprig corpus has only {} cases", cases.len());
    let results = run_go(&cases);
    let mut failures = Vec::new();
    for (case, go) in cases.iter().zip(&results) {
        assert_eq!(case.name, go.name);
        let ours = run_case(case);
        let same = match &ours {
            Outcome::Output(o) => !go.failed && *o == go.output,
            Outcome::Error(e) => go.failed && *e == go.error,
        };
        if !same {
            let go_side = if go.failed { format!("error {:?}", go.error) } else { format!("output {:?}", go.output) };
            failures.push(format!("{}:\n  template {:?}\n  go   {go_side}\n  ours {ours:?}", case.name, case.template));
        }
    }
    eprintln!("sprig differential: {} of {} cases agree with sprig", cases.len() - failures.len(), cases.len());
    assert!(failures.is_empty(), "{} cases differ from sprig:\n{}", failures.len(), failures.join("\n"));
}
