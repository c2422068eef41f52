//! Who applies: the controller itself, a service account it impersonates
//! (`spec.serviceAccountName`, else `--default-service-account`), or a remote cluster reached
//! through a kubeconfig Secret (`spec.kubeConfig.secretRef`) or with a ServiceAccount token
//! (`spec.kubeConfig.configMapRef`, see `workload_identity`). One resource manager per
//! impersonated identity, and per remote cluster until its token is renewed, is kept, so its
//! discovery cache is reused.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use k8s_openapi::api::core::v1::Secret;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Config};
use weir_api::kustomize::Kustomization;
use weir_apply::ResourceManager;

use super::workload_identity::{self as identity, Cached, IdentityOptions};

/// The keys a kubeconfig Secret is read from when `secretRef.key` is unset, in order.
const KUBECONFIG_KEYS: [&str; 2] = ["value", "value.yaml"];

#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error("{0}")]
    KubeConfig(String),
    #[error("impersonating {user}: {message}")]
    Impersonation { user: String, message: String },
}

pub struct Clients {
    /// The controller's own configuration, the base of every impersonating client.
    base: kube::Config,
    own: ResourceManager,
    default_service_account: Option<String>,
    concurrency: usize,
    impersonating: Mutex<HashMap<String, ResourceManager>>,
    identity: IdentityOptions,
    /// Remote clusters of `kubeConfig.configMapRef`, by their settings and who applies.
    remote: Mutex<HashMap<String, Cached<ResourceManager>>>,
}

/// The controller's own client configuration, found as the process found it (`--kubeconfig`, then
/// inference).
pub async fn base_config(kubeconfig: Option<&PathBuf>) -> anyhow::Result<kube::Config> {
    Ok(match kubeconfig {
        Some(path) => {
            Config::from_custom_kubeconfig(Kubeconfig::read_from(path)?, &KubeConfigOptions::default()).await?
        }
        None => kube::Config::infer().await?,
    })
}

/// `system:serviceaccount:<namespace>:<name>`, the user name of a service account.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// Parses into whatever type the caller needs (here `http`'s header types, through kube's `Config`).
fn parse<T>(text: &str) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| e.to_string())
}

/// `config` that sends every request as `user` (the API server checks the controller may).
fn impersonating_config(mut config: Config, user: &str) -> Result<Config, String> {
    config.headers.push((parse("impersonate-user")?, parse(user)?));
    Ok(config)
}

impl Clients {
    pub fn new(
        base: Config,
        own: ResourceManager,
        default_service_account: Option<String>,
        concurrency: usize,
    ) -> Self {
        Clients {
            base,
            own,
            default_service_account,
            concurrency,
            impersonating: Mutex::new(HashMap::new()),
            identity: IdentityOptions::default(),
            remote: Mutex::new(HashMap::new()),
        }
    }

    /// How `kubeConfig.configMapRef` picks the ServiceAccount whose token it uses.
    pub fn with_identity(mut self, identity: IdentityOptions) -> Self {
        self.identity = identity;
        self
    }

    /// The service account `obj` applies as, if any.
    pub fn service_account_of<'a>(&'a self, obj: &'a Kustomization) -> Option<&'a str> {
        obj.spec.service_account_name.as_deref().filter(|s| !s.is_empty()).or(self.default_service_account.as_deref())
    }

