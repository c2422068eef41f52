//! What `helm template` prints for a rendered chart: the release manifest (CRDs when asked,
//! then manifests), then hooks; `--show-only` picks documents by template path, and
//! `--output-dir` writes files instead of printing.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow};
use weir_helm::chart::glob_matches;
use weir_helm::render::{Manifest, Rendered};

/// How the rendered chart is printed.
#[derive(Debug, Default, Clone)]
pub struct OutputOptions {
    pub include_crds: bool,
    pub no_hooks: bool,
    pub skip_tests: bool,
    pub show_only: Vec<String>,
    pub output_dir: Option<String>,
}

/// Writes `rendered` as `helm template` does, to `out` (and files under `output_dir`).
pub fn write_rendered(rendered: &Rendered, opts: &OutputOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut release_manifest = String::new();
    let mut written = HashSet::new();
    if opts.include_crds {
        for crd in &rendered.crds {
            emit(&mut release_manifest, opts, out, &mut written, &crd.source, &crd.content)?;
        }
    }
    for m in &rendered.manifests {
        emit(&mut release_manifest, opts, out, &mut written, &m.source, &m.content)?;
    }
    let mut manifests = format!("{}\n", release_manifest.trim());
    if !opts.no_hooks {
        // Hooks are written apart in Helm, with their own record of files: a hook in a file that
        // also holds manifests replaces that file.
        let mut hooks_written = HashSet::new();
        for hook in rendered.hooks.iter().filter(|h| !(opts.skip_tests && is_test_hook(h))) {
            emit(&mut manifests, opts, out, &mut hooks_written, &hook.source, &hook.content)?;
        }
    }
    if opts.show_only.is_empty() {
        return out.write_all(manifests.as_bytes()).context("writing the manifests");
    }
    let mut selected = Vec::new();
    let docs = split_manifests(&manifests);
    for pattern in &opts.show_only {
        let pattern = pattern.replace('\\', "/");
        let mut missing = true;
        for doc in &docs {
            let Some(path) = template_path(doc) else { continue };
            if glob_matches(&pattern, path, false) {
                selected.push(doc.as_str());
                missing = false;
            }
        }
        if missing {
            return Err(anyhow!("could not find template {pattern} in chart"));
        }
    }
    for doc in selected {
        write!(out, "---\n{doc}\n").context("writing the manifests")?;
    }
    Ok(())
}

/// Appends one document to `buffer`, or writes it to its file under the output directory.
fn emit(
    buffer: &mut String,
    opts: &OutputOptions,
    out: &mut dyn Write,
    written: &mut HashSet<String>,
    source: &str,
    content: &str,
) -> anyhow::Result<()> {
    let document = format!("---\n# Source: {source}\n{content}\n");
    let Some(dir) = &opts.output_dir else {
        buffer.push_str(&document);
        return Ok(());
    };
    // Helm joins the names as strings, and prints the path so joined.
    let file_name = format!("{dir}/{source}");
    let path = Path::new(&file_name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let append = !written.insert(source.to_string());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .with_context(|| format!("opening {file_name}"))?;
    file.write_all(document.as_bytes()).with_context(|| format!("writing {file_name}"))?;
    writeln!(out, "wrote {file_name}").context("writing to stdout")?;
    Ok(())
}

/// Helm's `release.HookTest` (also written `test-success` by older charts).
fn is_test_hook(hook: &Manifest) -> bool {
    hook.hook_events.iter().any(|e| e.eq_ignore_ascii_case("test") || e.eq_ignore_ascii_case("test-success"))
}

/// Helm's `releaseutil.SplitManifests` in order: split where `---` starts the text or a line,
/// documents trimmed, empty ones dropped.
fn split_manifests(text: &str) -> Vec<String> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let mut docs = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_line_start = i == 0 || bytes[i - 1] == b'\n';
        if at_line_start && bytes[i..].starts_with(b"---") && !(i == start && start > 0) {
            // A separator's trailing whitespace takes the line break, so `---` right after it
            // stays text, as Helm's regular expression leaves it.
            docs.push(&text[start..i]);
            i += 3;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            start = i;
            continue;
        }
        i += 1;
    }
    docs.push(&text[start..]);
    docs.into_iter().map(str::trim).filter(|d| !d.is_empty()).map(str::to_string).collect()
}

/// The template path after the chart name in a document's `# Source:` line (Helm's
/// `# Source: [^/]+/(.+)`).
fn template_path(doc: &str) -> Option<&str> {
    let at = doc.find("# Source: ")?;
    let line = doc[at + "# Source: ".len()..].lines().next()?;
    let (chart, path) = line.split_once('/')?;
    if chart.is_empty() || path.is_empty() { None } else { Some(path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_separators_at_line_starts() {
        let docs =
            split_manifests("---\n# Source: c/templates/a.yaml\na: 1\n---\n# Source: c/templates/b.yaml\nb: x---y\n");
        assert_eq!(docs, vec!["# Source: c/templates/a.yaml\na: 1", "# Source: c/templates/b.yaml\nb: x---y"]);
        assert_eq!(template_path(&docs[1]), Some("templates/b.yaml"));
    }
}
