//! The built-in transformers a kustomization configures, run in kustomize's order (see
//! `build::apply_transformers`).

pub mod annotations;
pub mod images;
pub mod labels;
pub mod namespace;
pub mod prefix;
pub mod replicas;
