//! In-code validation of specs: what the CRD's patterns, enums and CEL rules check on a server
//! that can, checked again in the controller for servers that cannot (CEL needs 1.25+).

use std::fmt;

/// One problem with a spec, at a JSON path such as `spec.ref.semver`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// All problems found in one object, so a person can fix them in one go.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

/// Checks an object's spec; `Err` lists every problem found.
pub trait Validate {
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// Collects validation problems while walking a spec.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<ValidationError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem at `path`.
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ValidationError { path: path.into(), message: message.into() });
    }

    /// Records `message` at `path` unless `ok`.
    pub fn check(&mut self, ok: bool, path: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.error(path, message);
        }
    }

    /// A Flux duration field (`30s`, `1m30s`).
    pub fn duration(&mut self, path: &str, value: Option<&str>) {
        if let Some(v) = value
            && let Err(e) = crate::duration::parse_duration(v)
        {
            self.error(path, e.to_string());
        }
    }

    /// A Flux duration field whose CRD pattern leaves out hours, `^([0-9]+(\.[0-9]+)?(ms|s|m))+$`
    /// (the `timeout` of sources).
    pub fn duration_without_hours(&mut self, path: &str, value: Option<&str>) {
        if let Some(v) = value {
            match crate::duration::parse_duration(v) {
                Err(e) => self.error(path, e.to_string()),
                Ok(_) if v.contains('h') => self.error(
                    path,
                    format!("invalid duration {v:?}: hours are not accepted here, use minutes (e.g. 90m)"),
                ),
                Ok(_) => {}
            }
        }
    }

    /// A string field with a regular-expression pattern from the CRD.
    pub fn pattern(&mut self, path: &str, value: Option<&str>, pattern: &str) {
        if let Some(v) = value {
            match regex::Regex::new(pattern) {
                Ok(re) if re.is_match(v) => {}
                Ok(_) => self.error(path, format!("{v:?} does not match the pattern {pattern}")),
                Err(e) => self.error(path, format!("internal error: bad pattern {pattern}: {e}")),
            }
        }
    }

    /// A string field limited in length.
    pub fn length(&mut self, path: &str, value: Option<&str>, min: usize, max: usize) {
        if let Some(v) = value {
            let n = v.chars().count();
            if n < min {
                self.error(path, format!("must be at least {min} characters long"));
            } else if n > max {
                self.error(path, format!("must be at most {max} characters long, got {n}"));
            }
        }
    }

    /// A string field that must be one of a set of values.
    pub fn one_of(&mut self, path: &str, value: Option<&str>, allowed: &[&str]) {
        if let Some(v) = value
            && !allowed.contains(&v)
        {
            self.error(path, format!("unsupported value {v:?}, must be one of {}", allowed.join(", ")));
        }
    }

    /// A required string field that must not be empty.
    pub fn required(&mut self, path: &str, value: &str) {
        if value.is_empty() {
            self.error(path, "is required");
        }
    }

    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() { Ok(()) } else { Err(ValidationErrors(self.errors)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_problem() {
        let mut v = Validator::new();
        v.duration("spec.interval", Some("5d"));
        v.pattern("spec.url", Some("ftp://x"), "^(http|https)://.*$");
        v.one_of("spec.provider", Some("ibm"), &["generic", "aws"]);
        v.length("spec.name", Some(""), 1, 10);
        v.duration("spec.timeout", Some("1m"));
        let errs = v.finish().unwrap_err();
        assert_eq!(errs.0.len(), 4, "{errs}");
        let text = errs.to_string();
        assert!(text.starts_with("spec.interval: invalid duration \"5d\""), "{text}");
        assert!(text.contains("spec.provider: unsupported value \"ibm\", must be one of generic, aws"), "{text}");
    }
}
