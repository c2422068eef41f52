//! The source benchmark's repositories: N distinct small app repositories, each a bare
//! repository `<root>/app-<i>.git` with a short history, written by `git fast-import` (two git
//! processes per repository instead of a dozen for init, add, commit and push).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::workload::{app_objects, to_yaml_stream};

/// The repository of app `i` under the server's root.
pub fn repo_name(i: usize) -> String {
    format!("app-{i}")
}

/// Writes the N repositories under `root`, `workers` at a time.
pub fn write_all(root: &Path, n: usize, workers: usize) -> anyhow::Result<()> {
    let workers = workers.clamp(1, n.max(1));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| scope.spawn(move || (w..n).step_by(workers).try_for_each(|i| write_repo(root, i))))
            .collect();
        handles.into_iter().try_for_each(|h| h.join().unwrap_or_else(|_| bail!("a repository writer panicked")))
    })
}

fn write_repo(root: &Path, i: usize) -> anyhow::Result<()> {
    let bare = root.join(format!("{}.git", repo_name(i)));
    git(root, &["init", "-q", "--bare", "-b", "main"], Some(&bare), None)?;
    let stream = fast_import_stream(&history(i));
    git(&bare, &["fast-import", "--quiet"], None, Some(&stream))
        .with_context(|| format!("importing the history of {}", bare.display()))
}

/// One commit: its message and the files it writes (path, content).
type Commit = (String, Vec<(String, String)>);

/// A typical small app: manifests, configuration, docs and a little code, in three commits so
/// that a shallow clone has history to leave behind.
fn history(i: usize) -> Vec<Commit> {
    let name = repo_name(i);
    let manifests = to_yaml_stream(&app_objects(&name, None));
    let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - app.yaml\n";
    let settings = |level: &str| format!("APP_NAME={name}\nLOG_LEVEL={level}\nPORT=9898\nREPLICAS=0\n");
    let main_go = format!(
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {{\n\thttp.HandleFunc(\"/\", \
         func(w http.ResponseWriter, _ *http.Request) {{\n\t\tfmt.Fprintln(w, \"{name}\")\n\t}})\n\t\
         _ = http.ListenAndServe(\":9898\", nil)\n}}\n"
    );
    let readme = |extra: &str| format!("# {name}\n\nOne of the benchmark's apps.{extra}\n");
    let changelog: String = (0..40).map(|k| format!("- {name}: change {k}\n")).collect();
    vec![
        (
            format!("{name}: initial"),
            vec![
                ("README.md".into(), readme("")),
                ("deploy/kustomization.yaml".into(), kustomization.into()),
                ("deploy/app.yaml".into(), manifests.clone()),
                ("config/settings.env".into(), settings("debug")),
                ("src/main.go".into(), main_go),
                ("go.mod".into(), format!("module example.invalid/{name}\n\ngo 1.22\n")),
            ],
        ),
        (
            format!("{name}: docs"),
            vec![
                ("README.md".into(), readme("\n\nDeployed by a GitRepository and a Kustomization.")),
                ("docs/CHANGELOG.md".into(), changelog),
            ],
        ),
        (format!("{name}: quieter logs"), vec![("config/settings.env".into(), settings("info"))]),
    ]
}

/// The `git fast-import` input for `commits` on `refs/heads/main`, with fixed dates so that
/// every run makes the same commits.
fn fast_import_stream(commits: &[Commit]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, (message, files)) in commits.iter().enumerate() {
        let _ = writeln!(out, "commit refs/heads/main");
        let _ = writeln!(out, "committer Weir Bench <bench@weir.invalid> {} +0000", 1_700_000_000 + k * 60);
        let _ = writeln!(out, "data {}\n{message}", message.len());
        for (path, content) in files {
            let _ = writeln!(out, "M 100644 inline {path}\ndata {}\n{content}", content.len());
        }
        out.push(b'\n');
    }
    out
}

/// Runs git in `dir` (with `target` as the last argument, and `stdin` fed when given).
fn git(dir: &Path, args: &[&str], target: Option<&Path>, stdin: Option<&[u8]>) -> anyhow::Result<()> {
    let mut command = Command::new("git");
    command.args(args).current_dir(dir).env_remove("GIT_DIR");
    if let Some(target) = target {
        command.arg(target);
    }
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().with_context(|| format!("running git {args:?} (is git installed?)"))?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes).with_context(|| format!("writing to git {args:?}"))?;
    }
    let output = child.wait_with_output().with_context(|| format!("waiting for git {args:?}"))?;
    if !output.status.success() {
        bail!("git {args:?} in {} failed: {}", dir.display(), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_have_distinct_histories_on_main() {
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path(), 3, 2).unwrap();
        let head = |i: usize| {
            let output = Command::new("git")
                .args(["rev-parse", "main", "main~2"])
                .current_dir(dir.path().join(format!("app-{i}.git")))
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap()
        };
        let heads: Vec<String> = (0..3).map(head).collect();
        assert_eq!(heads[0].lines().count(), 2, "three commits on main");
        assert_ne!(heads[0], heads[1]);
        assert_ne!(heads[1], heads[2]);
        assert!(dir.path().join("app-2.git/HEAD").is_file());
    }
}
