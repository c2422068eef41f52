//! Helm's built-in objects with methods: `.Files`, `.Capabilities` (with `KubeVersion` and
//! `APIVersions.Has`), and the plain maps `.Release` and `.Template`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::chart::{File, glob_matches};
use crate::helm_funcs::helm_to_yaml;
use crate::template::{Arity, Function, Map, Object, Param, Value};

/// `.Files`: the chart's non-template files.
#[derive(Clone, Default)]
pub struct Files(Arc<BTreeMap<String, Vec<u8>>>);

impl Files {
    pub fn new(files: &[File]) -> Files {
        Files(Arc::new(files.iter().map(|f| (f.name.clone(), f.data.clone())).collect()))
    }

    fn text(&self, name: &str) -> String {
        self.0.get(name).map(|d| String::from_utf8_lossy(d).into_owned()).unwrap_or_default()
    }

    fn as_map(&self, encode: fn(&[u8]) -> String) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let m: Map = self
            .0
            .iter()
            .map(|(k, v)| (k.rsplit('/').next().unwrap_or(k).to_string(), Value::String(encode(v))))
            .collect();
        helm_to_yaml(&Value::map(m))
    }
}

fn one_string(a: &[Value]) -> String {
    a.first().and_then(Value::as_str).unwrap_or_default().to_string()
}

impl Object for Files {
    fn type_name(&self) -> String {
        "engine.files".into()
    }

    fn field(&self, _: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<Function> {
        let me = self.clone();
        let f = match name {
            "Get" => Function::new(Arity::Exact(1), move |a| Ok(Value::String(me.text(&one_string(a))))),
            "GetBytes" => Function::new(Arity::Exact(1), move |a| {
                let data = me.0.get(&one_string(a)).cloned().unwrap_or_default();
                Ok(Value::list(data.into_iter().map(|b| Value::Int(i64::from(b))).collect()))
            }),
            "Glob" => Function::new(Arity::Exact(1), move |a| {
                let pattern = one_string(a);
                let hits = me.0.iter().filter(|(k, _)| glob_matches(&pattern, k, true));
                Ok(Value::Object(Arc::new(Files(Arc::new(hits.map(|(k, v)| (k.clone(), v.clone())).collect())))))
            }),
            "Lines" => Function::new(Arity::Exact(1), move |a| {
                let Some(data) = me.0.get(&one_string(a)) else { return Ok(Value::list(vec![])) };
                let s = String::from_utf8_lossy(data);
                let s = s.strip_suffix('\n').unwrap_or(&s);
                Ok(Value::list(s.split('\n').map(|l| Value::String(l.to_string())).collect()))
            }),
            "AsConfig" => Function::new(Arity::Exact(0), move |_| {
                Ok(Value::String(me.as_map(|d| String::from_utf8_lossy(d).into_owned())))
            }),
            "AsSecrets" => Function::new(Arity::Exact(0), move |_| Ok(Value::String(me.as_map(base64)))),
            _ => return None,
        };
        Some(if matches!(name, "Get" | "GetBytes" | "Glob" | "Lines") { f.with_params(&[Param::String]) } else { f })
    }

    fn format(&self) -> String {
        let entries: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}:{:?}", v)).collect();
        format!("map[{}]", entries.join(" "))
    }
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The Kubernetes version templates see (`.Capabilities.KubeVersion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeVersion {
    pub version: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// From `v1.31.0` or `1.31.0`.
    pub fn parse(s: &str) -> Option<KubeVersion> {
        let v = s.trim_start_matches('v');
        let mut parts = v.split(['.', '-', '+']);
        let major = parts.next()?.to_string();
        let minor = parts.next().unwrap_or("0").to_string();
        if major.is_empty() || !major.bytes().all(|b| b.is_ascii_digit()) || !minor.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(KubeVersion { version: format!("v{v}"), major, minor })
    }
}

impl Default for KubeVersion {
    /// Helm 3.16's default for `helm template` (client-go 0.31).
    fn default() -> Self {
        KubeVersion { version: "v1.31.0".into(), major: "1".into(), minor: "31".into() }
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> String {
        "*chartutil.KubeVersion".into()
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" | "GitVersion" => Some(self.version.clone().into()),
            "Major" => Some(self.major.clone().into()),
            "Minor" => Some(self.minor.clone().into()),
            _ => None,
        }
    }

    fn method(&self, name: &str) -> Option<Function> {
        let v = self.version.clone();
        (name == "String").then(|| Function::new(Arity::Exact(0), move |_| Ok(Value::String(v.clone()))))
    }

    fn format(&self) -> String {
        self.version.clone()
    }
}

/// The API versions `helm template` assumes (group/version and group/version/kind forms),
/// before those given with `--api-versions`.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "apiextensions.k8s.io/v1",
    "apiregistration.k8s.io/v1",
    "apps/v1",
    "authentication.k8s.io/v1",
    "authorization.k8s.io/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "certificates.k8s.io/v1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "events.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1",
    "networking.k8s.io/v1",
    "node.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1",
    "v1/ConfigMap",
    "v1/Namespace",
    "v1/Pod",
    "v1/Secret",
    "v1/Service",
    "v1/ServiceAccount",
    "apps/v1/DaemonSet",
    "apps/v1/Deployment",
    "apps/v1/StatefulSet",
    "batch/v1/CronJob",
    "batch/v1/Job",
    "networking.k8s.io/v1/Ingress",
    "policy/v1/PodDisruptionBudget",
    "autoscaling/v2/HorizontalPodAutoscaler",
];

/// `.Capabilities.APIVersions`.
#[derive(Debug, Clone)]
pub struct ApiVersions(pub Arc<Vec<String>>);

impl Object for ApiVersions {
    fn type_name(&self) -> String {
        "chartutil.VersionSet".into()
    }

    fn field(&self, _: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<Function> {
        let set = self.0.clone();
        (name == "Has").then(|| {
            Function::new(Arity::Exact(1), move |a| {
                Ok(Value::Bool(set.iter().any(|v| Some(v.as_str()) == a[0].as_str())))
            })
            .with_params(&[Param::String])
        })
    }

    fn format(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
}

/// `.Capabilities`.
#[derive(Debug, Clone)]
pub struct Capabilities {
    pub kube_version: KubeVersion,
    pub api_versions: ApiVersions,
}

impl Object for Capabilities {
    fn type_name(&self) -> String {
        "*chartutil.Capabilities".into()
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(Arc::new(self.kube_version.clone()))),
            "APIVersions" => Some(Value::Object(Arc::new(self.api_versions.clone()))),
            "HelmVersion" => {
                let mut m = Map::new();
                m.insert("Version".into(), "v3.16.0".into());
                m.insert("GitCommit".into(), "".into());
                m.insert("GitTreeState".into(), "".into());
                m.insert("GoVersion".into(), "".into());
                Some(Value::map(m))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"hi"), "aGk=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
