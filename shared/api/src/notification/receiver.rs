//! Receiver (`notification.toolkit.fluxcd.io/v1`): an HTTP endpoint that, when a webhook arrives
//! from a Git forge, a registry or any authenticated caller, asks the selected Flux objects to
//! reconcile now.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::conditions::Condition;
use crate::meta::LocalObjectReference;
use crate::notification::alert::FluxKind;
use crate::validation::{Validate, ValidationErrors, Validator};

/// The prefix of every webhook path the controller serves.
pub const WEBHOOK_PATH_PREFIX: &str = "/hook/";

/// The interval used when `spec.interval` is unset.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(600);

/// The pattern of `spec.oidcProviders[].issuerURL`.
pub const ISSUER_URL_PATTERN: &str = r"^https?://";

/// Messages of the CEL rules on the spec, in the CRD's order.
pub const OIDC_PROVIDERS_REQUIRED_MESSAGE: &str = "generic-oidc receivers must define at least one oidcProvider";
pub const OIDC_PROVIDERS_FORBIDDEN_MESSAGE: &str = "oidcProviders can only be set when type is generic-oidc";
pub const SECRET_REF_FORBIDDEN_MESSAGE: &str = "secretRef cannot be set when type is generic-oidc";
pub const SECRET_REF_REQUIRED_MESSAGE: &str = "secretRef is required when type is not generic-oidc";

/// What a webhook may trigger, and how callers are authenticated.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1",
    kind = "Receiver",
    doc = "A webhook endpoint that requests the reconciliation of selected Flux objects when it is called.",
    namespaced,
    status = "ReceiverStatus",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].message"#)
)]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "message": "generic-oidc receivers must define at least one oidcProvider",
        "rule": "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)"
    },
    {
        "message": "oidcProviders can only be set when type is generic-oidc",
        "rule": "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0"
    },
    {
        "message": "secretRef cannot be set when type is generic-oidc",
        "rule": "self.type != 'generic-oidc' || !has(self.secretRef)"
    },
    {
        "message": "secretRef is required when type is not generic-oidc",
        "rule": "self.type == 'generic-oidc' || has(self.secretRef)"
    }
]))]
#[serde(rename_all = "camelCase")]
pub struct ReceiverSpec {
    /// The event types handled, e.g. `push` for GitHub or `Push Hook` for GitLab; all when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// How often the Receiver is reconciled with the Secrets it references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "10m"), regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: Option<String>,
    /// For `generic-oidc` only: the token issuers accepted, matched by the token's `iss` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["issuerURL"]))]
    pub oidc_providers: Option<Vec<OidcProvider>>,
    /// A CEL expression over `res` (the object's metadata), `req` (the request body) and, for
    /// `generic-oidc`, `claims`; objects for which it is false are not reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_filter: Option<String>,
    /// The objects to reconcile when a webhook arrives.
    pub resources: Vec<ReceiverResource>,
    /// Secret whose `token` key authenticates callers (for `gcr`, also `email` and `audience`);
    /// required for every type but `generic-oidc`, which must not set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// When true, webhooks are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// The sender of the webhooks, which decides how requests are authenticated and parsed.
    #[serde(rename = "type")]
    pub type_: ReceiverType,
}

/// The webhook senders a Receiver understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ReceiverType {
    #[serde(rename = "generic")]
    Generic,
    #[serde(rename = "generic-hmac")]
    GenericHmac,
    #[serde(rename = "generic-oidc")]
    GenericOidc,
    #[serde(rename = "github")]
    GitHub,
    #[serde(rename = "gitlab")]
    GitLab,
    #[serde(rename = "bitbucket")]
    Bitbucket,
    #[serde(rename = "harbor")]
    Harbor,
    #[serde(rename = "dockerhub")]
    DockerHub,
    #[serde(rename = "quay")]
    Quay,
    #[serde(rename = "gcr")]
    Gcr,
    #[serde(rename = "nexus")]
    Nexus,
    #[serde(rename = "acr")]
    Acr,
    #[serde(rename = "cdevents")]
    CdEvents,
}

