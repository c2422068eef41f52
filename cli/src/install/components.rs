//! The toolkit's components: what each controller is called, what it serves and what it may touch.

/// A port a controller listens on.
pub struct Port {
    pub name: &'static str,
    pub container_port: i32,
}

/// A Service in front of a controller.
pub struct ServiceSpec {
    pub name: &'static str,
    /// The container port (by name) the Service's port 80 forwards to.
    pub target_port: &'static str,
}

/// One RBAC rule: API groups, resources, verbs.
pub struct Rule {
    pub groups: &'static [&'static str],
    pub resources: &'static [&'static str],
    pub verbs: &'static [&'static str],
}

pub struct Component {
    pub name: &'static str,
    pub args: &'static [&'static str],
    pub ports: &'static [Port],
    pub services: &'static [ServiceSpec],
    /// Rules of the component's own ClusterRole.
    pub rules: &'static [Rule],
    /// Whether the component applies arbitrary objects and so is bound to cluster-admin, as Flux's
    /// kustomize-controller and helm-controller are (their ServiceAccount impersonation narrows it).
    pub cluster_admin: bool,
    /// Whether the component writes files that need a writable volume.
    pub data_volume: bool,
}

const ALL: &[&str] = &["*"];
const READ: &[&str] = &["get", "list", "watch"];
const WRITE_STATUS: &[&str] = &["get", "patch", "update"];
const EVENTS: Rule = Rule { groups: &["", "events.k8s.io"], resources: &["events"], verbs: &["create", "patch"] };
const LEASES: Rule = Rule { groups: &["coordination.k8s.io"], resources: &["leases"], verbs: ALL };
const CONFIG_READ: Rule = Rule { groups: &[""], resources: &["secrets", "configmaps"], verbs: READ };

const SOURCE_KINDS: &[&str] =
    &["gitrepositories", "ocirepositories", "helmrepositories", "helmcharts", "buckets", "externalartifacts"];
const SOURCE_STATUS: &[&str] = &[
    "gitrepositories/status",
    "ocirepositories/status",
    "helmrepositories/status",
    "helmcharts/status",
    "buckets/status",
    "externalartifacts/status",
];
const SOURCE_FINALIZERS: &[&str] = &[
    "gitrepositories/finalizers",
    "ocirepositories/finalizers",
    "helmrepositories/finalizers",
    "helmcharts/finalizers",
    "buckets/finalizers",
];

pub const COMPONENTS: &[Component] = &[
    Component {
        name: "source-controller",
        args: &["--storage-path=/data", "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."],
        ports: &[
            Port { name: "http", container_port: 9090 },
            Port { name: "http-prom", container_port: 8080 },
            Port { name: "healthz", container_port: 9440 },
        ],
        services: &[ServiceSpec { name: "source-controller", target_port: "http" }],
        rules: &[
            Rule { groups: &["source.toolkit.fluxcd.io"], resources: SOURCE_KINDS, verbs: ALL },
            Rule { groups: &["source.toolkit.fluxcd.io"], resources: SOURCE_STATUS, verbs: WRITE_STATUS },
            Rule { groups: &["source.toolkit.fluxcd.io"], resources: SOURCE_FINALIZERS, verbs: ALL },
            CONFIG_READ,
            Rule { groups: &[""], resources: &["serviceaccounts"], verbs: READ },
            Rule { groups: &[""], resources: &["serviceaccounts/token"], verbs: &["create"] },
            EVENTS,
            LEASES,
        ],
        cluster_admin: false,
        data_volume: true,
    },
    Component {
        name: "kustomize-controller",
        args: &[],
        ports: &[Port { name: "http-prom", container_port: 8080 }, Port { name: "healthz", container_port: 9440 }],
        services: &[],
        rules: &[
            Rule { groups: &["kustomize.toolkit.fluxcd.io"], resources: &["kustomizations"], verbs: ALL },
            Rule {
                groups: &["kustomize.toolkit.fluxcd.io"],
                resources: &["kustomizations/status"],
                verbs: WRITE_STATUS,
            },
            Rule { groups: &["kustomize.toolkit.fluxcd.io"], resources: &["kustomizations/finalizers"], verbs: ALL },
            Rule { groups: &["source.toolkit.fluxcd.io"], resources: SOURCE_KINDS, verbs: READ },
            CONFIG_READ,
            EVENTS,
            LEASES,
        ],
        cluster_admin: true,
        data_volume: true,
    },
    Component {
        name: "helm-controller",
        args: &[],
        ports: &[Port { name: "http-prom", container_port: 8080 }, Port { name: "healthz", container_port: 9440 }],
        services: &[],
        rules: &[
            Rule { groups: &["helm.toolkit.fluxcd.io"], resources: &["helmreleases"], verbs: ALL },
            Rule { groups: &["helm.toolkit.fluxcd.io"], resources: &["helmreleases/status"], verbs: WRITE_STATUS },
            Rule { groups: &["helm.toolkit.fluxcd.io"], resources: &["helmreleases/finalizers"], verbs: ALL },
            Rule { groups: &["source.toolkit.fluxcd.io"], resources: SOURCE_KINDS, verbs: READ },
            // helm-controller creates the HelmChart of a HelmRelease that names a chart.
            Rule { groups: &["source.toolkit.fluxcd.io"], resources: &["helmcharts"], verbs: ALL },
            CONFIG_READ,
            EVENTS,
            LEASES,
        ],
        cluster_admin: true,
        data_volume: true,
    },
    Component {
        name: "notification-controller",
        args: &[],
        ports: &[
            Port { name: "http", container_port: 9090 },
            Port { name: "http-webhook", container_port: 9292 },
            Port { name: "http-prom", container_port: 8080 },
            Port { name: "healthz", container_port: 9440 },
        ],
        services: &[
            ServiceSpec { name: "notification-controller", target_port: "http" },
            ServiceSpec { name: "webhook-receiver", target_port: "http-webhook" },
        ],
        rules: &[
            Rule {
                groups: &["notification.toolkit.fluxcd.io"],
                resources: &["providers", "alerts", "receivers"],
                verbs: ALL,
            },
            Rule {
                groups: &["notification.toolkit.fluxcd.io"],
                resources: &["providers/status", "alerts/status", "receivers/status"],
                verbs: WRITE_STATUS,
            },
            Rule {
                groups: &["notification.toolkit.fluxcd.io"],
                resources: &["providers/finalizers", "alerts/finalizers", "receivers/finalizers"],
                verbs: ALL,
            },
            // Receivers annotate the objects they trigger with reconcile.fluxcd.io/requestedAt.
            Rule {
                groups: &[
                    "source.toolkit.fluxcd.io",
                    "kustomize.toolkit.fluxcd.io",
                    "helm.toolkit.fluxcd.io",
                    "image.toolkit.fluxcd.io",
                ],
                resources: ALL,
                verbs: &["get", "list", "watch", "patch"],
            },
            CONFIG_READ,
            EVENTS,
            LEASES,
        ],
        cluster_admin: false,
        data_volume: false,
    },
];

/// Names of all components, for `--components`.
pub fn names() -> Vec<&'static str> {
    COMPONENTS.iter().map(|c| c.name).collect()
}
