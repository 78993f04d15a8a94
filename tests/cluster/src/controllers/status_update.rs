//! Writes an object's status through its `/status` subresource, as upstream controllers'
//! `UpdateStatus` does (optimistic concurrency; a conflict is retried on fresh state).

use std::fmt::Debug;

use kube::api::PostParams;
use kube::{Api, Resource, ResourceExt as _};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Replaces the status of `obj` (whose status the caller computed) unless it equals `old`.
/// On a conflict the status is applied to a freshly read object once more.
/// Returns the object as written (`None` when nothing changed).
pub async fn replace_status<K>(api: &Api<K>, old: &K, new: K) -> kube::Result<Option<K>>
where
    K: Resource + Clone + Serialize + DeserializeOwned + Debug + HasStatus,
{
    if old.status_json() == new.status_json() {
        return Ok(None);
    }
    let name = new.name_any();
    match api
        .replace_status(&name, &PostParams::default(), &new)
        .await
    {
        Ok(obj) => Ok(Some(obj)),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let mut fresh = api.get_status(&name).await?;
            fresh.take_status_from(new);
            api.replace_status(&name, &PostParams::default(), &fresh)
                .await
                .map(Some)
        }
        Err(e) => Err(e),
    }
}

/// Kinds whose status this module writes.
pub trait HasStatus {
    /// The status as JSON (for change detection).
    fn status_json(&self) -> serde_json::Value;
    /// Moves the status of `other` into `self`.
    fn take_status_from(&mut self, other: Self);
}

macro_rules! has_status {
    ($($t:ty),*) => {$(
        impl HasStatus for $t {
            fn status_json(&self) -> serde_json::Value {
                serde_json::to_value(&self.status).unwrap_or_default()
            }
            fn take_status_from(&mut self, other: Self) {
                self.status = other.status;
            }
        }
    )*};
}

has_status!(
    k8s_openapi::api::batch::v1::Job,
    k8s_openapi::api::batch::v1::CronJob,
    k8s_openapi::api::apps::v1::Deployment,
    k8s_openapi::api::apps::v1::ReplicaSet,
    k8s_openapi::api::core::v1::Pod
);

/// The objects a controller wrote lately, used instead of the cache's older copies until
/// the watch delivers the write (so a sync never recomputes from a status it replaced).
#[derive(Debug)]
pub struct Recent<K> {
    /// uid -> (resourceVersion the write replaced, object as written).
    written: std::collections::HashMap<String, (Option<String>, K)>,
}

impl<K> Default for Recent<K> {
    fn default() -> Self {
        Self {
            written: Default::default(),
        }
    }
}

impl<K: Resource + Clone> Recent<K> {
    /// The freshest known copy of `cached`.
    pub fn latest(&mut self, cached: &K) -> K {
        let uid = cached.uid().unwrap_or_default();
        match self.written.get(&uid) {
            Some((replaced, obj)) if *replaced == cached.resource_version() => obj.clone(),
            Some(_) => {
                self.written.remove(&uid);
                cached.clone()
            }
            None => cached.clone(),
        }
    }

    /// Records that `written` replaced the version `before`.
    pub fn wrote(&mut self, before: &K, written: K) {
        self.written.insert(
            before.uid().unwrap_or_default(),
            (before.resource_version(), written),
        );
    }
}
