//! Which fields refer to which resources by name: kustomize's built-in name-reference
//! configuration (api/konfig/builtinpluginconsts/namereference.go, kustomize v5.5), restated as
//! data. Pod-spec references are written once against the pod spec and expanded per workload kind
//! with the kinds kustomize lists for each referenced kind.

/// A referenced kind and the fields (by referrer kind) that hold its name.
pub struct Referral {
    pub kind: &'static str,
    pub group: &'static str,
    /// (referrer group, referrer kind, path); paths of the form `…/subjects` and
    /// `…/clientConfig/service` point at objects holding `name` (and `namespace`).
    pub fields: &'static [(&'static str, &'static str, &'static str)],
    /// Pod-spec-relative paths, expanded over `pod_kinds`.
    pub pod_paths: &'static [&'static str],
    pub pod_kinds: &'static [&'static str],
}

/// Where each workload kind keeps its pod spec.
pub fn pod_spec_root(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("spec"),
        "PodTemplate" => Some("template/spec"),
        "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet" | "Job" | "ReplicationController" => {
            Some("spec/template/spec")
        }
        "CronJob" => Some("spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

const ALL_PODS: &[&str] =
    &["Pod", "PodTemplate", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob"];
const POD_CONTROLLERS: &[&str] =
    &["Pod", "StatefulSet", "Deployment", "ReplicationController", "CronJob", "Job", "DaemonSet"];
const HPA: (&str, &str, &str) = ("", "HorizontalPodAutoscaler", "spec/scaleTargetRef/name");

pub const REFERRALS: &[Referral] = &[
    Referral { kind: "Deployment", group: "", fields: &[HPA], pod_paths: &[], pod_kinds: &[] },
    Referral { kind: "ReplicationController", group: "", fields: &[HPA], pod_paths: &[], pod_kinds: &[] },
    Referral { kind: "ReplicaSet", group: "", fields: &[HPA], pod_paths: &[], pod_kinds: &[] },
    Referral { kind: "StatefulSet", group: "", fields: &[HPA], pod_paths: &[], pod_kinds: &[] },
    Referral {
        kind: "ConfigMap",
        group: "",
        fields: &[
            ("", "Node", "spec/configSource/configMap"),
            ("", "Role", "rules/resourceNames"),
            ("", "ClusterRole", "rules/resourceNames"),
            ("", "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap"),
        ],
        pod_paths: &[
            "volumes/configMap/name",
            "containers/env/valueFrom/configMapKeyRef/name",
            "initContainers/env/valueFrom/configMapKeyRef/name",
            "containers/envFrom/configMapRef/name",
            "initContainers/envFrom/configMapRef/name",
            "volumes/projected/sources/configMap/name",
        ],
        pod_kinds: ALL_PODS,
    },
    Referral {
        kind: "Secret",
        group: "",
        fields: &[
            ("", "Ingress", "spec/tls/secretName"),
            ("", "Ingress", "metadata/annotations/ingress.kubernetes.io\\/auth-secret"),
            ("", "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret"),
            ("", "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret"),
            ("", "ServiceAccount", "imagePullSecrets/name"),
            ("", "StorageClass", "parameters/secretName"),
            ("", "StorageClass", "parameters/adminSecretName"),
            ("", "StorageClass", "parameters/userSecretName"),
            ("", "StorageClass", "parameters/secretRef"),
            ("", "Role", "rules/resourceNames"),
            ("", "ClusterRole", "rules/resourceNames"),
            ("serving.knative.dev", "Service", "spec/template/spec/containers/env/valueFrom/secretKeyRef/name"),
            ("", "PersistentVolume", "spec/azureFile/secretName"),
        ],
        pod_paths: &[
            "volumes/secret/secretName",
            "containers/env/valueFrom/secretKeyRef/name",
            "initContainers/env/valueFrom/secretKeyRef/name",
            "containers/envFrom/secretRef/name",
            "initContainers/envFrom/secretRef/name",
            "imagePullSecrets/name",
            "volumes/projected/sources/secret/name",
        ],
        pod_kinds: ALL_PODS,
    },
    Referral {
        kind: "Service",
        group: "",
        fields: &[
            ("apps", "StatefulSet", "spec/serviceName"),
            ("", "Ingress", "spec/rules/http/paths/backend/serviceName"),
            ("", "Ingress", "spec/backend/serviceName"),
            ("", "Ingress", "spec/rules/http/paths/backend/service/name"),
            ("", "Ingress", "spec/defaultBackend/service/name"),
            ("apiregistration.k8s.io", "APIService", "spec/service/name"),
            ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "webhooks/clientConfig/service"),
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "webhooks/clientConfig/service"),
        ],
        pod_paths: &[],
        pod_kinds: &[],
    },
    Referral {
        kind: "Role",
        group: "rbac.authorization.k8s.io",
        fields: &[("rbac.authorization.k8s.io", "RoleBinding", "roleRef/name")],
        pod_paths: &[],
        pod_kinds: &[],
    },
    Referral {
        kind: "ClusterRole",
        group: "rbac.authorization.k8s.io",
        fields: &[
            ("rbac.authorization.k8s.io", "RoleBinding", "roleRef/name"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding", "roleRef/name"),
        ],
        pod_paths: &[],
        pod_kinds: &[],
    },
    Referral {
        kind: "ServiceAccount",
        group: "",
        fields: &[
            ("rbac.authorization.k8s.io", "RoleBinding", "subjects"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding", "subjects"),
        ],
        pod_paths: &["serviceAccountName"],
        pod_kinds: POD_CONTROLLERS,
    },
    Referral {
        kind: "PersistentVolumeClaim",
        group: "",
        fields: &[],
        pod_paths: &["volumes/persistentVolumeClaim/claimName"],
        pod_kinds: POD_CONTROLLERS,
    },
    Referral {
        kind: "PersistentVolume",
        group: "",
        fields: &[("", "PersistentVolumeClaim", "spec/volumeName"), ("", "ClusterRole", "rules/resourceNames")],
        pod_paths: &[],
        pod_kinds: &[],
    },
    Referral {
        kind: "StorageClass",
        group: "storage.k8s.io",
        fields: &[
            ("", "PersistentVolume", "spec/storageClassName"),
            ("", "PersistentVolumeClaim", "spec/storageClassName"),
            ("", "StatefulSet", "spec/volumeClaimTemplates/spec/storageClassName"),
        ],
        pod_paths: &[],
        pod_kinds: &[],
    },
    Referral {
        kind: "PriorityClass",
        group: "scheduling.k8s.io",
        fields: &[],
        pod_paths: &["priorityClassName"],
        pod_kinds: POD_CONTROLLERS,
    },
    // kustomize also lists IngressClass ← Ingress spec/ingressClassName, but under the group
    // "networking.k8s.io/v1", which never matches a resource, so ingress classes are in effect not
    // followed; leaving the entry out gives the same output.
];

/// A name reference in owned form: the built-in table expanded, plus user `configurations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefSpec {
    pub kind: String,
    pub group: String,
    pub fields: Vec<RefField>,
}

/// A field of `kind` objects (of `group`, when not empty) holding a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefField {
    pub group: String,
    pub kind: String,
    pub path: String,
}

impl RefSpec {
    /// The paths, in objects of `kind`/`group`, that name this referral.
    pub fn paths_for(&self, group: &str, kind: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|f| f.kind == kind && (f.group.is_empty() || f.group == group))
            .map(|f| f.path.as_str())
            .collect()
    }
}

