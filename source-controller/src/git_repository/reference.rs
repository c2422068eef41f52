//! Which remote ref a GitRepository follows, and the revision string Flux writes for it
//! (`pkg/git`: `<short ref>@sha1:<sha>`, the full ref for `ref.name`, `sha1:<sha>` for a commit alone).

use weir_api::source::git_repository::GitReference;

/// A ref the remote advertises, with the commit it points to (annotated tags peeled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteRef {
    /// The full name, e.g. `refs/heads/main`.
    pub name: String,
    /// The commit, as 40 hex digits.
    pub commit: String,
    /// The annotated tag object the ref points to, when it is one.
    pub tag: Option<String>,
}

/// What to fetch, once the spec's reference is resolved against the remote's refs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// What to ask the server for: a full ref name, or a commit id.
    pub fetch: String,
    /// The commit expected at `fetch`, when the remote's refs tell it.
    pub commit: String,
    /// The name written before `@` in the revision (`main`, `v1.2.3`, `refs/pull/1/head`), if any.
    pub label: Option<String>,
}

impl Target {
    /// The revision string of this target at `commit`.
    pub fn revision(&self, commit: &str) -> String {
        revision(self.label.as_deref(), commit)
    }
}

/// Flux's revision string: `<label>@sha1:<sha>`, or `sha1:<sha>` without a label.
pub fn revision(label: Option<&str>, commit: &str) -> String {
    match label {
        Some(label) => format!("{label}@sha1:{commit}"),
        None => format!("sha1:{commit}"),
    }
}

/// Why a reference cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("branch '{0}' not found in the remote repository")]
    BranchNotFound(String),
    #[error("tag '{0}' not found in the remote repository")]
    TagNotFound(String),
    #[error("reference '{0}' not found in the remote repository")]
    NameNotFound(String),
    #[error("invalid semver range '{range}': {message}")]
    InvalidSemver { range: String, message: String },
    #[error("no tag matches the semver range '{0}'")]
    NoSemverMatch(String),
    #[error("invalid commit '{0}': it must be a full 40-character SHA-1")]
    InvalidCommit(String),
    #[error("invalid reference name '{0}': it must start with 'refs/'")]
    InvalidName(String),
}

/// The refspec prefixes to list on the remote for a reference (a cheap `ls-refs`).
pub fn ls_patterns(reference: &GitReference<'_>) -> Vec<String> {
    match reference {
        GitReference::Branch(branch) => vec![format!("refs/heads/{branch}")],
        GitReference::Tag(tag) => vec![format!("refs/tags/{tag}")],
        GitReference::SemVer(_) => vec!["refs/tags/*".to_string()],
        GitReference::Name(name) => vec![(*name).to_string()],
        GitReference::Commit { .. } => Vec::new(),
    }
}

/// Resolves the spec's reference against the refs the remote advertises.
pub fn resolve(reference: &GitReference<'_>, refs: &[RemoteRef]) -> Result<Target, ReferenceError> {
    let find = |name: &str| refs.iter().find(|r| r.name == name).map(|r| r.commit.clone());
    match *reference {
        GitReference::Branch(branch) => {
            let name = format!("refs/heads/{branch}");
            let commit = find(&name).ok_or_else(|| ReferenceError::BranchNotFound(branch.to_string()))?;
            Ok(Target { fetch: name, commit, label: Some(branch.to_string()) })
        }
        GitReference::Tag(tag) => {
            let name = format!("refs/tags/{tag}");
            let commit = find(&name).ok_or_else(|| ReferenceError::TagNotFound(tag.to_string()))?;
            Ok(Target { fetch: name, commit, label: Some(tag.to_string()) })
        }
        GitReference::SemVer(range) => {
            let tags: Vec<&str> = refs.iter().filter_map(|r| r.name.strip_prefix("refs/tags/")).collect();
            let tag = highest_matching(range, &tags)?;
            let name = format!("refs/tags/{tag}");
            let commit = find(&name).ok_or_else(|| ReferenceError::TagNotFound(tag.clone()))?;
            Ok(Target { fetch: name, commit, label: Some(tag) })
        }
        GitReference::Name(name) => {
            if !name.starts_with("refs/") {
                return Err(ReferenceError::InvalidName(name.to_string()));
            }
            let commit = find(name).ok_or_else(|| ReferenceError::NameNotFound(name.to_string()))?;
            Ok(Target { fetch: name.to_string(), commit, label: Some(name.to_string()) })
        }
        GitReference::Commit { sha, branch } => commit_target(sha, branch),
    }
}

