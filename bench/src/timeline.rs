//! Every version of one object as a watch delivers it, stamped with when it arrived: the
//! benchmark learns when a change reached the cluster to within the watch's delivery delay,
//! without polling the API server.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::watcher;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Timeline<K> {
    versions: watch::Receiver<Vec<(Instant, K)>>,
    task: JoinHandle<()>,
    what: String,
}

impl<K> Timeline<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    /// Starts watching the object `name` of `api`.
    pub fn watch(api: Api<K>, name: &str) -> Timeline<K> {
        let (sender, versions) = watch::channel(Vec::new());
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let task = tokio::spawn(async move {
            let mut events = std::pin::pin!(watcher(api, config));
            while let Some(event) = events.next().await {
                let arrived = Instant::now();
                if let Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) = event {
                    sender.send_modify(|versions| versions.push((arrived, object)));
                }
            }
        });
        Timeline { versions, task, what: format!("{} {name}", K::kind(&())) }
    }

    /// When the first version that arrived at or after `since` and satisfies `test` arrived;
    /// waits up to `limit` for one.
    pub async fn first(
        &self,
        since: Instant,
        limit: Duration,
        what: &str,
        test: impl Fn(&K) -> bool,
    ) -> anyhow::Result<Instant> {
        let first =
            |versions: &[(Instant, K)]| versions.iter().find(|(at, k)| *at >= since && test(k)).map(|(at, _)| *at);
        let mut versions = self.versions.clone();
        let found = tokio::time::timeout(limit, versions.wait_for(|v| first(v).is_some()))
            .await
            .with_context(|| format!("{} never showed {what} within {limit:?}", self.what))?
            .with_context(|| format!("the watch on {} ended", self.what))?;
        first(&found).with_context(|| format!("{} lost its versions", self.what))
    }
}

impl<K> Drop for Timeline<K> {
    fn drop(&mut self) {
        self.task.abort();
    }
}
