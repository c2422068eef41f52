//! Helm chart rendering in Rust: a Go `text/template` engine, sprig and Helm's built-in
//! functions, chart loading and rendering as `helm template` does.

pub mod chart;
pub mod helm_funcs;
pub mod render;
pub mod sprig;
pub mod template;