impl ReceiverType {
    /// Every type, in the order of the CRD's enum.
    pub const ALL: [ReceiverType; 13] = [
        ReceiverType::Generic,
        ReceiverType::GenericHmac,
        ReceiverType::GenericOidc,
        ReceiverType::GitHub,
        ReceiverType::GitLab,
        ReceiverType::Bitbucket,
        ReceiverType::Harbor,
        ReceiverType::DockerHub,
        ReceiverType::Quay,
        ReceiverType::Gcr,
        ReceiverType::Nexus,
        ReceiverType::Acr,
        ReceiverType::CdEvents,
    ];

    /// The value as written in `spec.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverType::Generic => "generic",
            ReceiverType::GenericHmac => "generic-hmac",
            ReceiverType::GenericOidc => "generic-oidc",
            ReceiverType::GitHub => "github",
            ReceiverType::GitLab => "gitlab",
            ReceiverType::Bitbucket => "bitbucket",
            ReceiverType::Harbor => "harbor",
            ReceiverType::DockerHub => "dockerhub",
            ReceiverType::Quay => "quay",
            ReceiverType::Gcr => "gcr",
            ReceiverType::Nexus => "nexus",
            ReceiverType::Acr => "acr",
            ReceiverType::CdEvents => "cdevents",
        }
    }
}

/// One accepted OIDC issuer of a `generic-oidc` Receiver, with the checks its tokens must pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OidcProvider {
    /// The `aud` claim tokens must carry; `notification-controller` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The issuer's URL, used for discovery; must equal the token's `iss` claim.
    #[serde(rename = "issuerURL")]
    #[schemars(regex(pattern = r"^https?://"))]
    pub issuer_url: String,
    /// CEL conditions over `claims` and `vars` that must all hold for a request to be accepted; they
    /// should pin the caller's identity, since a valid signature alone proves little.
    #[schemars(length(min = 1))]
    pub validations: Vec<OidcValidation>,
    /// Named CEL expressions, evaluated in order, readable by later ones and by the validations
    /// as `vars.<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<OidcVariable>>,
}

/// A CEL condition on a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OidcValidation {
    /// The boolean CEL expression.
    pub expression: String,
    /// Returned to the caller when the expression is false.
    pub message: String,
}

/// A named CEL expression over a token's claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OidcVariable {
    /// The CEL expression giving the value.
    pub expression: String,
    /// The name, a CEL identifier, under which the value is readable as `vars.<name>`.
    pub name: String,
}

/// Selects Flux objects to reconcile, with an optional CEL filter of its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverResource {
    /// API version of the objects; any version when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// A CEL expression over `res`, `req` and (for `generic-oidc`) `claims`, checked for each
    /// selected object in addition to `spec.resourceFilter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Kind of the objects.
    pub kind: FluxKind,
    /// Labels the objects must all carry; only used when `name` is `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Name of the object, or `*` for every object of the kind.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the objects; defaults to the Receiver's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub namespace: Option<String>,
}

/// Written by the controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct ReceiverStatus {
    /// The Receiver's state, `Ready` in particular.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// The last `reconcile.fluxcd.io/requestedAt` annotation value handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// The `metadata.generation` last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The path the webhook is served at: `/hook/` and the hex SHA-256 of token, name and namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
}

/// Flux's webhook path for a Receiver: `/hook/` followed by the lowercase hex SHA-256 of the
/// token, the Receiver's name and its namespace, concatenated in that order without separators.
pub fn webhook_path(token: &str, name: &str, namespace: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(token.as_bytes());
    hasher.update(name.as_bytes());
    hasher.update(namespace.as_bytes());
    let digest = hasher.finalize();
    let mut out = String::with_capacity(WEBHOOK_PATH_PREFIX.len() + 2 * digest.len());
    out.push_str(WEBHOOK_PATH_PREFIX);
    for byte in digest {
        out.push(hex_digit(byte >> 4));
        out.push(hex_digit(byte & 0x0f));
    }
    out
}

fn hex_digit(nibble: u8) -> char {
    char::from(if nibble < 10 { b'0' + nibble } else { b'a' + nibble - 10 })
}

