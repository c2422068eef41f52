//! GitRepository (`source.toolkit.fluxcd.io/v1`): a Git repository that the source controller
//! clones at a branch, tag, semver range, named ref or commit, and publishes as an artifact.

use std::time::Duration;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;
use crate::duration::{DurationError, parse_duration};
use crate::meta::{Artifact, LocalObjectReference};
use crate::validation::{Validate, ValidationErrors, Validator};

/// The branch checked out when a GitRepository names no reference at all.
pub const DEFAULT_BRANCH: &str = "master";

/// How long a Git operation may take when `spec.timeout` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The pattern `spec.url` must match.
pub const URL_PATTERN: &str = r"^(http|https|ssh)://.*$";

/// The message of the CEL rule that ties `serviceAccountName` to the cloud providers.
pub const SERVICE_ACCOUNT_MESSAGE: &str = "serviceAccountName can only be set when provider is 'azure' or 'aws'";

/// Where to clone from, which reference to follow and how to turn the tree into an artifact.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "GitRepository",
    doc = "A Git repository followed at one reference and published as a tarball artifact.",
    namespaced,
    status = "GitRepositoryStatus",
    shortname = "gitrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].message"#)
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": "serviceAccountName can only be set when provider is 'azure' or 'aws'",
    "rule": "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))"
}]))]
pub struct GitRepositorySpec {
    /// Exclusion patterns in `.sourceignore` (gitignore) syntax that replace the built-in defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Other GitRepositories whose artifact contents are copied into this one's artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<GitRepositoryInclude>>,
    /// How often to look for new commits (approximate: the controller adds jitter).
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// How to authenticate: `generic` (credentials from secretRef, the default) or a provider's
    /// workload identity (`aws`, `azure`) or GitHub App (`github`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<GitProvider>,
    /// Secret with the proxy address and optional credentials used to reach the Git server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// Also clone every submodule, with their default settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurse_submodules: Option<bool>,
    /// The reference to follow; when absent, the `master` branch.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<GitRepositoryRef>,
    /// Secret with the credentials: `username`/`password` or `bearerToken` over HTTPS,
    /// `identity` and `known_hosts` over SSH, optionally `ca.crt` (and `tls.crt`/`tls.key`) for TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Kubernetes ServiceAccount whose workload identity authenticates to the repository;
    /// only for the `azure` and `aws` providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Only these directories are checked out and end up in the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse_checkout: Option<Vec<String>>,
    /// Stops reconciling this object while true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Limit for one Git operation such as a clone; 60s when unset. Hours are not accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "60s"), regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
    /// Address of the repository: `http://`, `https://` or `ssh://`.
    #[schemars(regex(pattern = r"^(http|https|ssh)://.*$"))]
    pub url: String,
    /// Check the signature of the checked-out commit and/or tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<GitRepositoryVerification>,
}

/// Who issues the credentials for the repository.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GitProvider {
    /// Credentials from `secretRef`, if any.
    #[default]
    Generic,
    /// AWS workload identity (CodeCommit).
    Aws,
    /// Azure workload identity (Azure DevOps).
    Azure,
    /// A GitHub App whose keys are in `secretRef`.
    Github,
}

/// Copies (part of) another GitRepository's artifact into this one's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryInclude {
    /// Directory of the included artifact to copy; its root when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_path: Option<String>,
    /// The GitRepository, in the same namespace, to include.
    pub repository: LocalObjectReference,
    /// Directory to copy into; the included repository's name when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_path: Option<String>,
}

impl GitRepositoryInclude {
    /// The source directory inside the included artifact (empty means its root).
    pub fn from_path(&self) -> &str {
        self.from_path.as_deref().unwrap_or_default()
    }

    /// The destination directory inside this artifact, defaulting to the included repository's name.
    pub fn to_path(&self) -> &str {
        match self.to_path.as_deref() {
            Some(p) if !p.is_empty() => p,
            _ => &self.repository.name,
        }
    }
}

