//! Helm chart rendering in Rust: a Go `text/template` engine, sprig and Helm's built-in
//! functions, chart loading and rendering as `helm template` does.

pub mod chart;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod helm_funcs;
pub mod render;
pub mod sprig;
pub mod strvals;
pub mod template;