/// A commit needs no listing: it is fetched by id. With a branch, the revision names the branch.
pub fn commit_target(sha: &str, branch: Option<&str>) -> Result<Target, ReferenceError> {
    if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ReferenceError::InvalidCommit(sha.to_string()));
    }
    let sha = sha.to_ascii_lowercase();
    Ok(Target { fetch: sha.clone(), commit: sha, label: branch.map(str::to_string) })
}

/// The highest tag that parses as a semantic version (a leading `v` allowed, as in Flux) and
/// matches `range`.
pub fn highest_matching(range: &str, tags: &[&str]) -> Result<String, ReferenceError> {
    let requirements = parse_range(range)?;
    tags.iter()
        .filter_map(|tag| {
            let version = semver::Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()?;
            requirements.iter().any(|r| r.matches(&version)).then_some((version, *tag))
        })
        // On equal versions (`1.0.0` and `v1.0.0`), the name decides, so the choice is stable.
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, tag)| tag.to_string())
        .ok_or_else(|| ReferenceError::NoSemverMatch(range.to_string()))
}

/// Flux's ranges are Masterminds/semver constraints: `||` between alternatives, comparators
/// separated by spaces or commas, `a - b` hyphen ranges, `x` wildcards and `~>`. The `semver`
/// crate reads Cargo's syntax (comma-separated comparators), so each alternative is rewritten.
fn parse_range(range: &str) -> Result<Vec<semver::VersionReq>, ReferenceError> {
    let invalid = |message: String| ReferenceError::InvalidSemver { range: range.to_string(), message };
    range
        .split("||")
        .map(|alternative| {
            let cargo = cargo_syntax(alternative).map_err(invalid)?;
            semver::VersionReq::parse(&cargo).map_err(|e| invalid(e.to_string()))
        })
        .collect()
}

