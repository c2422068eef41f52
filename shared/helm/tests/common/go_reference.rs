//! Runs corpus cases through the Go reference program (tests/goreference, with the corpus's
//! helper functions or with sprig's) and compares Go's results with weir-helm's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Case, Outcome, run_case};

/// One case's result on the Go side.
#[derive(serde::Deserialize)]
pub struct GoResult {
    pub name: String,
    pub output: String,
    pub error: String,
    pub failed: bool,
}

/// The Go toolchain (`$GO` or `go`); fails the test with what to do when it is missing.
pub fn go_binary() -> String {
    let go = std::env::var("GO").unwrap_or_else(|_| "go".into());
    let found = Command::new(&go).arg("version").output().is_ok_and(|o| o.status.success());
    assert!(
        found,
        "Go is needed as the reference for the differential tests but `{go} version` failed: \
         run `hack/test.sh` (it installs Go) or set GO=/path/to/go"
    );
    go
}

/// The template functions the Go reference registers.
pub enum GoFunctions {
    /// The corpus's own helpers (`fail`, `joiner`, `failer`, `echo`).
    Corpus,
    /// Masterminds/sprig as Helm 3 registers it, from the GOPATH that holds it.
    Sprig { gopath: PathBuf },
}

/// Runs `cases` through `tests/goreference` in GOPATH mode, one result per case, in order.
pub fn run_go(functions: GoFunctions, cases: &[Case]) -> Vec<GoResult> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("goreference");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("weir-helm-gocache");
    let mut command = Command::new(go_binary());
    command.arg("run").current_dir(&dir).env("GOCACHE", &cache).env("GO111MODULE", "off");
    command.env("GOFLAGS", "").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let GoFunctions::Sprig { gopath } = functions {
        command.args(["-tags", "sprig"]).env("GOPATH", gopath);
    }
    command.arg(".");
    let mut child = command.spawn().expect("start go run");
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

/// Compares our results with Go's; returns one description per differing case.
pub fn compare(cases: &[Case], results: &[GoResult]) -> Vec<String> {
    let mut failures = Vec::new();
    for (case, go) in cases.iter().zip(results) {
        assert_eq!(case.name, go.name);
        let ours = run_case(case);
        let same = match &ours {
            Outcome::Output(o) => !go.failed && *o == go.output,
            Outcome::Error(e) => go.failed && *e == go.error,
        };
        if !same {
            let go_side = if go.failed { format!("error {:?}", go.error) } else { format!("output {:?}", go.output) };
            failures.push(format!(
                "{} / {}:\n  template {:?}\n  go   {go_side}\n  ours {ours:?}",
                case.file, case.name, case.template
            ));
        }
    }
    failures
}