    /// The resource manager `obj` applies, prunes and checks health with.
    pub async fn manager_for(
        &self,
        client: &kube::Client,
        obj: &Kustomization,
        namespace: &str,
    ) -> Result<ResourceManager, ClientsError> {
        let user = self.service_account_of(obj).map(|sa| service_account_user(namespace, sa));
        if let Some(secret_ref) = obj.spec.kube_config.as_ref().and_then(|k| k.secret_ref.as_ref()) {
            let config = remote_config(client, namespace, &secret_ref.name, secret_ref.key.as_deref()).await?;
            return self.build(config, user);
        }
        if let Some(config_map) = obj.spec.kube_config.as_ref().and_then(|k| k.config_map_ref.as_ref()) {
            return self.remote_manager(client, namespace, &config_map.name, user).await.map_err(|message| {
                ClientsError::KubeConfig(format!(
                    "kubeConfig.configMapRef '{namespace}/{}': {message}",
                    config_map.name
                ))
            });
        }
        let Some(user) = user else { return Ok(self.own.clone()) };
        let mut cache = self.impersonating.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(manager) = cache.get(&user) {
            return Ok(manager.clone());
        }
        let manager = self.build(self.base.clone(), Some(user.clone()))?;
        cache.insert(user, manager.clone());
        Ok(manager)
    }

    /// The manager for the cluster the ConfigMap `namespace/name` describes, with a fresh token
    /// when the cached one is due for renewal.
    async fn remote_manager(
        &self,
        client: &kube::Client,
        namespace: &str,
        name: &str,
        user: Option<String>,
    ) -> Result<ResourceManager, String> {
        let data = identity::read_config_map(client, namespace, name).await?;
        let settings = identity::generic_settings(&data)?;
        let (sa_namespace, sa_name) = match identity::service_account(&settings, &self.identity)? {
            Some(sa) => (namespace.to_string(), sa.to_string()),
            None => identity::controller_service_account()?,
        };
        let key = format!("{settings:?}|{sa_namespace}/{sa_name}|{user:?}");
        {
            let cache = self.remote.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(cached) = cache.get(&key).filter(|c| c.until > Instant::now()) {
                return Ok(cached.value.clone());
            }
        }
        let (token, reuse_for) = identity::request_token(client, &sa_namespace, &sa_name, &settings.audiences).await?;
        let config = identity::config(&settings, &token).await?;
        let manager = self.build(config, user).map_err(|e| e.to_string())?;
        let mut cache = self.remote.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, c| c.until > Instant::now());
        cache.insert(key, Cached { value: manager.clone(), until: Instant::now() + reuse_for });
        Ok(manager)
    }

    fn build(&self, config: Config, user: Option<String>) -> Result<ResourceManager, ClientsError> {
        let config = match &user {
            Some(user) => impersonating_config(config, user)
                .map_err(|message| ClientsError::Impersonation { user: user.clone(), message })?,
            None => config,
        };
        let client = kube::Client::try_from(config).map_err(|e| ClientsError::Impersonation {
            user: user.unwrap_or_else(|| "the remote cluster".into()),
            message: e.to_string(),
        })?;
        Ok(ResourceManager::new(client).with_concurrency(self.concurrency))
    }
}

/// The configuration of the cluster in the kubeconfig Secret `name`.
async fn remote_config(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    key: Option<&str>,
) -> Result<Config, ClientsError> {
    let failed =
        |message: String| ClientsError::KubeConfig(format!("kubeconfig Secret '{namespace}/{name}': {message}"));
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret =
        api.get_opt(name).await.map_err(|e| failed(e.to_string()))?.ok_or_else(|| failed("not found".into()))?;
    let data = secret.data.unwrap_or_default();
    let keys: Vec<&str> = match key.filter(|k| !k.is_empty()) {
        Some(key) => vec![key],
        None => KUBECONFIG_KEYS.to_vec(),
    };
    let bytes = keys
        .iter()
        .find_map(|k| data.get(*k))
        .ok_or_else(|| failed(format!("no key {} in the Secret", keys.join(" or "))))?;
    let text = std::str::from_utf8(&bytes.0).map_err(|_| failed("the kubeconfig is not UTF-8".into()))?;
    let kubeconfig = Kubeconfig::from_yaml(text).map_err(|e| failed(format!("invalid kubeconfig: {e}")))?;
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| failed(format!("unusable kubeconfig: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_user_names() {
        assert_eq!(service_account_user("apps", "deployer"), "system:serviceaccount:apps:deployer");
    }
}
