//! `spec.kubeConfig.configMapRef`: a remote cluster reached without a kubeconfig Secret, with a
//! short-lived token instead. The ConfigMap holds Flux's keys: `provider` (aws, azure, gcp or
//! generic), `cluster`, `address`, `ca.crt`, `audiences` (one per line) and `serviceAccountName`.
//!
//! Weir supports `provider: generic`: a Kubernetes ServiceAccount token, made by the TokenRequest
//! API for the audiences (by default the address), authenticates to the cluster at `address`,
//! which must trust this cluster's ServiceAccount issuer. The token is that of the ConfigMap's
//! `serviceAccountName` (or `--default-kubeconfig-service-account`) in the Kustomization's
//! namespace, which Flux allows only with the ObjectLevelWorkloadIdentity feature gate; without
//! either, the controller's own ServiceAccount. The cloud providers are refused with a clear
//! message.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Where a Pod finds its own ServiceAccount token: the controller's identity.
const CONTROLLER_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// The settings of one ConfigMap, checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Generic {
    /// `https://host[:port]`.
    pub address: String,
    /// PEM; the system's roots when unset.
    pub ca: Option<String>,
    pub audiences: Vec<String>,
    pub service_account: Option<String>,
}

/// How the controller was told to treat object-level identities.
#[derive(Clone, Debug, Default)]
pub struct IdentityOptions {
    /// `--default-kubeconfig-service-account`.
    pub default_service_account: Option<String>,
    /// The ObjectLevelWorkloadIdentity feature gate.
    pub object_level: bool,
}

/// Reads and checks the ConfigMap's data.
pub fn generic_settings(data: &BTreeMap<String, String>) -> Result<Generic, String> {
    let get = |key: &str| data.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    match get("provider") {
        Some("generic") => {}
        Some(cloud @ ("aws" | "azure" | "gcp")) => {
            return Err(format!(
                "provider '{cloud}' is not supported by Weir's kustomize-controller: use provider 'generic' (a \
                 ServiceAccount token the remote cluster trusts) or spec.kubeConfig.secretRef"
            ));
        }
        Some(other) => return Err(format!("invalid provider '{other}': expected one of aws, azure, gcp or generic")),
        None => return Err("the key 'provider' is required".into()),
    }
    let address = parse_address(get("address").ok_or("the key 'address' is required for provider 'generic'")?)?;
    let mut audiences: Vec<String> = data
        .get("audiences")
        .into_iter()
        .flat_map(|a| a.lines())
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(String::from)
        .collect();
    if audiences.is_empty() {
        audiences.push(address.clone());
    }
    Ok(Generic {
        ca: data.get("ca.crt").filter(|c| !c.trim().is_empty()).cloned(),
        service_account: get("serviceAccountName").map(String::from),
        address,
        audiences,
    })
}

