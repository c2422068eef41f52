//! Provider (`notification.toolkit.fluxcd.io/v1beta3`): a destination for events, such as a chat
//! channel, a webhook or a Git forge's commit statuses. Flux gives it no status; Weir adds one (see
//! [`NotificationStatus`]) so that a missing Secret or a bad address shows.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::LocalObjectReference;
use crate::notification::status::NotificationStatus;
use crate::validation::{Validate, ValidationErrors, Validator};

/// The pattern of `spec.timeout`: a duration in ms, s or m (no hours).
pub const TIMEOUT_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$";

/// The pattern of the deprecated `spec.proxy`.
pub const PROXY_PATTERN: &str = r"^(http|https)://.*$";

/// Message of the CEL rule that limits `commitStatusExpr` to Git forge providers.
pub const COMMIT_STATUS_EXPR_MESSAGE: &str = "spec.commitStatusExpr is only supported for the 'github', 'gitlab', \
     'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types";

/// Where and how to deliver the events an Alert selects.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta3",
    kind = "Provider",
    doc = "A destination for events (chat, webhook, Git commit status, event bus) and the credentials to reach it.",
    namespaced,
    status = "NotificationStatus",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": "spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types",
    "rule": "self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' || self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)"
}]))]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// The destination, whose meaning depends on the type: an HTTP(S) URL for webhooks and chats, a
    /// repository URL for Git forges, a project or topic for event buses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub address: Option<String>,
    /// Secret with TLS material: `ca.crt` to trust the server, `tls.crt` and `tls.key` for a client
    /// certificate (the older keys `caFile`, `certFile`, `keyFile` are still read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// The channel, room or topic to post to, for the types that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub channel: Option<String>,
    /// A CEL expression over `event`, `provider` and `alert` that yields the commit status text;
    /// only for the Git forge types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_status_expr: Option<String>,
    /// Deprecated, ignored in v1beta3: providers are not reconciled periodically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: Option<String>,
    /// Deprecated in favour of `proxySecretRef`: the HTTP(S) proxy to send through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^(http|https)://.*$"))]
    pub proxy: Option<String>,
    /// Secret with the proxy to send through: key `address`, optionally `username` and `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// Secret with credentials for the destination, such as `token`, `address`, `username`,
    /// `password` or `headers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// ServiceAccount whose workload identity authenticates to cloud destinations (azureeventhub,
    /// azuredevops, googlepubsub); needs the ObjectLevelWorkloadIdentity feature gate and excludes
    /// static credentials in `secretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// When true, events for this provider are dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// How long one delivery may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
    /// The kind of destination.
    #[serde(rename = "type")]
    pub type_: ProviderType,
    /// The name events are posted under, for the chat types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub username: Option<String>,
}

/// The kinds of destination a Provider can send to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ProviderType {
    #[serde(rename = "slack")]
    Slack,
    #[serde(rename = "discord")]
    Discord,
    #[serde(rename = "msteams")]
    MsTeams,
    #[serde(rename = "rocket")]
    Rocket,
    #[serde(rename = "generic")]
    Generic,
    #[serde(rename = "generic-hmac")]
    GenericHmac,
    #[serde(rename = "github")]
    GitHub,
    #[serde(rename = "gitlab")]
    GitLab,
    #[serde(rename = "gitea")]
    Gitea,
    #[serde(rename = "giteapullrequestcomment")]
    GiteaPullRequestComment,
    #[serde(rename = "bitbucketserver")]
    BitbucketServer,
    #[serde(rename = "bitbucket")]
    Bitbucket,
    #[serde(rename = "azuredevops")]
    AzureDevOps,
    #[serde(rename = "googlechat")]
    GoogleChat,
    #[serde(rename = "googlepubsub")]
    GooglePubSub,
    #[serde(rename = "webex")]
    Webex,
    #[serde(rename = "sentry")]
    Sentry,
    #[serde(rename = "azureeventhub")]
    AzureEventHub,
    #[serde(rename = "telegram")]
    Telegram,
    #[serde(rename = "lark")]
    Lark,
    #[serde(rename = "matrix")]
    Matrix,
    #[serde(rename = "opsgenie")]
    Opsgenie,
    #[serde(rename = "alertmanager")]
    Alertmanager,
    #[serde(rename = "grafana")]
    Grafana,
    #[serde(rename = "githubdispatch")]
    GitHubDispatch,
    #[serde(rename = "githubpullrequestcomment")]
    GitHubPullRequestComment,
    #[serde(rename = "gitlabmergerequestcomment")]
    GitLabMergeRequestComment,
    #[serde(rename = "pagerduty")]
    PagerDuty,
    #[serde(rename = "datadog")]
    Datadog,
    #[serde(rename = "nats")]
    Nats,
    #[serde(rename = "zulip")]
    Zulip,
    #[serde(rename = "otel")]
    Otel,
    #[serde(rename = "zoom")]
    Zoom,
    #[serde(rename = "incident.io")]
    IncidentIo,
}

