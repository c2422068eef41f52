//! Kubernetes Events (`events.k8s.io/v1`) about reconciled objects. A repeat of the same event
//! (same object, type, reason, action and note) within [`SERIES_WINDOW`] is folded into the first
//! Event's series, as client-go folds repeats, instead of adding another Event.
//!
//! The memory of past events is a 64-bit digest of each event's identity and the name of the
//! Event it made, a few dozen bytes per series. kube's own `Recorder` keeps each whole Event
//! (note included) under a key that leaves the note out: at a thousand objects it held megabytes,
//! scanned them all on every publish, and folded events whose notes differed into the first one,
//! whose note then went on showing the old revision.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};

/// How long a repeat still joins the series of the first event (kube's and client-go's figure).
const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);
/// How many series are remembered at most; past it the oldest is forgotten (client-go's LRU size).
const MAX_SERIES: usize = 4096;
/// How often the expired series are swept out.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// One event to publish.
#[derive(Debug, Clone, Copy)]
pub struct KubeEvent<'a> {
    /// `Normal` or `Warning`.
    pub type_: &'a str,
    pub reason: &'a str,
    pub action: &'a str,
    pub note: &'a str,
}

/// An Event already in the API server, and how often it has happened.
struct Series {
    name: Box<str>,
    count: i32,
    last: Instant,
}

struct Remembered {
    series: HashMap<u64, Series>,
    swept: Instant,
}

/// Publishes Events for one controller; share one per process.
pub struct KubeEvents {
    client: kube::Client,
    controller: String,
    instance: String,
    digests: RandomState,
    remembered: Mutex<Remembered>,
}

impl KubeEvents {
    /// `instance` defaults to the controller's name, as kube's recorder does.
    pub fn new(client: kube::Client, controller: &str, instance: Option<&str>) -> Self {
        KubeEvents {
            client,
            controller: controller.to_string(),
            instance: instance.unwrap_or(controller).to_string(),
            digests: RandomState::new(),
            remembered: Mutex::new(Remembered { series: HashMap::new(), swept: Instant::now() }),
        }
    }

    /// Creates the Event, or counts a repeat on the Event of its series. Events go into the
    /// object's namespace (`default` for cluster-scoped objects).
    pub async fn publish(&self, event: KubeEvent<'_>, regarding: &ObjectReference) -> Result<(), kube::Error> {
        let identity = self.identity(&event, regarding);
        let api: Api<Event> = Api::namespaced(self.client.clone(), regarding.namespace.as_deref().unwrap_or("default"));
        if let Some((name, count)) = self.repeat(identity) {
            let series = serde_json::json!({
                "series": { "count": count, "lastObservedTime": MicroTime(Timestamp::now()) }
            });
            match api.patch(&name, &PatchParams::default(), &Patch::Merge(&series)).await {
                Ok(_) => return Ok(()),
                // The API server has let the Event expire: this repeat starts a new series.
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(error) => return Err(error),
            }
        }
        let created = api.create(&PostParams::default(), &self.new_event(&event, regarding)).await?;
        if let Some(name) = created.metadata.name {
            self.remember(identity, name);
        }
        Ok(())
    }

    fn identity(&self, event: &KubeEvent<'_>, regarding: &ObjectReference) -> u64 {
        let mut hasher = self.digests.build_hasher();
        (&regarding.uid, &regarding.namespace, &regarding.name, &regarding.kind, &regarding.api_version)
            .hash(&mut hasher);
        (event.type_, event.reason, event.action, event.note).hash(&mut hasher);
        hasher.finish()
    }

    /// The Event and next count of a series still open, counting this repeat.
    fn repeat(&self, identity: u64) -> Option<(String, i32)> {
        let mut remembered = self.remembered.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let series = remembered.series.get_mut(&identity)?;
        if series.last.elapsed() > SERIES_WINDOW {
            return None;
        }
        series.count += 1;
        series.last = Instant::now();
        Some((series.name.to_string(), series.count))
    }

    fn remember(&self, identity: u64, name: String) {
        let mut remembered = self.remembered.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        if now.duration_since(remembered.swept) > SWEEP_EVERY || remembered.series.len() >= MAX_SERIES {
            remembered.series.retain(|_, series| now.duration_since(series.last) <= SERIES_WINDOW);
            remembered.swept = now;
        }
        if remembered.series.len() >= MAX_SERIES {
            let oldest = remembered.series.iter().min_by_key(|(_, series)| series.last).map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                remembered.series.remove(&oldest);
            }
        }
        remembered.series.insert(identity, Series { name: name.into_boxed_str(), count: 1, last: now });
    }

    fn new_event(&self, event: &KubeEvent<'_>, regarding: &ObjectReference) -> Event {
        let now = Timestamp::now();
        let object = regarding.name.as_deref().unwrap_or(&self.controller);
        Event {
            metadata: ObjectMeta {
                // client-go's naming: unique per object and moment.
                name: Some(format!("{object}.{:x}", now.as_nanosecond())),
                namespace: regarding.namespace.clone(),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(now)),
            type_: Some(event.type_.to_string()),
            reason: Some(event.reason.to_string()),
            action: Some(event.action.to_string()),
            note: Some(event.note.to_string()),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Event::default()
        }
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.remembered.lock().map(|r| r.series.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> KubeEvents {
        // Never contacted: these tests cover the memory of series only.
        let config = kube::Config::new("http://127.0.0.1:1".parse().unwrap());
        KubeEvents::new(kube::Client::try_from(config).unwrap(), "source-controller", None)
    }

    fn reference(name: &str) -> ObjectReference {
        ObjectReference {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            uid: Some(format!("uid-{name}")),
            ..ObjectReference::default()
        }
    }

    const STORED: KubeEvent<'static> =
        KubeEvent { type_: "Normal", reason: "NewArtifact", action: "Reconcile", note: "stored main@sha1:a" };

    #[tokio::test]
    async fn a_repeat_counts_on_the_first_event_and_a_new_note_does_not() {
        let events = events();
        let app = reference("app");
        let first = events.identity(&STORED, &app);
        assert_eq!(events.repeat(first), None);
        events.remember(first, "app.1".into());
        assert_eq!(events.repeat(first), Some(("app.1".into(), 2)));
        assert_eq!(events.repeat(first), Some(("app.1".into(), 3)));

        let other_note = KubeEvent { note: "stored main@sha1:b", ..STORED };
        assert_ne!(events.identity(&other_note, &app), first);
        assert_ne!(events.identity(&STORED, &reference("other")), first);
    }

    #[tokio::test]
    async fn the_memory_is_bounded() {
        let events = events();
        for n in 0..MAX_SERIES + 10 {
            let app = reference(&format!("app-{n}"));
            events.remember(events.identity(&STORED, &app), format!("app-{n}.1"));
        }
        assert_eq!(events.remembered(), MAX_SERIES);
        // The newest series are kept.
        let newest = events.identity(&STORED, &reference(&format!("app-{}", MAX_SERIES + 9)));
        assert!(events.repeat(newest).is_some());
    }
}
