//! OCIRepository (`source.toolkit.fluxcd.io/v1`): an OCI artifact in a container registry,
//! pulled at a tag, semver range or digest, whose layer is published as an artifact.

use std::time::Duration;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;
use crate::duration::{DurationError, parse_duration};
use crate::meta::{Artifact, LocalObjectReference};
use crate::validation::{Validate, ValidationErrors, Validator};

/// The tag pulled when an OCIRepository names no reference.
pub const DEFAULT_TAG: &str = "latest";

/// How long a registry operation may take when `spec.timeout` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The pattern `spec.url` must match.
pub const URL_PATTERN: &str = r"^oci://.*$";

/// Which registry repository to pull from, which reference to follow and how to unpack it.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "OCIRepository",
    doc = "An OCI artifact in a container registry, followed at one reference and published as a tarball artifact.",
    namespaced,
    status = "OCIRepositoryStatus",
    shortname = "ocirepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].message"#),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositorySpec {
    /// Secret (type `Opaque` or `kubernetes.io/tls`) with a client certificate and key
    /// (`tls.crt`, `tls.key`) and/or a CA certificate (`ca.crt`) for the registry's TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Exclusion patterns in `.sourceignore` (gitignore) syntax that replace the built-in defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Talk plain HTTP to the registry instead of HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// How often to look for a new digest (approximate: the controller adds jitter).
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// Which layer of the artifact to use and how; the first layer, extracted, when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_selector: Option<OCILayerSelector>,
    /// How to authenticate: `generic` (credentials from secretRef or the service account, the
    /// default) or the workload identity of `aws`, `azure` or `gcp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<OCIProvider>,
    /// Secret with the proxy address and optional credentials used to reach the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// The reference to pull; when absent, the `latest` tag.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<OCIRepositoryRef>,
    /// Secret of type `kubernetes.io/dockerconfigjson` with the registry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Kubernetes ServiceAccount whose image pull secrets are used as registry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Stops reconciling this object while true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Limit for one registry operation such as a pull; 60s when unset. Hours are not accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "60s"), regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
    /// Address of the repository in the registry, `oci://<host>/<path>`, without tag or digest.
    #[schemars(regex(pattern = r"^oci://.*$"))]
    pub url: String,
    /// Check the artifact's signature before using it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<OCIRepositoryVerification>,
}

/// Who issues the credentials for the registry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OCIProvider {
    /// Credentials from `secretRef` or the service account's pull secrets, if any.
    #[default]
    Generic,
    /// AWS workload identity (ECR).
    Aws,
    /// Azure workload identity (ACR).
    Azure,
    /// Google Cloud workload identity (Artifact Registry, GCR).
    Gcp,
}

/// Picks one layer of the OCI artifact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCILayerSelector {
    /// Media type of the layer; the first layer of this type is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// `extract` the layer's tarball into the artifact (the default) or `copy` it unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OCILayerOperation>,
}

impl OCILayerSelector {
    /// The operation, `extract` when unset.
    pub fn operation(&self) -> OCILayerOperation {
        self.operation.unwrap_or_default()
    }
}

/// What to do with the selected layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OCILayerOperation {
    /// Decompress and unpack the layer into the artifact.
    #[default]
    Extract,
    /// Store the compressed layer as it is.
    Copy,
}

/// The OCI reference to pull. When several fields are set, digest wins over semver, and semver
/// over tag (see [`OCIRepositoryRef::resolve`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryRef {
    /// Manifest digest to pull, `sha256:<hex>`; wins over semver and tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Semantic version range; the highest matching tag is pulled. Wins over tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// Regular expression that tags must also match to be considered for `semver`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver_filter: Option<String>,
    /// Tag to pull; `latest` when no field is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// The reference an OCIRepository actually follows, after applying the precedence rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OCIReference<'a> {
    /// A fixed manifest digest.
    Digest(&'a str),
    /// The highest tag in a semantic version range, among the tags matching the filter if any.
    SemVer { range: &'a str, filter: Option<&'a str> },
    /// A tag.
    Tag(&'a str),
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

impl OCIRepositoryRef {
    /// The reference that wins: digest, then semver, then tag, and the `latest` tag when none is
    /// set. Empty strings count as unset.
    pub fn resolve(&self) -> OCIReference<'_> {
        if let Some(digest) = non_empty(&self.digest) {
            OCIReference::Digest(digest)
        } else if let Some(range) = non_empty(&self.semver) {
            OCIReference::SemVer { range, filter: non_empty(&self.semver_filter) }
        } else {
            OCIReference::Tag(non_empty(&self.tag).unwrap_or(DEFAULT_TAG))
        }
    }
}

/// Signature verification of the pulled artifact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::require("provider"))]
pub struct OCIRepositoryVerification {
    /// For Cosign keyless signatures: the artifact is trusted when the signing certificate matches
    /// any of these issuer/subject pairs.
    #[serde(default, rename = "matchOIDCIdentity", skip_serializing_if = "Option::is_none")]
    pub match_oidc_identity: Option<Vec<OIDCIdentityMatch>>,
    /// The signing technology, `cosign` or `notation`.
    // Required in the schema, but the server fills in its default first, so an object without it
    // is valid and decodes to the default here too.
    #[serde(default)]
    #[schemars(extend("default" = "cosign"))]
    pub provider: VerificationProvider,
    /// Secret with the trusted public keys (Cosign) or certificates and trust policy (Notation);
    /// keyless verification when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Secret with a Sigstore `trusted_root.json`, for verifying against a self-hosted Sigstore
    /// (own Fulcio CA, own Rekor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_root_secret_ref: Option<LocalObjectReference>,
}

/// Which signing technology produced the signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    /// Sigstore Cosign, with keys or keyless.
    #[default]
    Cosign,
    /// Notary Project Notation.
    Notation,
}

