//! Rust types for Flux's public API (the `*.toolkit.fluxcd.io` groups), so that Weir's controllers
//! read and write the same objects Flux's do. Data only: no IO, no client.
//!
//! Every kind implements [`Validate`], which checks in code what the CRD's CEL rules and
//! patterns check on the server, because servers older than 1.25 drop CEL rules.

// kube's `printcolumn(name = .., type_ = "string", ..)` repeats `type_ = "string"` from one column
// to the next, which this lint mistakes for a duplicated attribute.
#![allow(clippy::duplicated_attributes)]

pub mod annotations;
pub mod conditions;
pub mod crds;
pub mod duration;
pub mod dynamic;
pub mod event;
pub mod meta;
pub mod schema;
pub mod validation;

pub mod helm;
pub mod kustomize;
pub mod notification;
pub mod source;

pub use validation::{Validate, ValidationError, ValidationErrors};
