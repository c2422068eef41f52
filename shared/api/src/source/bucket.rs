//! Bucket (`source.toolkit.fluxcd.io/v1`): the files of an object storage bucket (S3-compatible,
//! Amazon S3, Google Cloud Storage or Azure Blob Storage), packaged as an artifact.

use std::time::Duration;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;
use crate::duration::{DurationError, parse_duration};
use crate::meta::{Artifact, LocalObjectReference};
use crate::validation::{Validate, ValidationErrors, Validator};

/// How long a fetch may take when `spec.timeout` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The pattern of `spec.sts.endpoint`.
pub const STS_ENDPOINT_PATTERN: &str = r"^(http|https)://.*$";

/// The messages of the CEL rules on the spec, in the order of the CRD.
pub mod messages {
    pub const STS_PROVIDER: &str = "STS configuration is only supported for the 'aws' and 'generic' Bucket providers";
    pub const STS_AWS: &str = "'aws' is the only supported STS provider for the 'aws' Bucket provider";
    pub const STS_GENERIC: &str = "'ldap' is the only supported STS provider for the 'generic' Bucket provider";
    pub const STS_AWS_SECRET_REF: &str = "spec.sts.secretRef is not required for the 'aws' STS provider";
    pub const STS_AWS_CERT_SECRET_REF: &str = "spec.sts.certSecretRef is not required for the 'aws' STS provider";
    pub const GENERIC_SERVICE_ACCOUNT: &str = "ServiceAccountName is not supported for the 'generic' Bucket provider";
    pub const SECRET_AND_SERVICE_ACCOUNT: &str = "cannot set both .spec.secretRef and .spec.serviceAccountName";
}

/// Which bucket to read, where, and with which credentials.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "Bucket",
    doc = "An object storage bucket whose files are packaged as an artifact.",
    namespaced,
    status = "BucketStatus",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "Endpoint", type_ = "string", json_path = ".spec.endpoint"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].message"#)
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "message": "STS configuration is only supported for the 'aws' and 'generic' Bucket providers",
        "rule": "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)"
    },
    {
        "message": "'aws' is the only supported STS provider for the 'aws' Bucket provider",
        "rule": "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'"
    },
    {
        "message": "'ldap' is the only supported STS provider for the 'generic' Bucket provider",
        "rule": "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'"
    },
    {
        "message": "spec.sts.secretRef is not required for the 'aws' STS provider",
        "rule": "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)"
    },
    {
        "message": "spec.sts.certSecretRef is not required for the 'aws' STS provider",
        "rule": "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)"
    },
    {
        "message": "ServiceAccountName is not supported for the 'generic' Bucket provider",
        "rule": "self.provider != 'generic' || !has(self.serviceAccountName)"
    },
    {
        "message": "cannot set both .spec.secretRef and .spec.serviceAccountName",
        "rule": "!has(self.secretRef) || !has(self.serviceAccountName)"
    }
]))]
pub struct BucketSpec {
    /// The storage service: `generic` for any S3-compatible API, or `aws`, `gcp`, `azure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<BucketProvider>,

    /// Name of the bucket.
    pub bucket_name: String,

    /// Address of the storage service, such as `s3.amazonaws.com` or `minio.minio.svc:9000`.
    pub endpoint: String,

    /// Fetch temporary credentials from a Security Token Service (`aws` and `generic` providers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts: Option<BucketStsSpec>,

    /// Use plain HTTP to reach the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,

    /// Region of the endpoint the bucket is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// Only fetch objects whose key starts with this prefix (filtered by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,

    /// Secret with the credentials for the storage service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,

    /// Kubernetes ServiceAccount whose workload identity authenticates to the storage service
    /// (`aws` and `gcp` providers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,

    /// Secret (type `Opaque` or `kubernetes.io/tls`) with a client certificate and key (`tls.crt`,
    /// `tls.key`) and/or a CA bundle (`ca.crt`) for the TLS connection (`generic` provider only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,

    /// Secret with the proxy settings (`address`, and optionally `username` and `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,

    /// How often to check the bucket for changes; some jitter may be added.
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,

    /// Time limit for fetching the bucket's objects; 60s when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"), extend("default" = "60s"))]
    pub timeout: Option<String>,

    /// Exclusion patterns in `.gitignore` syntax, replacing the default ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,

    /// Stop reconciling this object until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// The object storage service a Bucket talks to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BucketProvider {
    /// Any S3-compatible API, such as MinIO.
    #[default]
    #[serde(rename = "generic")]
    Generic,
    /// Amazon S3.
    #[serde(rename = "aws")]
    Aws,
    /// Google Cloud Storage.
    #[serde(rename = "gcp")]
    Gcp,
    /// Azure Blob Storage.
    #[serde(rename = "azure")]
    Azure,
}