/// The Git reference to check out. When several fields are set, the first of commit, name, semver,
/// tag and branch wins (see [`GitRepositoryRef::resolve`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitRepositoryRef {
    /// Branch to follow; `master` when no field is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Exact commit SHA; wins over every other field. With `branch`, only that branch is fetched
    /// and must contain the commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Any full Git reference, e.g. `refs/heads/main`, `refs/tags/v1.0.0` or `refs/pull/42/head`;
    /// wins over semver, tag and branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Semantic version range; the highest matching tag is checked out. Wins over tag and branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// Tag to check out; wins over branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// The reference a GitRepository actually follows, after applying the precedence rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GitReference<'a> {
    /// A fixed commit, optionally fetched through the given branch.
    Commit { sha: &'a str, branch: Option<&'a str> },
    /// A full reference name such as `refs/pull/42/head`.
    Name(&'a str),
    /// The highest tag in a semantic version range.
    SemVer(&'a str),
    /// A tag.
    Tag(&'a str),
    /// The head of a branch.
    Branch(&'a str),
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

impl GitRepositoryRef {
    /// The reference that wins: commit, then name, then semver, then tag, then branch, and the
    /// `master` branch when none is set. Empty strings count as unset, as in Flux.
    pub fn resolve(&self) -> GitReference<'_> {
        let branch = non_empty(&self.branch);
        if let Some(sha) = non_empty(&self.commit) {
            GitReference::Commit { sha, branch }
        } else if let Some(name) = non_empty(&self.name) {
            GitReference::Name(name)
        } else if let Some(range) = non_empty(&self.semver) {
            GitReference::SemVer(range)
        } else if let Some(tag) = non_empty(&self.tag) {
            GitReference::Tag(tag)
        } else {
            GitReference::Branch(branch.unwrap_or(DEFAULT_BRANCH))
        }
    }
}

/// Signature verification of what was checked out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryVerification {
    /// What to verify: the HEAD commit (`HEAD`, or its older spelling `head`), the tag (`Tag`) or
    /// both (`TagAndHEAD`). `HEAD` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "HEAD"))]
    pub mode: Option<GitVerificationMode>,
    /// Secret with the trusted public keys: OpenPGP keys under `*.asc` keys, SSH keys under `*.sshpub` keys.
    pub secret_ref: LocalObjectReference,
}

impl GitRepositoryVerification {
    /// The mode, with the default applied.
    pub fn mode(&self) -> GitVerificationMode {
        self.mode.unwrap_or_default()
    }
}

/// Which Git objects to verify.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum GitVerificationMode {
    /// Older spelling of `HEAD`, kept for compatibility.
    #[serde(rename = "head")]
    LegacyHead,
    /// The commit HEAD points to.
    #[default]
    #[serde(rename = "HEAD")]
    Head,
    /// The tag being checked out.
    Tag,
    /// Both the tag and the commit it points to.
    #[serde(rename = "TagAndHEAD")]
    TagAndHead,
}

impl GitVerificationMode {
    /// Whether the checked-out commit's signature is verified.
    pub fn verifies_head(self) -> bool {
        matches!(self, Self::LegacyHead | Self::Head | Self::TagAndHead)
    }

    /// Whether the tag's signature is verified.
    pub fn verifies_tag(self) -> bool {
        matches!(self, Self::Tag | Self::TagAndHead)
    }
}

impl GitRepositorySpec {
    /// How often to reconcile.
    pub fn interval(&self) -> Result<Duration, DurationError> {
        parse_duration(&self.interval)
    }

    /// The limit for one Git operation, 60s when unset.
    pub fn timeout(&self) -> Result<Duration, DurationError> {
        self.timeout.as_deref().map_or(Ok(DEFAULT_TIMEOUT), parse_duration)
    }

    /// The reference to check out, with Flux's precedence and default applied.
    pub fn reference(&self) -> GitReference<'_> {
        match &self.reference {
            Some(r) => r.resolve(),
            None => GitReference::Branch(DEFAULT_BRANCH),
        }
    }

    /// The authentication provider, `generic` when unset.
    pub fn provider(&self) -> GitProvider {
        self.provider.unwrap_or_default()
    }
}

/// What the controller last observed and produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct GitRepositoryStatus {
    /// The artifact of the last successful reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// Ready, Reconciling, Stalled and the source conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// The artifacts of the included repositories, in the order of `spec.include`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_artifacts: Option<Vec<Artifact>>,
    /// The last `reconcile.fluxcd.io/requestedAt` value handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// The `metadata.generation` last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The ignore patterns the artifact was built with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// The includes the artifact was built with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_include: Option<Vec<GitRepositoryInclude>>,
    /// Whether submodules were cloned for the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_recurse_submodules: Option<bool>,
    /// The sparse checkout directories the artifact was built with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_sparse_checkout: Option<Vec<String>>,
    /// The verification mode last applied (`HEAD`, `Tag` or `TagAndHEAD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_verification_mode: Option<String>,
}

impl Validate for GitRepository {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let spec = &self.spec;
        let mut v = Validator::new();
        v.duration("spec.interval", Some(&spec.interval));
        v.duration_without_hours("spec.timeout", spec.timeout.as_deref());
        v.pattern("spec.url", Some(&spec.url), URL_PATTERN);
        // CEL: serviceAccountName only with the azure or aws provider.
        if spec.service_account_name.is_some() {
            v.check(
                matches!(spec.provider, Some(GitProvider::Azure | GitProvider::Aws)),
                "spec.serviceAccountName",
                SERVICE_ACCOUNT_MESSAGE,
            );
        }
        if let Some(r) = &spec.secret_ref {
            v.required("spec.secretRef.name", &r.name);
        }
        if let Some(r) = &spec.proxy_secret_ref {
            v.required("spec.proxySecretRef.name", &r.name);
        }
        if let Some(verify) = &spec.verify {
            v.required("spec.verify.secretRef.name", &verify.secret_ref.name);
        }
        for (i, include) in spec.include.iter().flatten().enumerate() {
            v.required(&format!("spec.include[{i}].repository.name"), &include.repository.name);
        }
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/gitrepositories.yaml");

