//! A native kustomize renderer (kustomize v5 build semantics), reading files through a small
//! filesystem trait so that it can render from an extracted artifact, a directory or memory.

pub mod patch;
