//! `status.history`: one snapshot per distinct applied set (by digest), newest first, at most
//! five, as Flux 2.7 keeps it.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;
use weir_api::kustomize::Snapshot;

/// How many snapshots are kept.
pub const MAX_SNAPSHOTS: usize = 5;

/// `sha256:<hex>` of the set, independent of the order the build gave the objects in.
pub fn digest(objects: &[Value]) -> String {
    use sha2::{Digest, Sha256};
    let mut lines: Vec<String> = objects.iter().map(Value::to_string).collect();
    lines.sort();
    let mut hasher = Sha256::new();
    for line in lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    let hex: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Go's duration text for the snapshot, e.g. `2.5s`, `1m3.2s`.
fn go_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        return format!("{}s", trim(secs));
    }
    let minutes = (secs / 60.0).floor();
    format!("{}m{}s", minutes, trim(secs - minutes * 60.0))
}

fn trim(secs: f64) -> String {
    let text = format!("{secs:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Records one reconciliation of the set `digest` that ended with `reason`, from `revision` (and
/// the artifact's origin revision, when it has one).
pub fn record(
    history: &mut Vec<Snapshot>,
    digest: &str,
    now: Timestamp,
    took: Duration,
    reason: &str,
    revision: &str,
    origin_revision: Option<&str>,
) {
    let mut metadata = BTreeMap::from([("revision".to_string(), revision.to_string())]);
    if let Some(origin) = origin_revision {
        metadata.insert("originRevision".to_string(), origin.to_string());
    }
    match history.iter_mut().find(|s| s.digest == digest) {
        Some(snapshot) => {
            snapshot.last_reconciled = Time(now);
            snapshot.last_reconciled_duration = go_duration(took);
            snapshot.last_reconciled_status = reason.to_string();
            snapshot.total_reconciliations += 1;
            snapshot.metadata = Some(metadata);
        }
        None => history.push(Snapshot {
            digest: digest.to_string(),
            first_reconciled: Time(now),
            last_reconciled: Time(now),
            last_reconciled_duration: go_duration(took),
            last_reconciled_status: reason.to_string(),
            metadata: Some(metadata),
            total_reconciliations: 1,
        }),
    }
    history.sort_by_key(|s| std::cmp::Reverse(s.last_reconciled.0));
    history.truncate(MAX_SNAPSHOTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn snapshots_per_digest_newest_first_at_most_five() {
        let mut history = Vec::new();
        record(&mut history, "sha256:a", at(10), Duration::from_millis(2500), "ReconciliationSucceeded", "r1", None);
        record(&mut history, "sha256:a", at(20), Duration::from_secs(63), "ReconciliationSucceeded", "r1", None);
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].total_reconciliations, 2);
        assert_eq!(history[0].first_reconciled.0, at(10));
        assert_eq!(history[0].last_reconciled.0, at(20));
        assert_eq!(history[0].last_reconciled_duration, "1m3s");
        for (i, d) in ["b", "c", "d", "e", "f"].iter().enumerate() {
            record(
                &mut history,
                &format!("sha256:{d}"),
                at(30 + i as i64),
                Duration::ZERO,
                "HealthCheckFailed",
                "r2",
                Some("main@sha1:o"),
            );
        }
        let digests: Vec<&str> = history.iter().map(|s| s.digest.as_str()).collect();
        assert_eq!(digests, ["sha256:f", "sha256:e", "sha256:d", "sha256:c", "sha256:b"]);
        let metadata = history[0].metadata.clone().unwrap();
        assert_eq!(metadata["revision"], "r2");
        assert_eq!(metadata["originRevision"], "main@sha1:o");
    }

    #[test]
    fn digests_ignore_order_and_durations_read_like_go() {
        let a = serde_json::json!({"kind": "A"});
        let b = serde_json::json!({"kind": "B"});
        assert_eq!(digest(&[a.clone(), b.clone()]), digest(&[b, a.clone()]));
        assert_ne!(digest(std::slice::from_ref(&a)), digest(&[a.clone(), a]));
        assert_eq!(go_duration(Duration::from_millis(2500)), "2.5s");
        assert_eq!(go_duration(Duration::from_secs(2)), "2s");
    }
}
