//! Mean time to production: one row of the results, whatever the source kind.

use std::time::Duration;

use crate::apiserver_requests::RequestMix;
use crate::floor::Floor;

/// The controllers an MTTP run starts, in the order of `Mttp::peak_rss`.
pub const CONTROLLERS: [&str; 2] = ["source-controller", "kustomize-controller"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One monorepo, one GitRepository, N Kustomizations on N paths.
    Git,
    /// N artifacts in an OCI registry, N OCIRepositories, N Kustomizations: Flux's benchmark.
    Oci,
}

impl Shape {
    pub fn label(self) -> &'static str {
        match self {
            Shape::Git => "Git monorepo",
            Shape::Oci => "OCI, one per app",
        }
    }
}

/// The figures of one run with N apps.
#[derive(Debug, Clone)]
pub struct Mttp {
    pub shape: Shape,
    pub n: usize,
    /// From creating the sources and Kustomizations until every Kustomization is Ready.
    pub weir: Duration,
    /// The same objects applied by a plain client, in the same run.
    pub floor: Floor,
    /// Peak RSS of the source- and kustomize-controller during the run.
    pub peak_rss: [u64; 2],
    /// What the API server was asked during the run, by anyone (kube-controller-manager too).
    pub requests: RequestMix,
}

impl Mttp {
    pub fn ratio(&self) -> f64 {
        self.weir.as_secs_f64() / self.floor.applied.as_secs_f64().max(0.001)
    }

    /// Weir's time over the floor's until every Deployment was Available.
    pub fn settled_ratio(&self) -> f64 {
        self.weir.as_secs_f64() / self.floor.settled.as_secs_f64().max(0.001)
    }
}
