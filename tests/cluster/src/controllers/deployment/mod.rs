//! The Deployment controller (apps/v1): one ReplicaSet per pod template
//! (`<deployment>-<pod-template-hash>`), rolled with RollingUpdate or Recreate, revision
//! annotations, `revisionHistoryLimit`, and the Deployment status `kubectl rollout status`
//! reads.

mod hash;
mod rollout;
mod status;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt as _};
use serde_json::json;
use tokio::sync::Notify;

use super::api_errors::{has_code, ignore_not_found};
use super::informer::Informer;
use super::ownership::{controlled_by, controller_ref};
use super::status_update::{replace_status, Recent};
use hash::{pod_template_hash, POD_TEMPLATE_HASH};
use rollout::Counts;

/// Annotation with the rollout revision (on the Deployment and its ReplicaSets).
const REVISION: &str = "deployment.kubernetes.io/revision";
const RESYNC: Duration = Duration::from_secs(2);

/// Runs the Deployment controller until dropped.
pub async fn run(client: Client) {
    let changed = Arc::new(Notify::new());
    let deployments = Informer::start(
        Api::<Deployment>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    let sets = Informer::start(
        Api::<ReplicaSet>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    deployments.ready().await;
    sets.ready().await;
    let mut recent = Recent::default();
    loop {
        for d in deployments.store.state() {
            let uid = d.uid().unwrap_or_default();
            let owned = sets.store.state_filter(|rs| controlled_by(rs, &uid));
            if let Err(e) = sync(&client, &d, &owned, &mut recent).await {
                tracing::warn!(deployment = %d.name_any(), error = %e, "deployment sync failed");
            }
        }
        let _ = tokio::time::timeout(RESYNC, changed.notified()).await;
    }
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.annotations()
        .get(REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn counts(rs: &ReplicaSet) -> Counts {
    let s = rs.status.clone().unwrap_or_default();
    Counts {
        spec: rs.spec.replicas.unwrap_or(1),
        current: s.replicas,
        available: s.available_replicas.unwrap_or(0),
    }
}

async fn sync(
    client: &Client,
    cached: &Deployment,
    owned: &[Arc<ReplicaSet>],
    recent: &mut Recent<Deployment>,
) -> kube::Result<()> {
    if cached.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let d = recent.latest(cached);
    let ns = d.namespace().unwrap_or_default();
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), &ns);
    let d_api: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let desired = d.spec.replicas.unwrap_or(1);
    let hash = pod_template_hash(
        &d.spec.template,
        d.status.as_ref().and_then(|s| s.collision_count),
    );
    let new_name = format!("{}-{hash}", d.name_any());
    let max_revision = owned.iter().map(|rs| revision(rs)).max().unwrap_or(0);
    let strategy = d.spec.strategy.clone().unwrap_or_default();
    let plan = if strategy.type_.as_deref() == Some("Recreate") {
        rollout::Strategy::Recreate
    } else {
        let ru = strategy.rolling_update.unwrap_or_default();
        rollout::rolling(desired, ru.max_surge.as_ref(), ru.max_unavailable.as_ref())
    };
    let max_unavailable = match plan {
        rollout::Strategy::Rolling { unavailable, .. } => unavailable,
        rollout::Strategy::Recreate => desired,
    };

    let mut new = match owned.iter().find(|rs| rs.name_any() == new_name) {
        Some(rs) => rs.as_ref().clone(),
        None => {
            let rs = new_replica_set(&d, &new_name, &hash, max_revision + 1);
            let result = rs_api.create(&PostParams::default(), &rs).await;
            if has_code(&result, 409) {
                return Ok(()); // cache lag: the ReplicaSet shows up on the next event
            }
            result?
        }
    };
    let olds: Vec<&Arc<ReplicaSet>> = owned
        .iter()
        .filter(|rs| rs.name_any() != new_name)
        .collect();
    let paused = d.spec.paused == Some(true);
    if !paused {
        let old_counts: Vec<Counts> = olds.iter().map(|rs| counts(rs)).collect();
        let (new_target, old_targets) = rollout::step(desired, &plan, counts(&new), &old_counts);
        if new_target != new.spec.replicas.unwrap_or(1) {
            new = scale(&rs_api, &new.name_any(), new_target).await?;
        }
        for (rs, target) in olds.iter().zip(old_targets) {
            if target != rs.spec.replicas.unwrap_or(1) {
                scale(&rs_api, &rs.name_any(), target).await?;
            }
        }
        prune_history(&rs_api, &d, &olds).await;
    }
    let rev = revision(&new).to_string();
    if d.annotations().get(REVISION) != Some(&rev) {
        let patch = json!({ "metadata": { "annotations": { REVISION: rev } } });
        d_api
            .patch(
                &d.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
    }
    let mut all: Vec<&ReplicaSet> = olds.iter().map(|rs| rs.as_ref()).collect();
    all.push(&new);
    let mut next = d.clone();
    next.status = Some(status::status(
        &d,
        &new,
        &all,
        max_unavailable,
        super::clock::now(),
    ));
    if let Some(written) = replace_status(&d_api, &d, next).await? {
        recent.wrote(cached, written);
    }
    Ok(())
}

fn new_replica_set(d: &Deployment, name: &str, hash: &str, revision: i64) -> ReplicaSet {
    let mut template = d.spec.template.clone();
    let meta = template.metadata.get_or_insert_with(ObjectMeta::default);
    meta.labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH.into(), hash.into());
    let mut labels = meta.labels.clone().unwrap_or_default();
    labels.retain(|k, _| k != POD_TEMPLATE_HASH);
    labels.insert(POD_TEMPLATE_HASH.into(), hash.into());
    let mut selector = d.spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH.into(), hash.into());
    let desired = d.spec.replicas.unwrap_or(1);
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: d.namespace(),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([
                (REVISION.to_owned(), revision.to_string()),
                (
                    "deployment.kubernetes.io/desired-replicas".to_owned(),
                    desired.to_string(),
                ),
                (
                    "deployment.kubernetes.io/max-replicas".to_owned(),
                    (desired + 1).to_string(),
                ),
            ])),
            owner_references: Some(vec![controller_ref(d)]),
            ..ObjectMeta::default()
        },
        spec: ReplicaSetSpec {
            replicas: Some(0),
            min_ready_seconds: d.spec.min_ready_seconds,
            selector,
            template: Some(template),
        },
        status: None,
    }
}

async fn scale(api: &Api<ReplicaSet>, name: &str, replicas: i32) -> kube::Result<ReplicaSet> {
    let patch = json!({ "spec": { "replicas": replicas } });
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
}

/// Deletes empty old ReplicaSets beyond `revisionHistoryLimit` (10), oldest revisions first.
async fn prune_history(api: &Api<ReplicaSet>, d: &Deployment, olds: &[&Arc<ReplicaSet>]) {
    let limit = usize::try_from(d.spec.revision_history_limit.unwrap_or(10)).unwrap_or(10);
    let mut empty: Vec<&&Arc<ReplicaSet>> = olds
        .iter()
        .filter(|rs| {
            rs.spec.replicas == Some(0) && rs.status.as_ref().is_none_or(|s| s.replicas == 0)
        })
        .collect();
    empty.sort_by_key(|rs| revision(rs));
    let extra = empty.len().saturating_sub(limit);
    for rs in empty.into_iter().take(extra) {
        if let Err(e) = ignore_not_found(
            api.delete(&rs.name_any(), &DeleteParams::background())
                .await,
        ) {
            tracing::warn!(replicaset = %rs.name_any(), error = %e, "pruning a replicaset failed");
        }
    }
}
