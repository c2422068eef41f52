//! The filesystem a Flux build reads from: the artifact on disk, with the files Flux would write
//! (a generated or rewritten kustomization) laid over it in memory, so the artifact is only read.
//!
//! While the build reads YAML files it also records which scalars holding a `${` were written
//! quoted or as a block: postBuild substitution keeps those strings, and re-types the plain ones
//! (see `substitute`), as Flux's text-level substitution does.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::Path;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

use crate::error::BuildError;
use crate::fs::{DiskFs, Fs, MemFs};

pub struct LayeredFs {
    pub disk: DiskFs,
    pub extra: MemFs,
    non_plain: RefCell<HashSet<String>>,
}

impl LayeredFs {
    pub fn new(disk: DiskFs, extra: MemFs) -> Self {
        LayeredFs { disk, extra, non_plain: RefCell::new(HashSet::new()) }
    }

    /// The texts of the quoted and block scalars with a `${` seen in the files read so far.
    pub fn non_plain_scalars(&self) -> HashSet<String> {
        self.non_plain.borrow().clone()
    }

    fn record(&self, path: &Path, content: &[u8]) {
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml") || path.ends_with("Kustomization");
        if !is_yaml {
            return;
        }
        let Ok(text) = std::str::from_utf8(content) else { return };
        if text.contains("${") {
            self.non_plain.borrow_mut().extend(non_plain_scalars(text));
        }
    }
}

impl Fs for LayeredFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, BuildError> {
        if let Ok(content) = self.extra.read(path) {
            return Ok(content);
        }
        let content = self.disk.read(path)?;
        self.record(path, &content);
        Ok(content)
    }

    fn list_dir(&self, path: &Path) -> Result<Vec<String>, BuildError> {
        let (on_disk, in_memory) = (self.disk.is_dir(path), self.extra.is_dir(path));
        if !in_memory {
            return self.disk.list_dir(path);
        }
        let mut names = self.extra.list_dir(path)?;
        if on_disk {
            names.extend(self.disk.list_dir(path)?);
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.extra.is_dir(path) || self.disk.is_dir(path)
    }

    fn exists(&self, path: &Path) -> bool {
        self.extra.exists(path) || self.disk.exists(path)
    }
}

/// Scalars of `text` that hold `${` and are not plain. A file that does not parse records what
/// was read before the error; the build reports the error itself.
pub fn non_plain_scalars(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for event in Parser::new_from_str(text) {
        let Ok((event, _)) = event else { break };
        if let Event::Scalar(value, style, _, _) = event
            && style != ScalarStyle::Plain
            && value.contains("${")
        {
            out.push(value.into_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_quoted_and_block_scalars_only() {
        let text = "a: ${plain}\nb: \"${double}\"\nc: '${single}'\nd: |\n  x ${block}\ne: \"no vars\"\n";
        assert_eq!(non_plain_scalars(text), ["${double}", "${single}", "x ${block}\n"]);
    }
}