impl Receiver {
    /// The webhook path of this Receiver for the given token (an unset namespace counts as empty).
    pub fn webhook_path(&self, token: &str) -> String {
        webhook_path(
            token,
            self.metadata.name.as_deref().unwrap_or_default(),
            self.metadata.namespace.as_deref().unwrap_or_default(),
        )
    }
}

impl ReceiverSpec {
    /// `spec.interval` with its default (10m) applied; an unparsable value also gives the default
    /// (`validate()` reports it).
    pub fn interval(&self) -> Duration {
        self.interval.as_deref().and_then(|i| crate::duration::parse_duration(i).ok()).unwrap_or(DEFAULT_INTERVAL)
    }
}

impl Validate for Receiver {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut v = Validator::new();
        let s = &self.spec;
        v.duration("spec.interval", s.interval.as_deref());
        for (i, r) in s.resources.iter().enumerate() {
            v.length(&format!("spec.resources[{i}].name"), Some(&r.name), 1, 253);
            v.length(&format!("spec.resources[{i}].namespace"), r.namespace.as_deref(), 1, 253);
        }
        if let Some(r) = &s.secret_ref {
            v.required("spec.secretRef.name", &r.name);
        }
        let mut issuers = HashSet::new();
        for (i, p) in s.oidc_providers.iter().flatten().enumerate() {
            let path = format!("spec.oidcProviders[{i}]");
            v.pattern(&format!("{path}.issuerURL"), Some(&p.issuer_url), ISSUER_URL_PATTERN);
            if !issuers.insert(p.issuer_url.as_str()) {
                v.error(format!("{path}.issuerURL"), format!("duplicate issuerURL {:?}", p.issuer_url));
            }
            v.check(!p.validations.is_empty(), format!("{path}.validations"), "must have at least 1 item");
        }

        let oidc = s.type_ == ReceiverType::GenericOidc;
        let providers = s.oidc_providers.as_ref().map_or(0, Vec::len);
        v.check(!oidc || providers > 0, "spec.oidcProviders", OIDC_PROVIDERS_REQUIRED_MESSAGE);
        v.check(oidc || providers == 0, "spec.oidcProviders", OIDC_PROVIDERS_FORBIDDEN_MESSAGE);
        v.check(!oidc || s.secret_ref.is_none(), "spec.secretRef", SECRET_REF_FORBIDDEN_MESSAGE);
        v.check(oidc || s.secret_ref.is_some(), "spec.secretRef", SECRET_REF_REQUIRED_MESSAGE);
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/receivers.yaml");

    fn receiver(type_: ReceiverType) -> Receiver {
        Receiver::new(
            "github",
            ReceiverSpec {
                events: None,
                interval: None,
                oidc_providers: None,
                resource_filter: None,
                resources: vec![ReceiverResource {
                    api_version: None,
                    filter: None,
                    kind: FluxKind::GitRepository,
                    match_labels: None,
                    name: "podinfo".into(),
                    namespace: None,
                }],
                secret_ref: Some(LocalObjectReference { name: "webhook-token".into() }),
                suspend: None,
                type_,
            },
        )
    }

    fn oidc_provider(issuer: &str) -> OidcProvider {
        OidcProvider {
            audience: None,
            issuer_url: issuer.into(),
            validations: vec![OidcValidation {
                expression: "claims.repository_owner == 'weir'".into(),
                message: "wrong owner".into(),
            }],
            variables: None,
        }
    }

    fn messages(r: &Receiver) -> Vec<String> {
        r.validate().err().map(|e| e.0.into_iter().map(|e| e.to_string()).collect()).unwrap_or_default()
    }

    #[test]
    fn minimal_receiver_is_valid_with_default_interval() {
        let r = receiver(ReceiverType::GitHub);
        r.validate().unwrap();
        assert_eq!(r.spec.interval(), Duration::from_secs(600));
    }