    fn fixture() -> GitRepository {
        serde_saphyr::from_str(FIXTURE).unwrap()
    }

    fn errors(obj: &GitRepository) -> Vec<(String, String)> {
        obj.validate().unwrap_err().0.into_iter().map(|e| (e.path, e.message)).collect()
    }

    #[test]
    fn minimal_object_is_valid_and_defaults_apply() {
        let obj = GitRepository::new(
            "podinfo",
            GitRepositorySpec {
                interval: "5m".into(),
                url: "https://github.com/stefanprodan/podinfo".into(),
                ..Default::default()
            },
        );
        obj.validate().unwrap();
        assert_eq!(obj.spec.interval(), Ok(Duration::from_secs(300)));
        assert_eq!(obj.spec.timeout(), Ok(Duration::from_secs(60)));
        assert_eq!(obj.spec.reference(), GitReference::Branch("master"));
        assert_eq!(obj.spec.provider(), GitProvider::Generic);
    }

    #[test]
    fn service_account_requires_a_cloud_provider() {
        let mut obj = fixture();
        obj.spec.provider = Some(GitProvider::Github);
        assert_eq!(errors(&obj), vec![("spec.serviceAccountName".to_string(), SERVICE_ACCOUNT_MESSAGE.to_string())]);
        obj.spec.provider = None;
        assert_eq!(errors(&obj)[0].1, SERVICE_ACCOUNT_MESSAGE);
        obj.spec.provider = Some(GitProvider::Aws);
        obj.validate().unwrap();
        obj.spec.provider = None;
        obj.spec.service_account_name = None;
        obj.validate().unwrap();
    }

    #[test]
    fn rejects_bad_durations_and_urls() {
        let mut obj = fixture();
        obj.spec.interval = "5d".into();
        obj.spec.timeout = Some("1h".into());
        obj.spec.url = "git@github.com:org/repo.git".into();
        let errs = errors(&obj);
        let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["spec.interval", "spec.timeout", "spec.url"], "{errs:?}");
        assert!(errs[0].1.contains("\"5d\""), "{errs:?}");
    }

    #[test]
    fn rejects_empty_reference_names() {
        let mut obj = fixture();
        obj.spec.include.as_mut().unwrap()[0].repository.name.clear();
        assert_eq!(errors(&obj)[0].0, "spec.include[0].repository.name");
    }

    #[test]
    fn serde_rejects_unknown_enum_values() {
        let bad = FIXTURE.replace("provider: azure", "provider: gitlab");
        assert!(serde_saphyr::from_str::<GitRepository>(&bad).is_err());
        let bad = FIXTURE.replace("mode: TagAndHEAD", "mode: Commit");
        assert!(serde_saphyr::from_str::<GitRepository>(&bad).is_err());
    }

    #[test]
    fn reference_precedence() {
        let all = GitRepositoryRef {
            branch: Some("main".into()),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            name: Some("refs/pull/42/head".into()),
            semver: Some(">=1.0.0".into()),
            tag: Some("v1.0.0".into()),
        };
        assert_eq!(
            all.resolve(),
            GitReference::Commit { sha: "0123456789abcdef0123456789abcdef01234567", branch: Some("main") }
        );
        let no_commit = GitRepositoryRef { commit: None, ..all.clone() };
        assert_eq!(no_commit.resolve(), GitReference::Name("refs/pull/42/head"));
        let no_name = GitRepositoryRef { name: Some(String::new()), ..no_commit };
        assert_eq!(no_name.resolve(), GitReference::SemVer(">=1.0.0"));
        let no_semver = GitRepositoryRef { semver: None, ..no_name };
        assert_eq!(no_semver.resolve(), GitReference::Tag("v1.0.0"));
        let no_tag = GitRepositoryRef { tag: None, ..no_semver };
        assert_eq!(no_tag.resolve(), GitReference::Branch("main"));
        assert_eq!(GitRepositoryRef::default().resolve(), GitReference::Branch("master"));
        let commit_only = GitRepositoryRef { commit: Some("abc".into()), ..Default::default() };
        assert_eq!(commit_only.resolve(), GitReference::Commit { sha: "abc", branch: None });
    }

    #[test]
    fn verification_mode_and_include_defaults() {
        let verify = GitRepositoryVerification { mode: None, secret_ref: LocalObjectReference { name: "keys".into() } };
        assert_eq!(verify.mode(), GitVerificationMode::Head);
        assert!(verify.mode().verifies_head() && !verify.mode().verifies_tag());
        assert!(GitVerificationMode::TagAndHead.verifies_tag() && GitVerificationMode::LegacyHead.verifies_head());
        let include =
            GitRepositoryInclude { repository: LocalObjectReference { name: "shared".into() }, ..Default::default() };
        assert_eq!((include.from_path(), include.to_path()), ("", "shared"));
        assert_eq!(serde_json::to_value(GitVerificationMode::LegacyHead).unwrap(), "head");
    }
}
