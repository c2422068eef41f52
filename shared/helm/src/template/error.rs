//! Errors worded as Go's text/template words them, so Helm users recognise them.

/// A template error. `Display` gives Go's full message, e.g.
/// `template: t:1:5: executing "t" at <.a.b>: nil pointer evaluating interface {}.b`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The template text does not parse.
    #[error("{0}")]
    Parse(String),
    /// Executing the template failed.
    #[error("{0}")]
    Exec(String),
    /// No template by that name (`ExecuteTemplate` on an unknown name).
    #[error("template: no template {name:?} associated with template {parent:?}")]
    NoTemplate { name: String, parent: String },
}

/// What a function returns when it fails.
#[derive(Debug, Clone, PartialEq)]
pub enum FuncError {
    /// Reported as `error calling NAME: MESSAGE`, as Go reports a function's error result.
    Call(String),
    /// Reported as the message alone, as Go reports argument-checking failures
    /// (`wrong type for value; expected string; got int`) and errors raised by nested
    /// template execution (Helm's `include`, `tpl`).
    Exec(String),
    /// A complete error from a nested execution, passed through unchanged.
    Template(Error),
}

impl FuncError {
    pub fn call(msg: impl Into<String>) -> Self {
        FuncError::Call(msg.into())
    }
}

impl From<Error> for FuncError {
    fn from(e: Error) -> Self {
        FuncError::Template(e)
    }
}