fn cargo_syntax(alternative: &str) -> Result<String, String> {
    const OPERATORS: &[&str] = &["=", ">", "<", ">=", "<=", "~", "^", "~>"];
    let tokens: Vec<&str> = alternative.split([' ', ',', '\t']).filter(|t| !t.is_empty()).collect();
    let mut comparators: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        if token == "-" {
            let (Some(low), Some(high)) = (comparators.pop(), tokens.get(i + 1)) else {
                return Err("a hyphen range needs a version on both sides".to_string());
            };
            comparators.push(format!(">={low}"));
            comparators.push(format!("<={high}"));
            i += 2;
            continue;
        }
        let comparator = if OPERATORS.contains(&token) {
            let version = tokens.get(i + 1).ok_or_else(|| format!("'{token}' needs a version"))?;
            i += 1;
            format!("{token}{version}")
        } else {
            token.to_string()
        };
        let comparator = comparator.replace("~>", "~").replace(['x', 'X'], "*");
        comparators.push(
            comparator.trim_start_matches('v').replacen("=v", "=", 1).replacen(">v", ">", 1).replacen("<v", "<", 1),
        );
        i += 1;
    }
    if comparators.is_empty() {
        return Err("the range is empty".to_string());
    }
    Ok(comparators.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    fn refs() -> Vec<RemoteRef> {
        [
            ("refs/heads/main", A),
            ("refs/tags/v1.0.0", A),
            ("refs/tags/v1.2.3", B),
            ("refs/tags/v2.0.0-rc.1", B),
            ("refs/tags/not-a-version", B),
            ("refs/pull/1/head", B),
        ]
        .into_iter()
        .map(|(name, commit)| RemoteRef { name: name.into(), commit: commit.into(), tag: None })
        .collect()
    }

    #[test]
    fn revision_strings_are_fluxs() {
        let refs = refs();
        let rev = |r: GitReference<'_>| {
            let target = resolve(&r, &refs).unwrap();
            target.revision(&target.commit)
        };
        assert_eq!(rev(GitReference::Branch("main")), format!("main@sha1:{A}"));
        assert_eq!(rev(GitReference::Tag("v1.2.3")), format!("v1.2.3@sha1:{B}"));
        assert_eq!(rev(GitReference::SemVer("^1")), format!("v1.2.3@sha1:{B}"));
        assert_eq!(rev(GitReference::Name("refs/pull/1/head")), format!("refs/pull/1/head@sha1:{B}"));
        assert_eq!(rev(GitReference::Commit { sha: A, branch: None }), format!("sha1:{A}"));
        assert_eq!(rev(GitReference::Commit { sha: B, branch: Some("main") }), format!("main@sha1:{B}"));
    }

    #[test]
    fn missing_refs_are_named() {
        let refs = refs();
        let err = |r: GitReference<'_>| resolve(&r, &refs).unwrap_err().to_string();
        assert!(err(GitReference::Branch("nope")).contains("branch 'nope'"));
        assert!(err(GitReference::Tag("v9")).contains("tag 'v9'"));
        assert!(err(GitReference::Name("refs/pull/9/head")).contains("'refs/pull/9/head'"));
        assert!(err(GitReference::SemVer(">=3")).contains("'>=3'"));
        assert!(err(GitReference::SemVer("not a range")).contains("invalid semver range"));
        assert!(err(GitReference::Commit { sha: "abc", branch: None }).contains("40-character"));
    }

    #[test]
    fn semver_picks_the_highest_match() {
        let tags = ["v1.0.0", "1.1.0", "v1.10.0", "v1.9.0", "v2.0.0-rc.1", "latest", "v0.9.0"];
        assert_eq!(highest_matching(">=1.0.0 <2.0.0", &tags).unwrap(), "v1.10.0");
        assert_eq!(highest_matching("~1.1", &tags).unwrap(), "1.1.0");
        assert_eq!(highest_matching("<1", &tags).unwrap(), "v0.9.0");
        // Pre-releases only match a range that names one, as in Masterminds/semver.
        assert_eq!(highest_matching(">=2.0.0-rc.0", &tags).unwrap(), "v2.0.0-rc.1");
        assert!(highest_matching(">=3", &tags).is_err());
    }

    #[test]
    fn masterminds_range_syntax() {
        let tags = ["v1.0.0", "v1.4.2", "v1.5.0", "v2.1.0", "v3.0.0"];
        assert_eq!(highest_matching(">=1.0.0 <2", &tags).unwrap(), "v1.5.0");
        assert_eq!(highest_matching(">= 1.0.0, < 1.5.0", &tags).unwrap(), "v1.4.2");
        assert_eq!(highest_matching("1.0 - 1.4.9", &tags).unwrap(), "v1.4.2");
        assert_eq!(highest_matching("1.x", &tags).unwrap(), "v1.5.0");
        assert_eq!(highest_matching("~> 1.4", &tags).unwrap(), "v1.4.2");
        assert_eq!(highest_matching("<1.1 || >=2.0.0 <3", &tags).unwrap(), "v2.1.0");
        assert_eq!(highest_matching("*", &tags).unwrap(), "v3.0.0");
        assert!(highest_matching("- 1", &tags).is_err());
    }

    #[test]
    fn listing_is_narrowed_to_the_reference() {
        assert_eq!(ls_patterns(&GitReference::Branch("main")), ["refs/heads/main"]);
        assert_eq!(ls_patterns(&GitReference::SemVer("*")), ["refs/tags/*"]);
        assert!(ls_patterns(&GitReference::Commit { sha: A, branch: None }).is_empty());
    }
}
