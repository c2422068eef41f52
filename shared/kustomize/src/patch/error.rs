//! Errors raised while parsing or applying a patch.

use thiserror::Error;

/// What went wrong while parsing or applying a patch. Every message names the place in the
/// patch or the resource so that a person can find and fix it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatchError {
    /// The patch text is not valid YAML or JSON.
    #[error("patch is not valid YAML or JSON: {0}")]
    Parse(String),

    /// The patch text holds no document at all.
    #[error("patch is empty: expected a strategic merge patch (a mapping) or a JSON 6902 patch (a list of operations)")]
    Empty,

    /// The patch is neither a mapping (strategic merge) nor a list of operations (JSON 6902).
    #[error("{0}")]
    Invalid(String),

    /// A strategic merge patch puts a value of one shape where the resource has another.
    #[error("strategic merge patch: field `{path}` is {found} in the patch but {expected} in the resource")]
    KindMismatch {
        /// Dotted path of the field.
        path: String,
        /// The shape the resource has there.
        expected: &'static str,
        /// The shape the patch has there.
        found: &'static str,
    },

    /// A `$patch` directive with a value other than `merge`, `replace` or `delete`.
    #[error("strategic merge patch: unknown `$patch: {value}` at `{path}` (expected merge, replace or delete)")]
    UnknownDirective {
        /// Dotted path of the mapping or list carrying the directive.
        path: String,
        /// The directive's value.
        value: String,
    },

    /// A JSON 6902 operation is malformed (missing `op`, `path`, `value`, or `from`).
    #[error("JSON 6902 patch, operation {index}: {reason}")]
    InvalidOperation {
        /// Zero-based position of the operation in the patch.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A JSON 6902 operation could not be applied to the resource.
    #[error("JSON 6902 patch, operation {index} (`{op}` at `{path}`): {reason}")]
    OperationFailed {
        /// Zero-based position of the operation in the patch.
        index: usize,
        /// The operation name (add, remove, replace, move, copy, test).
        op: String,
        /// The JSON pointer the operation targets.
        path: String,
        /// Why it failed.
        reason: String,
    },
}
