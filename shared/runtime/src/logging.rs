//! Logging to stderr as Flux does: with `--log-encoding=json` one JSON object per line shaped like
//! zap's production encoder (`level`, `ts`, `logger`, `msg`, then the fields of the event and of
//! its spans); with `console`, tracing's human-readable format.

use std::fmt;
use std::io::IsTerminal;

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::flags::{LogEncoding, LogLevel};

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `--log-level` with tracing's
/// filter syntax (e.g. `info,kube=debug`). Calling it twice keeps the first subscriber.
pub fn init(level: LogLevel, encoding: LogEncoding) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives(level)));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _already_set = match encoding {
        LogEncoding::Json => builder.fmt_fields(JsonFields::new()).event_format(ZapJson).try_init(),
        LogEncoding::Console => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

/// The filter for a level. At debug and trace the HTTP and TLS stack stays at info: its debug
/// output is about connections, not about the controller.
fn directives(level: LogLevel) -> String {
    let level = level.as_tracing().as_str().to_ascii_lowercase();
    match level.as_str() {
        "debug" | "trace" => format!("{level},hyper=info,hyper_util=info,h2=info,tower=info,rustls=info"),
        _ => level,
    }
}

/// An error with its sources, `outer: inner: root`, so that "client error (Connect)" comes with
/// its "Connection refused". Sources already in their parent's message are not repeated.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(err) = source {
        let next = err.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = err.source();
    }
    text
}

/// zap-style JSON lines.
struct ZapJson;

impl<S> FormatEvent<S, JsonFields> for ZapJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        // Then the fields of the spans, innermost first; on a name clash the first one wins.
        let mut span_fields = Vec::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope {
                if let Some(formatted) = span.extensions().get::<FormattedFields<JsonFields>>()
                    && let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<Value>(formatted.as_str())
                {
                    span_fields.extend(map);
                }
            }
        }
        let logger = fields.log_target.take().unwrap_or_else(|| meta.target().to_string());
        let head = [
            ("level", Value::from(meta.level().as_str().to_ascii_lowercase())),
            ("ts", Value::from(format!("{:.3}", Timestamp::now()))),
            ("logger", Value::from(logger)),
            ("msg", Value::from(fields.message.take().unwrap_or_default())),
        ];
        let mut seen = std::collections::HashSet::new();
        let mut first = true;
        let head = head.into_iter().map(|(k, v)| (k.to_string(), v));
        writer.write_char('{')?;
        for (key, value) in head.chain(fields.values).chain(span_fields) {
            if !seen.insert(key.clone()) {
                continue;
            }
            if !first {
                writer.write_char(',')?;
            }
            first = false;
            let key = serde_json::to_string(&key).map_err(|_| fmt::Error)?;
            let value = serde_json::to_string(&value).map_err(|_| fmt::Error)?;
            write!(writer, "{key}:{value}")?;
        }
        writer.write_str("}\n")
    }
}

/// An event's fields as JSON values, `message` and the `log` crate's metadata set apart.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    log_target: Option<String>,
    values: Vec<(String, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            "message" => self.message = Some(value.as_str().map_or_else(|| value.to_string(), str::to_string)),
            "log.target" => self.log_target = value.as_str().map(str::to_string),
            name if name.starts_with("log.") => {}
            name => self.values.push((name.to_string(), value)),
        }
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(chain(value)));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_look_like_zap() {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .fmt_fields(JsonFields::new())
            .event_format(ZapJson)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("reconcile", name = "podinfo", namespace = "flux-system");
            let _entered = span.enter();
            let err = std::io::Error::other("connection refused");
            let error = &err as &dyn std::error::Error;
            tracing::info!(target: "setup", revision = "main@sha1:abc", attempt = 3, error, "stored \"artifact\"");
        });
        let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(line["level"], "info");
        assert_eq!(line["logger"], "setup");
        assert_eq!(line["msg"], "stored \"artifact\"");
        assert_eq!(line["revision"], "main@sha1:abc");
        assert_eq!(line["attempt"], 3);
        assert_eq!(line["error"], "connection refused");
        assert_eq!(line["name"], "podinfo");
        assert_eq!(line["namespace"], "flux-system");
        let ts = line["ts"].as_str().unwrap();
        assert!(ts.parse::<Timestamp>().is_ok() && ts.ends_with('Z'), "{ts}");
        assert!(out.starts_with(r#"{"level":"info","ts":"#), "{out}");
    }

    #[test]
    fn filter_directives() {
        assert_eq!(directives(LogLevel::Info), "info");
        assert_eq!(directives(LogLevel::Error), "error");
        assert!(directives(LogLevel::Debug).starts_with("debug,hyper=info"));
    }
}
