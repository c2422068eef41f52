//! Creating many objects at once, as a user applying N apps does.

use futures::{StreamExt, TryStreamExt};
use kube::Resource;
use kube::api::{Api, PostParams};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Creates every object (given as JSON) through `api`, `concurrency` at a time.
pub async fn create_all<K>(api: &Api<K>, objects: Vec<Value>, concurrency: usize) -> anyhow::Result<()>
where
    K: Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    futures::stream::iter(objects)
        .map(|value| async move {
            let name = value["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let object: K = serde_json::from_value(value)
                .map_err(|e| anyhow::anyhow!("the benchmark's own {name} does not parse: {e}"))?;
            api.create(&PostParams::default(), &object)
                .await
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("creating {name}: {e}"))
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}