/// An accepted identity of a keyless signature: both regular expressions must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OIDCIdentityMatch {
    /// Regular expression (Go syntax) for the OIDC issuer in the Fulcio certificate.
    pub issuer: String,
    /// Regular expression (Go syntax) for the identity subject in the Fulcio certificate.
    pub subject: String,
}

impl OCIRepositorySpec {
    /// How often to reconcile.
    pub fn interval(&self) -> Result<Duration, DurationError> {
        parse_duration(&self.interval)
    }

    /// The limit for one registry operation, 60s when unset.
    pub fn timeout(&self) -> Result<Duration, DurationError> {
        self.timeout.as_deref().map_or(Ok(DEFAULT_TIMEOUT), parse_duration)
    }

    /// The reference to pull, with Flux's precedence and default applied.
    pub fn reference(&self) -> OCIReference<'_> {
        match &self.reference {
            Some(r) => r.resolve(),
            None => OCIReference::Tag(DEFAULT_TAG),
        }
    }

    /// The authentication provider, `generic` when unset.
    pub fn provider(&self) -> OCIProvider {
        self.provider.unwrap_or_default()
    }
}

/// What the controller last observed and produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct OCIRepositoryStatus {
    /// The artifact of the last successful reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// Ready, Reconciling, Stalled and the source conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// The last `reconcile.fluxcd.io/requestedAt` value handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// The `metadata.generation` last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The ignore patterns the artifact was built with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// The layer selector the artifact was built with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_layer_selector: Option<OCILayerSelector>,
    /// Download address of the last artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Validate for OCIRepository {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let spec = &self.spec;
        let mut v = Validator::new();
        v.duration("spec.interval", Some(&spec.interval));
        v.duration_without_hours("spec.timeout", spec.timeout.as_deref());
        v.pattern("spec.url", Some(&spec.url), URL_PATTERN);
        for (path, r) in [
            ("spec.certSecretRef.name", &spec.cert_secret_ref),
            ("spec.proxySecretRef.name", &spec.proxy_secret_ref),
            ("spec.secretRef.name", &spec.secret_ref),
        ] {
            if let Some(r) = r {
                v.required(path, &r.name);
            }
        }
        if let Some(verify) = &spec.verify {
            if let Some(r) = &verify.secret_ref {
                v.required("spec.verify.secretRef.name", &r.name);
            }
            if let Some(r) = &verify.trusted_root_secret_ref {
                v.required("spec.verify.trustedRootSecretRef.name", &r.name);
            }
        }
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/ocirepositories.yaml");

    fn fixture() -> OCIRepository {
        serde_saphyr::from_str(FIXTURE).unwrap()
    }

    fn error_paths(obj: &OCIRepository) -> Vec<String> {
        obj.validate().unwrap_err().0.into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn minimal_object_is_valid_and_defaults_apply() {
        let obj = OCIRepository::new(
            "podinfo",
            OCIRepositorySpec {
                interval: "10m".into(),
                url: "oci://ghcr.io/stefanprodan/manifests/podinfo".into(),
                ..Default::default()
            },
        );
        obj.validate().unwrap();
        assert_eq!(obj.spec.interval(), Ok(Duration::from_secs(600)));
        assert_eq!(obj.spec.timeout(), Ok(Duration::from_secs(60)));
        assert_eq!(obj.spec.reference(), OCIReference::Tag("latest"));
        assert_eq!(obj.spec.provider(), OCIProvider::Generic);
    }

    #[test]
    fn rejects_bad_durations_and_urls() {
        let mut obj = fixture();
        obj.spec.interval = "1w".into();
        obj.spec.timeout = Some("2h".into());
        obj.spec.url = "ghcr.io/stefanprodan/manifests/podinfo".into();
        assert_eq!(error_paths(&obj), ["spec.interval", "spec.timeout", "spec.url"]);
        assert_eq!(fixture().spec.timeout(), Ok(Duration::from_secs(90)));
    }

    #[test]
    fn rejects_empty_reference_names() {
        let mut obj = fixture();
        if let Some(verify) = obj.spec.verify.as_mut() {
            verify.trusted_root_secret_ref = Some(LocalObjectReference::default());
        }
        assert_eq!(error_paths(&obj), ["spec.verify.trustedRootSecretRef.name"]);
    }

    #[test]
    fn serde_rejects_unknown_enum_values() {
        for (from, to) in [("provider: gcp", "provider: ibm"), ("operation: copy", "operation: move")] {
            let bad = FIXTURE.replace(from, to);
            assert_ne!(bad, FIXTURE);
            assert!(serde_saphyr::from_str::<OCIRepository>(&bad).is_err(), "{to}");
        }
    }

    #[test]
    fn reference_precedence() {
        let all = OCIRepositoryRef {
            digest: Some("sha256:abc".into()),
            semver: Some("6.x".into()),
            semver_filter: Some(".*-rc.*".into()),
            tag: Some("6.0.0".into()),
        };
        assert_eq!(all.resolve(), OCIReference::Digest("sha256:abc"));
        let no_digest = OCIRepositoryRef { digest: None, ..all };
        assert_eq!(no_digest.resolve(), OCIReference::SemVer { range: "6.x", filter: Some(".*-rc.*") });
        let no_semver = OCIRepositoryRef { semver: Some(String::new()), ..no_digest };
        assert_eq!(no_semver.resolve(), OCIReference::Tag("6.0.0"));
        assert_eq!(OCIRepositoryRef::default().resolve(), OCIReference::Tag("latest"));
        assert_eq!(OCILayerSelector::default().operation(), OCILayerOperation::Extract);
    }
}