impl ProviderType {
    /// Every type, in the order of the CRD's enum.
    pub const ALL: [ProviderType; 34] = [
        ProviderType::Slack,
        ProviderType::Discord,
        ProviderType::MsTeams,
        ProviderType::Rocket,
        ProviderType::Generic,
        ProviderType::GenericHmac,
        ProviderType::GitHub,
        ProviderType::GitLab,
        ProviderType::Gitea,
        ProviderType::GiteaPullRequestComment,
        ProviderType::BitbucketServer,
        ProviderType::Bitbucket,
        ProviderType::AzureDevOps,
        ProviderType::GoogleChat,
        ProviderType::GooglePubSub,
        ProviderType::Webex,
        ProviderType::Sentry,
        ProviderType::AzureEventHub,
        ProviderType::Telegram,
        ProviderType::Lark,
        ProviderType::Matrix,
        ProviderType::Opsgenie,
        ProviderType::Alertmanager,
        ProviderType::Grafana,
        ProviderType::GitHubDispatch,
        ProviderType::GitHubPullRequestComment,
        ProviderType::GitLabMergeRequestComment,
        ProviderType::PagerDuty,
        ProviderType::Datadog,
        ProviderType::Nats,
        ProviderType::Zulip,
        ProviderType::Otel,
        ProviderType::Zoom,
        ProviderType::IncidentIo,
    ];

    /// The value as written in `spec.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderType::Slack => "slack",
            ProviderType::Discord => "discord",
            ProviderType::MsTeams => "msteams",
            ProviderType::Rocket => "rocket",
            ProviderType::Generic => "generic",
            ProviderType::GenericHmac => "generic-hmac",
            ProviderType::GitHub => "github",
            ProviderType::GitLab => "gitlab",
            ProviderType::Gitea => "gitea",
            ProviderType::GiteaPullRequestComment => "giteapullrequestcomment",
            ProviderType::BitbucketServer => "bitbucketserver",
            ProviderType::Bitbucket => "bitbucket",
            ProviderType::AzureDevOps => "azuredevops",
            ProviderType::GoogleChat => "googlechat",
            ProviderType::GooglePubSub => "googlepubsub",
            ProviderType::Webex => "webex",
            ProviderType::Sentry => "sentry",
            ProviderType::AzureEventHub => "azureeventhub",
            ProviderType::Telegram => "telegram",
            ProviderType::Lark => "lark",
            ProviderType::Matrix => "matrix",
            ProviderType::Opsgenie => "opsgenie",
            ProviderType::Alertmanager => "alertmanager",
            ProviderType::Grafana => "grafana",
            ProviderType::GitHubDispatch => "githubdispatch",
            ProviderType::GitHubPullRequestComment => "githubpullrequestcomment",
            ProviderType::GitLabMergeRequestComment => "gitlabmergerequestcomment",
            ProviderType::PagerDuty => "pagerduty",
            ProviderType::Datadog => "datadog",
            ProviderType::Nats => "nats",
            ProviderType::Zulip => "zulip",
            ProviderType::Otel => "otel",
            ProviderType::Zoom => "zoom",
            ProviderType::IncidentIo => "incident.io",
        }
    }

    /// Whether the type posts commit statuses to a Git forge, the only types that accept
    /// `commitStatusExpr`.
    pub fn is_commit_status(self) -> bool {
        matches!(
            self,
            ProviderType::GitHub
                | ProviderType::GitLab
                | ProviderType::Gitea
                | ProviderType::BitbucketServer
                | ProviderType::Bitbucket
                | ProviderType::AzureDevOps
        )
    }
}