/// A Security Token Service that issues temporary credentials for the bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketStsSpec {
    /// The kind of STS: `aws` (with the `aws` provider) or `ldap` (with the `generic` provider).
    pub provider: StsProvider,
    /// HTTP(S) address of the STS.
    #[schemars(regex(pattern = r"^(http|https)://.*$"))]
    pub endpoint: String,
    /// Secret with `username` and `password` for the STS (`ldap` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Secret (type `Opaque` or `kubernetes.io/tls`) with a client certificate and key and/or a
    /// CA bundle for the TLS connection to the STS (`ldap` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
}

/// The kind of Security Token Service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StsProvider {
    /// AWS STS.
    #[default]
    #[serde(rename = "aws")]
    Aws,
    /// An LDAP-backed STS, such as MinIO's.
    #[serde(rename = "ldap")]
    Ldap,
}

/// What the controller last observed and produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct BucketStatus {
    /// The `metadata.generation` of the last reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The state of the bucket, such as `Ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Where to download the latest artifact; `artifact.url` is the precise address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The packaged files of the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The exclusion patterns the last artifact was built with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` annotation value acted upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

impl BucketSpec {
    /// How often to check the bucket for changes.
    pub fn interval(&self) -> Result<Duration, DurationError> {
        parse_duration(&self.interval)
    }

    /// Time limit for fetch operations, 60s when not set.
    pub fn timeout(&self) -> Result<Duration, DurationError> {
        self.timeout.as_deref().map_or(Ok(DEFAULT_TIMEOUT), parse_duration)
    }

    /// The storage provider, `generic` when not set.
    pub fn provider(&self) -> BucketProvider {
        self.provider.unwrap_or_default()
    }
}

impl Validate for Bucket {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let s = &self.spec;
        let provider = s.provider();
        let mut v = Validator::new();
        v.required("spec.bucketName", &s.bucket_name);
        v.required("spec.endpoint", &s.endpoint);
        v.duration("spec.interval", Some(&s.interval));
        v.duration_without_hours("spec.timeout", s.timeout.as_deref());
        for (path, r) in [
            ("spec.secretRef", &s.secret_ref),
            ("spec.certSecretRef", &s.cert_secret_ref),
            ("spec.proxySecretRef", &s.proxy_secret_ref),
        ] {
            if let Some(r) = r {
                v.required(&format!("{path}.name"), &r.name);
            }
        }
        if let Some(sts) = &s.sts {
            v.pattern("spec.sts.endpoint", Some(&sts.endpoint), STS_ENDPOINT_PATTERN);
            for (path, r) in [("spec.sts.secretRef", &sts.secret_ref), ("spec.sts.certSecretRef", &sts.cert_secret_ref)]
            {
                if let Some(r) = r {
                    v.required(&format!("{path}.name"), &r.name);
                }
            }
            v.check(
                matches!(provider, BucketProvider::Aws | BucketProvider::Generic),
                "spec.sts",
                messages::STS_PROVIDER,
            );
            v.check(
                provider != BucketProvider::Aws || sts.provider == StsProvider::Aws,
                "spec.sts.provider",
                messages::STS_AWS,
            );
            v.check(
                provider != BucketProvider::Generic || sts.provider == StsProvider::Ldap,
                "spec.sts.provider",
                messages::STS_GENERIC,
            );
            let aws_sts = sts.provider == StsProvider::Aws;
            v.check(!aws_sts || sts.secret_ref.is_none(), "spec.sts.secretRef", messages::STS_AWS_SECRET_REF);
            v.check(
                !aws_sts || sts.cert_secret_ref.is_none(),
                "spec.sts.certSecretRef",
                messages::STS_AWS_CERT_SECRET_REF,
            );
        }
        v.check(
            provider != BucketProvider::Generic || s.service_account_name.is_none(),
            "spec.serviceAccountName",
            messages::GENERIC_SERVICE_ACCOUNT,
        );
        v.check(
            s.secret_ref.is_none() || s.service_account_name.is_none(),
            "spec.serviceAccountName",
            messages::SECRET_AND_SERVICE_ACCOUNT,
        );
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/buckets.yaml");
    const FIXTURE_AWS: &str = include_str!("../../tests/fixtures/buckets-aws.yaml");

    fn generic() -> Bucket {
        serde_saphyr::from_str(FIXTURE).unwrap()
    }

