//! Runs every corpus case (tests/corpus/*.txt) and compares with its expected output.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{Expect, Outcome, load_corpus, run_case};

#[test]
fn corpus_cases_match_expectations() {
    let cases = load_corpus();
    assert!(cases.len() >= 150, "corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let got = run_case(case);
        let ok = match (&case.expect, &got) {
            (Expect::Output(want), Outcome::Output(got)) => want == got,
            (Expect::Error(want), Outcome::Error(got)) => want == got,
            (Expect::Unset, _) => false,
            _ => false,
        };
        if !ok {
            failures.push(format!("{} / {}:\n  want {:?}\n  got  {:?}", case.file, case.name, case.expect, got));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
