//! The ReplicaSet controller (apps/v1): keeps `spec.replicas` pods (bound to the node),
//! deletes extra ones (unready and newest first), reports replica counts.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt as _};
use tokio::sync::Notify;

use super::api_errors::ignore_not_found;
use super::clock::{instant, now};
use super::expectations::Expectations;
use super::informer::Informer;
use super::ownership::{controlled_by, controller_ref};
use super::pod_template::pod_from_template;
use super::status_update::{replace_status, Recent};

const RESYNC: Duration = Duration::from_secs(2);

/// Runs the ReplicaSet controller until dropped.
pub async fn run(client: Client) {
    let changed = Arc::new(Notify::new());
    let sets = Informer::start(
        Api::<ReplicaSet>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    let pods = Informer::start(
        Api::<Pod>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    sets.ready().await;
    pods.ready().await;
    let mut expectations = Expectations::default();
    let mut recent = Recent::default();
    loop {
        for rs in sets.store.state() {
            let uid = rs.uid().unwrap_or_default();
            let owned = pods.store.state_filter(|p| controlled_by(p, &uid));
            if let Err(e) = sync(&client, &rs, &owned, &mut expectations, &mut recent).await {
                tracing::warn!(replicaset = %rs.name_any(), error = %e, "replicaset sync failed");
            }
        }
        let _ = tokio::time::timeout(RESYNC, changed.notified()).await;
    }
}

fn terminal(p: &Pod) -> bool {
    matches!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Whether `p` is Ready, and since when.
pub fn ready_since(p: &Pod) -> Option<chrono::DateTime<chrono::Utc>> {
    p.status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .find(|c| c.type_ == "Ready" && c.status == "True")
        .map(|c| c.last_transition_time.as_ref().map_or_else(now, instant))
}

async fn sync(
    client: &Client,
    cached: &ReplicaSet,
    owned: &[Arc<Pod>],
    expectations: &mut Expectations,
    recent: &mut Recent<ReplicaSet>,
) -> kube::Result<()> {
    if cached.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let uid = cached.uid().unwrap_or_default();
    let names: Vec<String> = owned.iter().map(|p| p.name_any()).collect();
    if !expectations.satisfied(&uid, |n| names.iter().any(|m| m == n)) {
        return Ok(());
    }
    let rs = recent.latest(cached);
    let ns = rs.namespace().unwrap_or_default();
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let mut active: Vec<&Arc<Pod>> = owned
        .iter()
        .filter(|p| !terminal(p) && p.metadata.deletion_timestamp.is_none())
        .collect();
    let desired = rs.spec.replicas.unwrap_or(1);
    let (mut created, mut deleted) = (Vec::new(), Vec::new());
    let diff = desired - active.len() as i32;
    if diff > 0 {
        let template = rs.spec.template.clone().unwrap_or_default();
        for _ in 0..diff {
            let pod = pod_from_template(
                &template,
                &ns,
                &rs.name_any(),
                controller_ref(&rs),
                Default::default(),
            );
            match pod_api.create(&PostParams::default(), &pod).await {
                Ok(p) => created.push(p.name_any()),
                Err(e) => {
                    tracing::warn!(replicaset = %rs.name_any(), error = %e, "creating a pod failed")
                }
            }
        }
    } else if diff < 0 {
        // Unready before ready, then newest first (upstream's ActivePods ordering, reduced).
        active.sort_by_key(|p| {
            (
                ready_since(p).is_some(),
                std::cmp::Reverse(p.metadata.creation_timestamp.as_ref().map(instant)),
            )
        });
        for p in active.iter().take((-diff) as usize) {
            ignore_not_found(
                pod_api
                    .delete(&p.name_any(), &DeleteParams::default())
                    .await,
            )?;
            deleted.push(p.name_any());
        }
    }
    expectations.expect(&uid, created, deleted);
    let min_ready = i64::from(rs.spec.min_ready_seconds.unwrap_or(0));
    let ready = active.iter().filter(|p| ready_since(p).is_some()).count() as i32;
    let available = active
        .iter()
        .filter(|p| ready_since(p).is_some_and(|t| (now() - t).num_seconds() >= min_ready))
        .count() as i32;
    let mut next = rs.clone();
    let old = rs.status.clone().unwrap_or_default();
    next.status = Some(ReplicaSetStatus {
        replicas: active.len() as i32,
        fully_labeled_replicas: Some(active.len() as i32),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        observed_generation: rs.metadata.generation,
        conditions: old.conditions,
        ..ReplicaSetStatus::default()
    });
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), &ns);
    if let Some(written) = replace_status(&api, &rs, next).await? {
        recent.wrote(cached, written);
    }
    Ok(())
}