    fn aws() -> Bucket {
        serde_saphyr::from_str(FIXTURE_AWS).unwrap()
    }

    fn sts(obj: &mut Bucket) -> &mut BucketStsSpec {
        obj.spec.sts.as_mut().unwrap()
    }

    fn errors(obj: &Bucket) -> Vec<String> {
        obj.validate().unwrap_err().0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn minimal_object_is_valid_and_defaults_apply() {
        let obj = Bucket::new(
            "podinfo",
            BucketSpec {
                bucket_name: "podinfo".into(),
                endpoint: "minio.minio.svc:9000".into(),
                interval: "1m".into(),
                ..Default::default()
            },
        );
        obj.validate().unwrap();
        assert_eq!(obj.spec.interval(), Ok(Duration::from_secs(60)));
        assert_eq!(obj.spec.timeout(), Ok(DEFAULT_TIMEOUT));
        assert_eq!(obj.spec.provider(), BucketProvider::Generic);
    }

    #[test]
    fn sts_only_for_aws_and_generic() {
        let mut obj = generic();
        obj.spec.provider = Some(BucketProvider::Gcp);
        assert_eq!(errors(&obj), [format!("spec.sts: {}", messages::STS_PROVIDER)]);
    }

    #[test]
    fn aws_provider_needs_aws_sts() {
        let mut obj = aws();
        sts(&mut obj).provider = StsProvider::Ldap;
        assert_eq!(errors(&obj), [format!("spec.sts.provider: {}", messages::STS_AWS)]);
    }

    #[test]
    fn generic_provider_needs_ldap_sts() {
        let mut obj = generic();
        let s = sts(&mut obj);
        s.provider = StsProvider::Aws;
        s.secret_ref = None;
        s.cert_secret_ref = None;
        assert_eq!(errors(&obj), [format!("spec.sts.provider: {}", messages::STS_GENERIC)]);
    }

    #[test]
    fn aws_sts_takes_no_secrets() {
        let mut obj = aws();
        sts(&mut obj).secret_ref = Some(LocalObjectReference { name: "creds".into() });
        assert_eq!(errors(&obj), [format!("spec.sts.secretRef: {}", messages::STS_AWS_SECRET_REF)]);

        let mut obj = aws();
        sts(&mut obj).cert_secret_ref = Some(LocalObjectReference { name: "tls".into() });
        assert_eq!(errors(&obj), [format!("spec.sts.certSecretRef: {}", messages::STS_AWS_CERT_SECRET_REF)]);
    }

    #[test]
    fn generic_provider_takes_no_service_account() {
        let mut obj = generic();
        obj.spec.secret_ref = None;
        obj.spec.service_account_name = Some("source-controller".into());
        assert_eq!(errors(&obj), [format!("spec.serviceAccountName: {}", messages::GENERIC_SERVICE_ACCOUNT)]);
    }

    #[test]
    fn secret_ref_excludes_service_account() {
        let mut obj = aws();
        obj.spec.secret_ref = Some(LocalObjectReference { name: "creds".into() });
        assert_eq!(errors(&obj), [format!("spec.serviceAccountName: {}", messages::SECRET_AND_SERVICE_ACCOUNT)]);
    }

    #[test]
    fn missing_provider_counts_as_generic() {
        let mut obj = aws();
        obj.spec.provider = None;
        assert_eq!(
            errors(&obj),
            [
                format!("spec.sts.provider: {}", messages::STS_GENERIC),
                format!("spec.serviceAccountName: {}", messages::GENERIC_SERVICE_ACCOUNT),
            ]
        );
    }

    #[test]
    fn rejects_bad_patterns_and_durations() {
        let mut obj = aws();
        obj.spec.interval = "5 m".into();
        obj.spec.timeout = Some("1.5h".into());
        sts(&mut obj).endpoint = "sts.amazonaws.com".into();
        let errs = errors(&obj);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("spec.interval: invalid duration \"5 m\""), "{errs:?}");
        assert!(errs[1].starts_with("spec.timeout: invalid duration \"1.5h\": hours are not accepted"), "{errs:?}");
        assert!(errs[2].starts_with("spec.sts.endpoint: \"sts.amazonaws.com\" does not match"), "{errs:?}");
    }

    #[test]
    fn serde_rejects_unknown_enum_values() {
        for (text, from, to) in
            [(FIXTURE, "provider: generic", "provider: ibm"), (FIXTURE, "provider: ldap", "provider: oidc")]
        {
            let bad = text.replace(from, to);
            assert_ne!(bad, text);
            assert!(serde_saphyr::from_str::<Bucket>(&bad).is_err(), "{to}");
        }
    }
}
