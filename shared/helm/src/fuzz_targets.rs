//! The entry points of the cargo-fuzz targets (shared/helm/fuzz), here so that the
//! `tests/fuzz_corpus.rs` replay of the committed corpus runs exactly the same code.
//! Both must return (an error is fine) for any input: never panic, hang or exhaust memory.

use std::sync::OnceLock;

use crate::template::Template;

/// A template set with sprig's and Helm's functions, so that every function name parses.
fn base() -> &'static Template {
    static BASE: OnceLock<Template> = OnceLock::new();
    BASE.get_or_init(|| Template::new("fuzz").funcs(crate::sprig::sprig_funcs()).funcs(crate::helm_funcs::helm_funcs()))
}

/// Parses `data` (as UTF-8, lossily) as a template.
pub fn template_parser(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut t = base().clone();
    if t.parse(&text).is_ok() {
        // Listing the definitions walks what the parser built.
        let _ = t.template_names();
    }
}

/// Loads `data` as a packaged chart (`.tgz`) and, when it loads, coalesces its values
/// and processes its dependencies as rendering would.
pub fn chart_loader(data: &[u8]) {
    if let Ok(chart) = crate::chart::load_archive(data) {
        let none = crate::template::Value::Nil;
        if let Ok(processed) = crate::render::values::process_dependencies(&chart, &none) {
            let values = crate::render::values::coalesce(&processed, &none);
            let _ = crate::render::schema::validate(&processed, &values);
        }
    }
}