/// `host[:port]` or `https://host[:port][/path]`; plain HTTP would send the token in clear. The
/// rest of the URL is checked when the client configuration is built.
pub fn parse_address(text: &str) -> Result<String, String> {
    let url = if text.contains("://") { text.to_string() } else { format!("https://{text}") };
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(format!("invalid address '{text}': the scheme must be https"));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.starts_with(':') || authority.contains(char::is_whitespace) {
        return Err(format!("invalid address '{text}': no host"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The ServiceAccount whose token is used: the ConfigMap's, the default one, or (`None`) the
/// controller's own.
pub fn service_account<'a>(settings: &'a Generic, options: &'a IdentityOptions) -> Result<Option<&'a str>, String> {
    let named = settings.service_account.as_deref().or(options.default_service_account.as_deref());
    match named {
        Some(_) if !options.object_level => Err("ObjectLevelWorkloadIdentity feature gate is not enabled: a \
             ServiceAccount of the object's namespace may only be used with \
             --feature-gates=ObjectLevelWorkloadIdentity=true"
            .into()),
        named => Ok(named),
    }
}

/// `(namespace, name)` of the ServiceAccount a token was issued to, read from its unverified
/// claims (`sub: system:serviceaccount:<namespace>:<name>`): the token is our own.
pub fn token_subject(token: &str) -> Result<(String, String), String> {
    let payload = token.split('.').nth(1).ok_or("not a JWT")?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).map_err(|e| format!("not a JWT: {e}"))?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format!("not a JWT: {e}"))?;
    let subject = claims.get("sub").and_then(serde_json::Value::as_str).ok_or("the token has no subject")?;
    match subject.split(':').collect::<Vec<_>>()[..] {
        ["system", "serviceaccount", namespace, name] => Ok((namespace.to_string(), name.to_string())),
        _ => Err(format!("the token's subject '{subject}' is not a ServiceAccount")),
    }
}

/// A token for `namespace/name` with `audiences`, and how long it may be reused.
pub async fn request_token(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    audiences: &[String],
) -> Result<(String, Duration), String> {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let request = TokenRequest {
        spec: Some(TokenRequestSpec { audiences: Some(audiences.to_vec()), ..Default::default() }),
        ..Default::default()
    };
    let issued = api
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .map_err(|e| format!("creating a token for the ServiceAccount '{namespace}/{name}': {e}"))?;
    let status = issued.status.unwrap_or_default();
    let token = status.token.filter(|t| !t.is_empty()).ok_or("the TokenRequest returned no token")?;
    // Renewed at half its life, so that a reconcile never starts with a token about to expire;
    // without an expiry, the API server's minimum lifetime (10 minutes) is assumed.
    let lifetime = status
        .expiration_timestamp
        .map(|t| t.0.duration_since(k8s_openapi::jiff::Timestamp::now()).unsigned_abs())
        .unwrap_or(Duration::from_secs(600));
    Ok((token, lifetime / 2))
}

/// The controller's own ServiceAccount, from its Pod's token.
pub fn controller_service_account() -> Result<(String, String), String> {
    let token = std::fs::read_to_string(CONTROLLER_TOKEN).map_err(|e| {
        format!(
            "no serviceAccountName in the ConfigMap, and the controller's own token {CONTROLLER_TOKEN} cannot be \
             read ({e}): set serviceAccountName"
        )
    })?;
    token_subject(token.trim()).map_err(|e| format!("the controller's token {CONTROLLER_TOKEN}: {e}"))
}

/// A client configuration for `settings.address` with `token`.
pub async fn config(settings: &Generic, token: &str) -> Result<kube::Config, String> {
    let mut cluster = serde_json::json!({"server": settings.address});
    if let Some(ca) = &settings.ca {
        cluster["certificate-authority-data"] = STANDARD.encode(ca.as_bytes()).into();
    }
    let kubeconfig: Kubeconfig = serde_json::from_value(serde_json::json!({
        "clusters": [{"name": "remote", "cluster": cluster}],
        "users": [{"name": "remote", "user": {"token": token}}],
        "contexts": [{"name": "remote", "context": {"cluster": "remote", "user": "remote"}}],
        "current-context": "remote",
    }))
    .map_err(|e| format!("building the client configuration: {e}"))?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| format!("building the client configuration: {e}"))
}

/// A remote client kept until its token is due for renewal.
pub struct Cached<T> {
    pub value: T,
    pub until: Instant,
}

/// The ConfigMap `namespace/name`'s data.
pub async fn read_config_map(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<BTreeMap<String, String>, String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let found = api.get_opt(name).await.map_err(|e| e.to_string())?.ok_or("not found")?;
    Ok(found.data.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn generic_settings_and_their_defaults() {
        let settings = generic_settings(&data(&[("provider", "generic"), ("address", "10.0.0.1:6443")])).unwrap();
        assert_eq!(settings.address, "https://10.0.0.1:6443");
        assert_eq!(settings.audiences, ["https://10.0.0.1:6443"], "the address is the default audience");
        assert_eq!((settings.ca, settings.service_account), (None, None));
        let settings = generic_settings(&data(&[
            ("provider", "generic"),
            ("address", "https://api.example.com/"),
            ("audiences", "one\n\n two \n"),
            ("ca.crt", "-----BEGIN CERTIFICATE-----\n"),
            ("serviceAccountName", "deployer"),
        ]))
        .unwrap();
        assert_eq!(settings.address, "https://api.example.com");
        assert_eq!(settings.audiences, ["one", "two"]);
        assert_eq!(settings.service_account.as_deref(), Some("deployer"));
        assert!(settings.ca.is_some());
    }

    #[test]
    fn cloud_providers_and_bad_settings_are_refused_clearly() {
        let error = generic_settings(&data(&[("provider", "aws"), ("cluster", "arn:aws:eks:x")])).unwrap_err();
        assert!(error.starts_with("provider 'aws' is not supported"), "{error}");
        assert!(generic_settings(&data(&[("provider", "gke")])).unwrap_err().starts_with("invalid provider 'gke'"));
        assert_eq!(generic_settings(&data(&[])).unwrap_err(), "the key 'provider' is required");
        assert!(generic_settings(&data(&[("provider", "generic")])).unwrap_err().contains("'address' is required"));
        assert!(parse_address("http://api:6443").unwrap_err().contains("must be https"));
        assert!(parse_address("https://").is_err());
    }

    #[test]
    fn object_level_identities_need_the_feature_gate() {
        let named = Generic {
            address: "https://a".into(),
            ca: None,
            audiences: vec![],
            service_account: Some("deployer".into()),
        };
        let unnamed = Generic { service_account: None, ..named.clone() };
        let off = IdentityOptions::default();
        let on = IdentityOptions { object_level: true, ..Default::default() };
        let default_sa = IdentityOptions { default_service_account: Some("fallback".into()), object_level: true };
        assert!(service_account(&named, &off).unwrap_err().starts_with("ObjectLevelWorkloadIdentity feature gate"));
        assert_eq!(service_account(&named, &on), Ok(Some("deployer")));
        assert_eq!(service_account(&unnamed, &off), Ok(None), "the controller's own identity");
        assert_eq!(service_account(&unnamed, &default_sa), Ok(Some("fallback")));
    }

    #[test]
    fn the_subject_of_a_service_account_token() {
        let claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"system:serviceaccount:flux-system:kustomize-controller"}"#);
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{claims}.signature");
        assert_eq!(token_subject(&token), Ok(("flux-system".into(), "kustomize-controller".into())));
        let user = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin"}"#);
        assert!(token_subject(&format!("h.{user}.s")).unwrap_err().contains("not a ServiceAccount"));
        assert!(token_subject("opaque").is_err());
    }
}
