//! Sends provider requests: one shared client for Providers without TLS or proxy settings, a
//! dedicated client for those with them. 5xx answers and connection failures are retried twice.

use std::time::Duration;

use super::{Endpoint, Method, OutgoingRequest};

const ATTEMPTS: u32 = 3;

/// Why a delivery failed. Messages never contain the token.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("building the HTTP client: {0}")]
    Client(String),
    #[error("sending to {url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url} answered {status}: {body}")]
    Status { url: String, status: u16, body: String },
}

pub struct Sender {
    shared: reqwest::Client,
}

impl Sender {
    pub fn new() -> Result<Sender, SendError> {
        weir_runtime::client::install_crypto_provider();
        let shared = reqwest::Client::builder().no_proxy().build().map_err(|e| SendError::Client(e.to_string()))?;
        Ok(Sender { shared })
    }

    pub async fn send(&self, endpoint: &Endpoint, request: &OutgoingRequest) -> Result<(), SendError> {
        let dedicated =
            if endpoint.tls.is_some() || endpoint.proxy.is_some() { Some(client_for(endpoint)?) } else { None };
        let client = dedicated.as_ref().unwrap_or(&self.shared);
        let redact = |text: String| redact(text, endpoint.token.as_deref());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.attempt(client, endpoint.timeout, request).await;
            let retry = match &result {
                Ok(()) => return Ok(()),
                Err(SendError::Status { status, .. }) => *status >= 500,
                Err(SendError::Transport { .. }) => true,
                Err(SendError::Client(_)) => false,
            };
            if !retry || attempt >= ATTEMPTS {
                return result.map_err(|e| match e {
                    SendError::Transport { url, message } => {
                        SendError::Transport { url: redact(url), message: redact(message) }
                    }
                    SendError::Status { url, status, body } => {
                        SendError::Status { url: redact(url), status, body: redact(body) }
                    }
                    other => other,
                });
            }
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
    }

    async fn attempt(&self, client: &reqwest::Client, timeout: Duration, r: &OutgoingRequest) -> Result<(), SendError> {
        let mut builder = match r.method {
            Method::Post => client.post(&r.url),
            Method::Put => client.put(&r.url),
        }
        .timeout(timeout)
        .header("User-Agent", concat!("weir-notification-controller/", env!("CARGO_PKG_VERSION")))
        .body(r.body.clone());
        for (name, value) in &r.headers {
            builder = builder.header(name, value);
        }
        if let Some((user, password)) = &r.basic_auth {
            builder = builder.basic_auth(user, Some(password));
        }
        let response =
            builder.send().await.map_err(|e| SendError::Transport { url: r.url.clone(), message: error_chain(&e) })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        let body: String = body.chars().take(512).collect();
        Err(SendError::Status { url: r.url.clone(), status: status.as_u16(), body })
    }
}

fn client_for(endpoint: &Endpoint) -> Result<reqwest::Client, SendError> {
    let mut builder = reqwest::Client::builder().no_proxy();
    if let Some(tls) = &endpoint.tls {
        if let Some(ca) = &tls.ca {
            for cert in
                reqwest::Certificate::from_pem_bundle(ca).map_err(|e| SendError::Client(format!("ca.crt: {e}")))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
            let mut pem = cert.clone();
            pem.push(b'\n');
            pem.extend_from_slice(key);
            let identity =
                reqwest::Identity::from_pem(&pem).map_err(|e| SendError::Client(format!("tls.crt/tls.key: {e}")))?;
            builder = builder.identity(identity);
        }
    }
    if let Some(proxy) = &endpoint.proxy {
        let mut p = reqwest::Proxy::all(&proxy.address).map_err(|e| SendError::Client(format!("proxy: {e}")))?;
        if let Some(user) = &proxy.username {
            p = p.basic_auth(user, proxy.password.as_deref().unwrap_or_default());
        }
        builder = builder.proxy(p);
    }
    builder.build().map_err(|e| SendError::Client(error_chain(&e)))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Replaces the token wherever it appears (Telegram puts it in the URL, for one).
pub fn redact(text: String, token: Option<&str>) -> String {
    match token.filter(|t| !t.is_empty()) {
        Some(token) => text.replace(token, "*****"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens() {
        assert_eq!(
            redact("https://api.telegram.org/bot123:ABC/sendMessage".into(), Some("123:ABC")),
            "https://api.telegram.org/bot*****/sendMessage"
        );
        assert_eq!(redact("x".into(), Some("")), "x");
    }
}
