//! Robustness: every sprig function called with random arguments (literals of every kind,
//! extreme numbers, odd strings, nil, lists, dicts) must return a value or an error, and
//! never panic inside (a panic is caught by the engine, so a panic hook counts them).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use weir_helm::sprig::sprig_funcs;
use weir_helm::template::{Template, Value};

static PANICS: AtomicUsize = AtomicUsize::new(0);

const ARGS: &[&str] = &[
    "0",
    "1",
    "-1",
    "3",
    "64",
    "-64",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
    "-2.5",
    "1e300",
    "\"\"",
    "\"abc\"",
    "\"é√x\"",
    "\"%\"",
    "\"[\"",
    "\"(\"",
    "\"$1\"",
    "\"a,b,,c\"",
    "\"2006-01-02\"",
    "\"1h\"",
    "\"^1.2\"",
    "\"1.2.3\"",
    "\"YQ==\"",
    "\" \\n\\t \"",
    "\"0x1F\"",
    "\"-9\"",
    "\"http://u@h:1/p?q#f\"",
    "nil",
    "true",
    "false",
    ".l",
    ".m",
    ".f",
    ".e",
    ".nul",
    ".missing",
    "(list)",
    "(dict)",
    "(list 1 \"a\" nil)",
    ".big",
    ".nan",
];

#[test]
fn sprig_functions_never_panic() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let hook_seen = seen.clone();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut s) = hook_seen.lock() {
            s.push(info.to_string());
        }
    }));
    let funcs = sprig_funcs();
    let mut names: Vec<&String> = funcs.keys().collect();
    names.sort();
    let data = Value::from_json(&serde_json::json!({
        "l": [1, "x", null, {"a": 1}], "m": {"a": {"b": 1}, "c": [1]}, "f": 2.5, "e": "", "nul": null,
        "big": 1e19, "nan": 1e308
    }));
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut calls = 0;
    for name in names {
        for _ in 0..80 {
            let n = (next() % 5) as usize;
            let args: Vec<&str> = (0..n).map(|_| ARGS[(next() % ARGS.len() as u64) as usize]).collect();
            let text = format!("{{{{ {name} {} }}}}", args.join(" "));
            let mut t = Template::new("t").funcs(funcs.clone());
            if t.parse(&text).is_ok() {
                let before = PANICS.load(Ordering::SeqCst);
                let _ = t.execute(&data);
                if PANICS.load(Ordering::SeqCst) != before {
                    seen.lock().unwrap().push(format!("  in {text}"));
                }
                calls += 1;
            }
        }
    }
    let _ = std::panic::take_hook();
    let seen = seen.lock().unwrap();
    eprintln!("{calls} calls");
    assert!(seen.is_empty(), "panics:\n{}", seen.join("\n"));
}