    #[test]
    fn generic_oidc_needs_providers() {
        let mut r = receiver(ReceiverType::GenericOidc);
        r.spec.secret_ref = None;
        assert_eq!(messages(&r), vec![format!("spec.oidcProviders: {OIDC_PROVIDERS_REQUIRED_MESSAGE}")]);
        r.spec.oidc_providers = Some(vec![]);
        assert_eq!(messages(&r), vec![format!("spec.oidcProviders: {OIDC_PROVIDERS_REQUIRED_MESSAGE}")]);
        r.spec.oidc_providers = Some(vec![oidc_provider("https://token.actions.githubusercontent.com")]);
        r.validate().unwrap();
    }

    #[test]
    fn oidc_providers_only_for_generic_oidc() {
        let mut r = receiver(ReceiverType::Generic);
        r.spec.oidc_providers = Some(vec![oidc_provider("https://token.actions.githubusercontent.com")]);
        assert_eq!(messages(&r), vec![format!("spec.oidcProviders: {OIDC_PROVIDERS_FORBIDDEN_MESSAGE}")]);
        // An empty list is allowed, as the CEL rule allows it.
        r.spec.oidc_providers = Some(vec![]);
        r.validate().unwrap();
    }

    #[test]
    fn secret_ref_forbidden_for_generic_oidc() {
        let mut r = receiver(ReceiverType::GenericOidc);
        r.spec.oidc_providers = Some(vec![oidc_provider("https://token.actions.githubusercontent.com")]);
        assert_eq!(messages(&r), vec![format!("spec.secretRef: {SECRET_REF_FORBIDDEN_MESSAGE}")]);
    }

    #[test]
    fn secret_ref_required_otherwise() {
        let mut r = receiver(ReceiverType::GitLab);
        r.spec.secret_ref = None;
        assert_eq!(messages(&r), vec![format!("spec.secretRef: {SECRET_REF_REQUIRED_MESSAGE}")]);
    }

    #[test]
    fn rejects_bad_fields() {
        let mut r = receiver(ReceiverType::GenericOidc);
        r.spec.secret_ref = None;
        r.spec.interval = Some("10 minutes".into());
        r.spec.resources[0].name = String::new();
        r.spec.resources[0].namespace = Some("n".repeat(254));
        let mut bad = oidc_provider("token.actions.githubusercontent.com");
        bad.validations.clear();
        r.spec.oidc_providers =
            Some(vec![bad, oidc_provider("https://gitlab.com"), oidc_provider("https://gitlab.com")]);
        let text = messages(&r).join("\n");
        assert!(text.contains("spec.interval: invalid duration \"10 minutes\""), "{text}");
        assert!(text.contains("spec.resources[0].name: must be at least 1 characters long"), "{text}");
        assert!(text.contains("spec.resources[0].namespace: must be at most 253 characters long"), "{text}");
        assert!(text.contains("spec.oidcProviders[0].issuerURL: \"token.actions"), "{text}");
        assert!(text.contains("spec.oidcProviders[0].validations: must have at least 1 item"), "{text}");
        assert!(text.contains("spec.oidcProviders[2].issuerURL: duplicate issuerURL \"https://gitlab.com\""), "{text}");
        assert_eq!(messages(&r).len(), 6, "{text}");
    }

    #[test]
    fn webhook_path_hashes_token_name_namespace() {
        // sha256("") is the well-known e3b0c442... digest.
        assert_eq!(webhook_path("", "", ""), "/hook/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        // sha256("abc"), the FIPS 180-2 test vector, split across the three parts.
        let abc = "/hook/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(webhook_path("a", "b", "c"), abc);
        assert_eq!(webhook_path("abc", "", ""), abc);

        let mut r = receiver(ReceiverType::GitHub);
        r.metadata.namespace = Some("flux-system".into());
        let path = r.webhook_path("s3cr3t");
        assert_eq!(path, webhook_path("s3cr3tgithubflux-system", "", ""));
        assert_eq!(path.len(), "/hook/".len() + 64);
        assert!(path["/hook/".len()..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        // The order matters: name and namespace swapped give another path.
        assert_ne!(path, webhook_path("s3cr3t", "flux-system", "github"));
    }

    #[test]
    fn types_serialize_as_in_the_crd() {
        for t in ReceiverType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert!(serde_saphyr::from_str::<Receiver>(&FIXTURE.replace("type: github", "type: gitea")).is_err());
    }
}
