//! Differential test for sprig: runs every case of tests/corpus/sprig*.txt through Go's
//! text/template with Masterminds/sprig (as Helm 3 registers it: `TxtFuncMap` without
//! `env`/`expandenv`) using tests/goreference, and compares with weir-helm.
//!
//! The reference is Debian's golang-github-masterminds-sprig-dev (sprig 3.2.3, built in
//! GOPATH mode from /usr/share/gocode; override with SPRIG_GOPATH). Cases marked
//! `differs:` are known differences and are not compared.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::go_reference::{GoFunctions, compare, run_go};
use common::{is_sprig, load_corpus};

fn gopath() -> PathBuf {
    let p = PathBuf::from(std::env::var("SPRIG_GOPATH").unwrap_or_else(|_| "/usr/share/gocode".into()));
    assert!(
        p.join("src/github.com/Masterminds/sprig").is_dir(),
        "sprig's Go source is needed as the reference: `apt-get install golang-github-masterminds-sprig-dev` \
         (Debian) or set SPRIG_GOPATH to a GOPATH holding github.com/Masterminds/sprig and its dependencies"
    );
    p
}

#[test]
fn sprig_corpus_matches_masterminds_sprig() {
    let cases: Vec<_> = load_corpus().into_iter().filter(|c| is_sprig(c) && c.differs.is_none()).collect();
    assert!(cases.len() >= 100, "sprig corpus has only {} cases", cases.len());
    let results = run_go(GoFunctions::Sprig { gopath: gopath() }, &cases);
    let failures = compare(&cases, &results);
    eprintln!("sprig differential: {} of {} cases agree with sprig", cases.len() - failures.len(), cases.len());
    assert!(failures.is_empty(), "{} cases differ from sprig:\n{}", failures.len(), failures.join("\n"));
}
