//! `commonAnnotations`: on the object and its pod templates. Field specs from kustomize's built-in
//! configuration (api/konfig/builtinpluginconsts/commonannotations.go, kustomize v5.5), as data.

use crate::fieldspec::{FieldSpec, fs};
use crate::resource::Resource;

pub const ANNOTATIONS: &[FieldSpec<'static>] = &[
    fs("", "", "metadata/annotations", true),
    fs("", "ReplicationController", "spec/template/metadata/annotations", true),
    fs("", "Deployment", "spec/template/metadata/annotations", true),
    fs("", "ReplicaSet", "spec/template/metadata/annotations", true),
    fs("", "DaemonSet", "spec/template/metadata/annotations", true),
    fs("", "StatefulSet", "spec/template/metadata/annotations", true),
    fs("batch", "Job", "spec/template/metadata/annotations", true),
    fs("batch", "CronJob", "spec/jobTemplate/metadata/annotations", true),
    fs("batch", "CronJob", "spec/jobTemplate/spec/template/metadata/annotations", true),
];

/// `commonAnnotations`; `extra` are the field specs of user `configurations`.
pub fn apply(resources: &mut [Resource], annotations: &[(String, String)], extra: &[FieldSpec<'_>]) {
    let mut specs = ANNOTATIONS.to_vec();
    specs.extend_from_slice(extra);
    super::labels::apply_specs(resources, annotations, &specs);
}
