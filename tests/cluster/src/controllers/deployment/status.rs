//! Deployment status from its ReplicaSets: counts and the Available/Progressing conditions
//! with upstream's reasons and messages (ProgressDeadlineExceeded is never reported).

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use kube::ResourceExt as _;

use super::super::clock::time;

fn counts(rs: &ReplicaSet) -> (i32, i32, i32) {
    let s = rs.status.clone().unwrap_or_default();
    (
        s.replicas,
        s.ready_replicas.unwrap_or(0),
        s.available_replicas.unwrap_or(0),
    )
}

fn set(
    list: &mut Vec<DeploymentCondition>,
    type_: &str,
    value: bool,
    reason: &str,
    message: String,
    now: DateTime<Utc>,
) {
    let status = if value { "True" } else { "False" };
    if let Some(c) = list.iter_mut().find(|c| c.type_.as_deref() == Some(type_)) {
        if c.status.as_deref() != Some(status) {
            c.last_transition_time = Some(time(now));
        }
        if c.reason.as_deref() != Some(reason) || c.status.as_deref() != Some(status) {
            c.last_update_time = Some(time(now));
        }
        c.status = Some(status.to_owned());
        c.reason = Some(reason.to_owned());
        c.message = Some(message);
        return;
    }
    list.push(DeploymentCondition {
        type_: Some(type_.to_owned()),
        status: Some(status.to_owned()),
        reason: Some(reason.to_owned()),
        message: Some(message),
        last_update_time: Some(time(now)),
        last_transition_time: Some(time(now)),
    });
}

/// The status of `d` whose new ReplicaSet is `new` and all ReplicaSets `all` (new included).
pub fn status(
    d: &Deployment,
    new: &ReplicaSet,
    all: &[&ReplicaSet],
    max_unavailable: i32,
    now: DateTime<Utc>,
) -> DeploymentStatus {
    let desired = d.spec.replicas.unwrap_or(1);
    let old = d.status.clone().unwrap_or_default();
    let (mut replicas, mut ready, mut available) = (0, 0, 0);
    for rs in all {
        let (r, re, a) = counts(rs);
        replicas += r;
        ready += re;
        available += a;
    }
    let (updated, _, new_available) = counts(new);
    let mut conditions = old.conditions.clone().unwrap_or_default();
    let enough = available >= desired - max_unavailable;
    if enough {
        set(
            &mut conditions,
            "Available",
            true,
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
            now,
        );
    } else {
        set(
            &mut conditions,
            "Available",
            false,
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
            now,
        );
    }
    let name = new.name_any();
    let complete = updated == desired
        && replicas == desired
        && new_available == desired
        && available == desired;
    if complete {
        set(
            &mut conditions,
            "Progressing",
            true,
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{name}\" has successfully progressed."),
            now,
        );
    } else {
        set(
            &mut conditions,
            "Progressing",
            true,
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{name}\" is progressing."),
            now,
        );
    }
    DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(replicas),
        updated_replicas: Some(updated),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        unavailable_replicas: Some((desired - available).max(0)),
        terminating_replicas: None,
        conditions: Some(conditions),
        collision_count: old.collision_count,
    }
}
