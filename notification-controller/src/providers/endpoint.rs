//! Resolves a Provider and the Secrets it references into an [`Endpoint`], and checks that the
//! result can deliver. Every failure has a condition reason, so the Provider's status says why.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::{Resource, ResourceExt};
use weir_api::Validate;
use weir_api::notification::Provider;

use super::{DEFAULT_TIMEOUT, Endpoint, Notification, ProviderError, Proxy, Tls, build, is_supported};

/// Why a Provider cannot deliver.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("invalid spec: {0}")]
    InvalidSpec(String),
    #[error("provider type {0} is not supported by Weir's notification-controller")]
    Unsupported(&'static str),
    #[error("Secret {namespace}/{name} (from {field}) not found")]
    SecretNotFound { field: &'static str, namespace: String, name: String },
    #[error("reading Secret {namespace}/{name} (from {field}): {source}")]
    SecretRead { field: &'static str, namespace: String, name: String, source: Box<kube::Error> },
    #[error("Secret {name}: {message}")]
    SecretInvalid { name: String, message: String },
    #[error("{0} is not supported by Weir's notification-controller yet")]
    UnsupportedFeature(&'static str),
    #[error("{0}")]
    Unusable(#[from] ProviderError),
}

impl EndpointError {
    /// The `Ready=False` reason.
    pub fn reason(&self) -> &'static str {
        match self {
            EndpointError::InvalidSpec(_) => weir_api::conditions::reasons::INVALID_SPEC,
            EndpointError::Unsupported(_) => "UnsupportedProviderType",
            EndpointError::SecretNotFound { .. } => "SecretNotFound",
            EndpointError::SecretRead { .. } => "SecretReadFailed",
            EndpointError::SecretInvalid { .. } => "InvalidSecret",
            EndpointError::UnsupportedFeature(_) => "UnsupportedFeature",
            EndpointError::Unusable(ProviderError::NoAddress | ProviderError::InvalidAddress { .. }) => {
                "InvalidAddress"
            }
            EndpointError::Unusable(ProviderError::NoToken) => "TokenNotFound",
            EndpointError::Unusable(ProviderError::NoChannel) => "ChannelRequired",
            EndpointError::Unusable(ProviderError::Unsupported(_)) => "UnsupportedProviderType",
            EndpointError::Unusable(ProviderError::Payload(_)) => "InvalidSpec",
        }
    }
}

/// Reads the Provider's Secrets and builds its endpoint; fails as delivery would.
pub async fn resolve(client: &kube::Client, provider: &Provider) -> Result<Endpoint, EndpointError> {
    provider.validate().map_err(|e| EndpointError::InvalidSpec(e.to_string()))?;
    let spec = &provider.spec;
    if !is_supported(spec.type_) {
        return Err(EndpointError::Unsupported(spec.type_.as_str()));
    }
    // Refused rather than ignored: statuses keyed differently than asked would go unnoticed.
    if spec.commit_status_expr.is_some() {
        return Err(EndpointError::UnsupportedFeature("spec.commitStatusExpr (CEL)"));
    }
    if spec.service_account_name.is_some() {
        return Err(EndpointError::UnsupportedFeature("spec.serviceAccountName (workload identity)"));
    }
    let namespace = provider.namespace().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let mut endpoint = Endpoint {
        type_: Some(spec.type_),
        name: provider.name_any(),
        namespace: namespace.clone(),
        uid: provider.meta().uid.clone().unwrap_or_default(),
        address: spec.address.clone().unwrap_or_default(),
        channel: spec.channel.clone(),
        username: spec.username.clone(),
        timeout: spec
            .timeout
            .as_deref()
            .and_then(|t| weir_api::duration::parse_duration(t).ok())
            .unwrap_or(DEFAULT_TIMEOUT),
        ..Endpoint::default()
    };
    if let Some(reference) = &spec.secret_ref {
        let data = read(&secrets, "spec.secretRef", &namespace, &reference.name).await?;
        apply_secret(&mut endpoint, &reference.name, &data)?;
    }
    if let Some(proxy) = spec.proxy.as_deref().filter(|p| !p.is_empty()) {
        endpoint.proxy = Some(Proxy { address: proxy.to_string(), username: None, password: None });
    }
    if let Some(reference) = &spec.proxy_secret_ref {
        let data = read(&secrets, "spec.proxySecretRef", &namespace, &reference.name).await?;
        let address = data.get("address").cloned().ok_or_else(|| EndpointError::SecretInvalid {
            name: reference.name.clone(),
            message: "no address key for the proxy".into(),
        })?;
        endpoint.proxy =
            Some(Proxy { address, username: data.get("username").cloned(), password: data.get("password").cloned() });
    }
    if let Some(reference) = &spec.cert_secret_ref {
        let data = read_bytes(&secrets, "spec.certSecretRef", &namespace, &reference.name).await?;
        // The older key names are still read, as Flux does.
        let key = |new: &str, old: &str| data.get(new).or_else(|| data.get(old)).cloned();
        let tls = Tls { ca: key("ca.crt", "caFile"), cert: key("tls.crt", "certFile"), key: key("tls.key", "keyFile") };
        if tls.ca.is_none() && tls.cert.is_none() {
            return Err(EndpointError::SecretInvalid {
                name: reference.name.clone(),
                message: "neither ca.crt nor tls.crt/tls.key is set".into(),
            });
        }
        if tls.cert.is_some() != tls.key.is_some() {
            return Err(EndpointError::SecretInvalid {
                name: reference.name.clone(),
                message: "tls.crt and tls.key must be set together".into(),
            });
        }
        endpoint.tls = Some(tls);
    }
    check(&endpoint)?;
    Ok(endpoint)
}

/// Applies the keys of the Provider's `secretRef` Secret: `address`, `token`, `username` +
/// `password`, `headers` (a YAML map of header names to values).
pub fn apply_secret(endpoint: &mut Endpoint, name: &str, data: &BTreeMap<String, String>) -> Result<(), EndpointError> {
    if let Some(address) = data.get("address").map(|a| a.trim()).filter(|a| !a.is_empty()) {
        endpoint.address = address.to_string();
    }
    endpoint.token = data.get("token").map(|t| t.trim().to_string());
    if let (Some(user), Some(password)) = (data.get("username"), data.get("password")) {
        endpoint.basic_auth = Some((user.clone(), password.clone()));
    }
    if let Some(headers) = data.get("headers") {
        endpoint.headers = serde_saphyr::from_str(headers).map_err(|e| EndpointError::SecretInvalid {
            name: name.to_string(),
            message: format!("the headers key is not a YAML map of strings: {e}"),
        })?;
    }
    Ok(())
}

/// Whether the endpoint can deliver: builds a request for a sample event and keeps its error.
pub fn check(endpoint: &Endpoint) -> Result<(), ProviderError> {
    let mut sample = Notification::default();
    sample.event.severity = weir_api::event::SEVERITY_INFO.into();
    sample.event.metadata.insert("revision".into(), "main@sha1:0000000000000000000000000000000000000000".into());
    build(endpoint, &sample).map(|_| ())
}

async fn read_bytes(
    api: &Api<Secret>,
    field: &'static str,
    namespace: &str,
    name: &str,
) -> Result<BTreeMap<String, Vec<u8>>, EndpointError> {
    match api.get_opt(name).await {
        Ok(Some(secret)) => Ok(secret.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect()),
        Ok(None) => Err(EndpointError::SecretNotFound { field, namespace: namespace.into(), name: name.into() }),
        Err(source) => Err(EndpointError::SecretRead {
            field,
            namespace: namespace.into(),
            name: name.into(),
            source: Box::new(source),
        }),
    }
}

async fn read(
    api: &Api<Secret>,
    field: &'static str,
    namespace: &str,
    name: &str,
) -> Result<BTreeMap<String, String>, EndpointError> {
    let data = read_bytes(api, field, namespace, name).await?;
    Ok(data.into_iter().map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_api::notification::ProviderType;

    #[test]
    fn secret_keys() {
        let mut e = Endpoint { type_: Some(ProviderType::Generic), ..Endpoint::default() };
        let data = BTreeMap::from([
            ("address".to_string(), "https://hooks.example.com/x\n".to_string()),
            ("token".to_string(), "t0ken\n".to_string()),
            ("username".to_string(), "u".to_string()),
            ("password".to_string(), "p".to_string()),
            ("headers".to_string(), "X-A: one\nX-B: two\n".to_string()),
        ]);
        apply_secret(&mut e, "s", &data).unwrap();
        assert_eq!(e.address, "https://hooks.example.com/x");
        assert_eq!(e.token.as_deref(), Some("t0ken"));
        assert_eq!(e.basic_auth, Some(("u".into(), "p".into())));
        assert_eq!(e.headers.get("X-B").map(String::as_str), Some("two"));
        check(&e).unwrap();
        let bad = BTreeMap::from([("headers".to_string(), "- a list".to_string())]);
        assert_eq!(apply_secret(&mut e, "s", &bad).unwrap_err().reason(), "InvalidSecret");
    }

    #[test]
    fn check_reports_what_blocks_delivery() {
        let e = Endpoint { type_: Some(ProviderType::Slack), address: "::".into(), ..Endpoint::default() };
        assert_eq!(EndpointError::from(check(&e).unwrap_err()).reason(), "InvalidAddress");
        let e = Endpoint {
            type_: Some(ProviderType::GitHub),
            address: "https://github.com/o/r".into(),
            ..Endpoint::default()
        };
        assert_eq!(EndpointError::from(check(&e).unwrap_err()).reason(), "TokenNotFound");
    }
}
