//! HelmRepository (`source.toolkit.fluxcd.io/v1`): a Helm chart repository, either an HTTP(S)
//! server with an `index.yaml` (whose index becomes the artifact) or an OCI registry (a static
//! object that only holds the address and credentials for HelmCharts that point at it).

use std::collections::BTreeMap;
use std::time::Duration;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;
use crate::duration::{DurationError, parse_duration};
use crate::meta::{Artifact, LocalObjectReference};
use crate::validation::{Validate, ValidationErrors, Validator};

/// The pattern of `spec.url`: an HTTP(S) or OCI address.
pub const URL_PATTERN: &str = r"^(http|https|oci)://.*$";

/// How long a fetch may take when `spec.timeout` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where to find a Helm repository and how to authenticate to it.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "HelmRepository",
    doc = "A Helm chart repository (an HTTP(S) index or an OCI registry) that HelmCharts fetch charts from.",
    namespaced,
    status = "HelmRepositoryStatus",
    shortname = "helmrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].message"#)
)]
#[serde(rename_all = "camelCase")]
pub struct HelmRepositorySpec {
    /// Address of the repository: `http://` or `https://` for an index server, `oci://` for a registry.
    #[schemars(regex(pattern = r"^(http|https|oci)://.*$"))]
    pub url: String,

    /// Secret with credentials: `username` and `password` for basic auth (the TLS keys `certFile`,
    /// `keyFile` and `caFile` are still read but deprecated in favour of `certSecretRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,

    /// Secret (type `Opaque` or `kubernetes.io/tls`) with a client certificate and key (`tls.crt`,
    /// `tls.key`) and/or a CA bundle (`ca.crt`) for the TLS connection; wins over the TLS keys of
    /// `secretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,

    /// Also send the credentials to hosts other than the one in `url`, such as chart download
    /// addresses the index points to. Only enable it for hosts you trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_credentials: Option<bool>,

    /// How often to check the repository for a new index; some jitter may be added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: Option<String>,

    /// Allow plain HTTP to an OCI registry (`type: oci` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,

    /// Time limit for downloading the index, or for OCI operations of the HelmCharts using this
    /// repository; 60s when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,

    /// Stop reconciling this object until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,

    /// Namespaces allowed to refer to this object (reserved; not enforced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,

    /// `default` for an HTTP(S) index server, `oci` for an OCI registry (then `url` starts with `oci://`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HelmRepositoryType>,

    /// Where credentials for an OCI registry come from (`type: oci` only): `generic` uses
    /// `secretRef`, the others the cloud's workload identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<HelmRepositoryProvider>,
}

/// The kind of server a HelmRepository points at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HelmRepositoryType {
    /// An HTTP(S) server with an `index.yaml`.
    #[default]
    #[serde(rename = "default")]
    Default,
    /// An OCI registry.
    #[serde(rename = "oci")]
    Oci,
}

/// Who provides the credentials for an OCI Helm repository.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HelmRepositoryProvider {
    /// Credentials from `secretRef`, or anonymous access.
    #[default]
    #[serde(rename = "generic")]
    Generic,
    /// Amazon ECR through the AWS workload identity.
    #[serde(rename = "aws")]
    Aws,
    /// Azure Container Registry through the Azure workload identity.
    #[serde(rename = "azure")]
    Azure,
    /// Google Artifact Registry through the GCP workload identity.
    #[serde(rename = "gcp")]
    Gcp,
}

/// A list of namespace selectors allowed to refer to an object (an access control list).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessFrom {
    /// The selectors; a namespace matching any of them is allowed.
    pub namespace_selectors: Vec<NamespaceSelector>,
}

/// Selects namespaces by label; no labels selects every namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// Labels a namespace must all carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
}

/// What the controller last observed and produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct HelmRepositoryStatus {
    /// The `metadata.generation` of the last reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The state of the repository, such as `Ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Where to download the latest artifact; `artifact.url` is the precise address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The stored copy of the repository index (HTTP(S) repositories only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The last `reconcile.fluxcd.io/requestedAt` annotation value acted upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

impl HelmRepositorySpec {
    /// How often to check for a new index; `None` when not set (OCI repositories are not polled).
    pub fn interval(&self) -> Result<Option<Duration>, DurationError> {
        self.interval.as_deref().map(parse_duration).transpose()
    }

    /// Time limit for fetch operations, 60s when not set.
    pub fn timeout(&self) -> Result<Duration, DurationError> {
        self.timeout.as_deref().map_or(Ok(DEFAULT_TIMEOUT), parse_duration)
    }

    /// The repository type, `default` when not set.
    pub fn repository_type(&self) -> HelmRepositoryType {
        self.type_.unwrap_or_default()
    }

    /// The credentials provider, `generic` when not set.
    pub fn provider(&self) -> HelmRepositoryProvider {
        self.provider.unwrap_or_default()
    }
}

impl Validate for HelmRepository {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let s = &self.spec;
        let mut v = Validator::new();
        v.pattern("spec.url", Some(&s.url), URL_PATTERN);
        v.duration("spec.interval", s.interval.as_deref());
        v.duration_without_hours("spec.timeout", s.timeout.as_deref());
        for (path, r) in [("spec.secretRef", &s.secret_ref), ("spec.certSecretRef", &s.cert_secret_ref)] {
            if let Some(r) = r {
                v.required(&format!("{path}.name"), &r.name);
            }
        }
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/helmrepositories.yaml");

    fn fixture() -> HelmRepository {
        serde_saphyr::from_str(FIXTURE).unwrap()
    }

    fn errors(obj: &HelmRepository) -> Vec<String> {
        obj.validate().unwrap_err().0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn minimal_object_is_valid_and_defaults_apply() {
        let obj = HelmRepository::new(
            "podinfo",
            HelmRepositorySpec { url: "oci://ghcr.io/stefanprodan/charts".into(), ..Default::default() },
        );
        obj.validate().unwrap();
        assert_eq!(obj.spec.interval(), Ok(None));
        assert_eq!(obj.spec.timeout(), Ok(DEFAULT_TIMEOUT));
        assert_eq!(obj.spec.repository_type(), HelmRepositoryType::Default);
        assert_eq!(obj.spec.provider(), HelmRepositoryProvider::Generic);
    }

    #[test]
    fn rejects_bad_urls_and_durations() {
        let mut obj = fixture();
        obj.spec.url = "ghcr.io/stefanprodan/charts".into();
        obj.spec.interval = Some("1d".into());
        obj.spec.timeout = Some("1h".into());
        let errs = errors(&obj);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("spec.url: \"ghcr.io/stefanprodan/charts\" does not match"), "{errs:?}");
        assert!(errs[1].starts_with("spec.interval: invalid duration \"1d\""), "{errs:?}");
        assert!(errs[2].starts_with("spec.timeout: invalid duration \"1h\": hours are not accepted"), "{errs:?}");
        assert!(obj.spec.interval().is_err());
    }

    #[test]
    fn rejects_empty_secret_names() {
        let mut obj = fixture();
        obj.spec.cert_secret_ref = Some(LocalObjectReference::default());
        assert_eq!(errors(&obj), ["spec.certSecretRef.name: is required"]);
    }

    #[test]
    fn serde_rejects_unknown_enum_values() {
        for (from, to) in [("type: default", "type: git"), ("provider: generic", "provider: ibm")] {
            let bad = FIXTURE.replace(from, to);
            assert_ne!(bad, FIXTURE);
            assert!(serde_saphyr::from_str::<HelmRepository>(&bad).is_err(), "{to}");
        }
    }
}