/// The built-in table with pod-spec paths expanded per workload kind.
pub fn builtin() -> Vec<RefSpec> {
    REFERRALS
        .iter()
        .map(|r| {
            let mut fields: Vec<RefField> = r
                .fields
                .iter()
                .map(|(g, k, p)| RefField { group: (*g).into(), kind: (*k).into(), path: (*p).into() })
                .collect();
            for kind in r.pod_kinds {
                if let Some(root) = pod_spec_root(kind) {
                    fields.extend(r.pod_paths.iter().map(|p| RefField {
                        group: String::new(),
                        kind: (*kind).into(),
                        path: format!("{root}/{p}"),
                    }));
                }
            }
            RefSpec { kind: r.kind.into(), group: r.group.into(), fields }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_paths_expand_per_kind() {
        let table = builtin();
        let cm = table.iter().find(|r| r.kind == "ConfigMap").unwrap();
        assert!(
            cm.paths_for("batch", "CronJob").contains(&"spec/jobTemplate/spec/template/spec/volumes/configMap/name")
        );
        assert!(cm.paths_for("", "ReplicationController").is_empty());
        let secret = table.iter().find(|r| r.kind == "Secret").unwrap();
        assert_eq!(secret.paths_for("", "Service"), Vec::<&str>::new());
        assert_eq!(secret.paths_for("serving.knative.dev", "Service").len(), 1);
    }
}
