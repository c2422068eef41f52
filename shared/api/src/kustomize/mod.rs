//! `kustomize.toolkit.fluxcd.io/v1`: what to apply from a source, and how.

pub mod kustomization;

pub use kustomization::{
    BuildMetadataOption, CrossNamespaceSourceReference, Decryption, DecryptionProvider, DeletionPolicy, Kustomization,
    KustomizationSpec, KustomizationStatus, PostBuild, Snapshot, SourceKind, SubstituteKind, SubstituteReference,
    SubstituteStrategy,
};