impl Validate for Provider {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut v = Validator::new();
        let s = &self.spec;
        v.length("spec.address", s.address.as_deref(), 0, 2048);
        v.length("spec.channel", s.channel.as_deref(), 0, 2048);
        v.length("spec.username", s.username.as_deref(), 0, 2048);
        v.length("spec.proxy", s.proxy.as_deref(), 0, 2048);
        v.pattern("spec.proxy", s.proxy.as_deref(), PROXY_PATTERN);
        v.duration("spec.interval", s.interval.as_deref());
        if let Some(timeout) = s.timeout.as_deref()
            && !regex::Regex::new(TIMEOUT_PATTERN).is_ok_and(|re| re.is_match(timeout))
        {
            v.error(
                "spec.timeout",
                format!("invalid duration {timeout:?}: expected a sequence like 30s, 1m30s or 500ms (units ms, s, m)"),
            );
        }
        if let Some(r) = &s.cert_secret_ref {
            v.required("spec.certSecretRef.name", &r.name);
        }
        if let Some(r) = &s.proxy_secret_ref {
            v.required("spec.proxySecretRef.name", &r.name);
        }
        if let Some(r) = &s.secret_ref {
            v.required("spec.secretRef.name", &r.name);
        }
        v.check(
            s.type_.is_commit_status() || s.commit_status_expr.is_none(),
            "spec.commitStatusExpr",
            COMMIT_STATUS_EXPR_MESSAGE,
        );
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/providers.yaml");

    fn provider(type_: ProviderType) -> Provider {
        Provider::new(
            "slack",
            ProviderSpec {
                address: None,
                cert_secret_ref: None,
                channel: Some("alerts".into()),
                commit_status_expr: None,
                interval: None,
                proxy: None,
                proxy_secret_ref: None,
                secret_ref: Some(LocalObjectReference { name: "slack-token".into() }),
                service_account_name: None,
                suspend: None,
                timeout: None,
                type_,
                username: None,
            },
        )
    }

    fn messages(p: &Provider) -> Vec<String> {
        p.validate().err().map(|e| e.0.into_iter().map(|e| e.to_string()).collect()).unwrap_or_default()
    }

    #[test]
    fn minimal_provider_is_valid() {
        provider(ProviderType::Slack).validate().unwrap();
    }

    #[test]
    fn commit_status_expr_is_only_for_git_forges() {
        let mut p = provider(ProviderType::Slack);
        p.spec.commit_status_expr = Some("event.metadata.revision".into());
        assert_eq!(messages(&p), vec![format!("spec.commitStatusExpr: {COMMIT_STATUS_EXPR_MESSAGE}")]);
        for t in [
            ProviderType::GitHub,
            ProviderType::GitLab,
            ProviderType::Gitea,
            ProviderType::BitbucketServer,
            ProviderType::Bitbucket,
            ProviderType::AzureDevOps,
        ] {
            p.spec.type_ = t;
            p.validate().unwrap();
        }
        p.spec.type_ = ProviderType::GitHubPullRequestComment;
        assert!(p.validate().is_err());
    }

    #[test]
    fn rejects_bad_patterns_and_lengths() {
        let mut p = provider(ProviderType::Generic);
        p.spec.proxy = Some("socks5://proxy:1080".into());
        p.spec.interval = Some("1d".into());
        p.spec.timeout = Some("1h".into());
        p.spec.channel = Some("c".repeat(2049));
        let text = messages(&p).join("\n");
        assert!(text.contains("spec.proxy: \"socks5://proxy:1080\" does not match"), "{text}");
        assert!(text.contains("spec.interval: invalid duration \"1d\""), "{text}");
        assert!(text.contains("spec.timeout: invalid duration \"1h\""), "{text}");
        assert!(text.contains("spec.channel: must be at most 2048 characters long"), "{text}");
        assert_eq!(messages(&p).len(), 4, "{text}");

        p.spec.proxy = Some("https://proxy:8080".into());
        p.spec.interval = Some("1h".into());
        p.spec.timeout = Some("1m30s".into());
        p.spec.channel = None;
        p.validate().unwrap();
    }

    #[test]
    fn unknown_type_is_rejected_by_serde() {
        let yaml = FIXTURE.replace("type: github", "type: irc");
        assert!(serde_saphyr::from_str::<Provider>(&yaml).is_err());
        assert_eq!(serde_json::to_value(ProviderType::IncidentIo).unwrap(), "incident.io");
        assert_eq!(ProviderType::IncidentIo.as_str(), "incident.io");
    }

    #[test]
    fn as_str_matches_serde() {
        for t in ProviderType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }
}
