//! Session triggers: the instant backup once a configuration is Ready, and one
//! BackupSession per due schedule slot (named after the slot, so a replay creates the
//! same name and nothing else).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::core::v1::TypedLocalObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::api::backup_configuration::{BackupConfigurationSpec, Session};
use crate::api::group::CORE_GROUP;
use crate::api::label::{
    CLEANUP_FINALIZER, INVOKER_NAME, INVOKER_NAMESPACE, MANAGED_BY, MANAGED_BY_KUBESTASH,
    SESSION_NAME,
};
use crate::api::BackupSessionPhase::Skipped;
use crate::api::{BackupConfiguration, BackupSession, BackupSessionSpec, Kind};
use crate::effect::{Effect, Plan};
use crate::plan::naming::backup_session_name;
use crate::plan::Schedule;
use crate::world::object::to_time;
use crate::world::query::INVOKER_KIND_BACKUP_CONFIGURATION;
use crate::world::{Object, ObjectRef, World};

use super::trigger_command::retry_budget;

/// The next slot of `schedule` after `now`, if it parses and fires again.
pub fn next_slot(schedule: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Schedule::parse(schedule).ok()?.next_after(now)
}

/// Creates the instant BackupSession of every session.
pub fn fire_instant(
    bc: &BackupConfiguration,
    spec: &BackupConfigurationSpec,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    for session in &spec.sessions {
        let retry_left = retry_budget(session);
        plan.push(Effect::Apply(Object::BackupSession(new_backup_session(
            bc, session, now, retry_left,
        ))));
    }
}

/// Creates the instant BackupSession of every session that has none yet. A crash
/// between creating the session and recording `InitialBackupTriggered` must not start a
/// second backup under a later name after the restart.
pub fn fire_instant_once(
    world: &World,
    bc: &BackupConfiguration,
    spec: &BackupConfigurationSpec,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let key = crate::world::ObjectKey::of(&bc.metadata);
    let pending = BackupConfigurationSpec {
        sessions: spec
            .sessions
            .iter()
            .filter(|s| {
                // A skipped session (say, triggered by hand while paused) took no backup.
                world
                    .configuration_sessions(&key.namespace, &key.name, &s.name)
                    .all(|b| b.status.as_ref().and_then(|st| st.phase) == Some(Skipped))
            })
            .cloned()
            .collect(),
        ..spec.clone()
    };
    fire_instant(bc, &pending, now, plan);
    // The instant backup stands for every slot missed before it (while the
    // configuration was not Ready): those must not fire a second backup right after.
    let me = ObjectRef::of(Kind::BackupConfiguration, &bc.metadata);
    for session in &spec.sessions {
        plan.push(Effect::RecordFired {
            configuration: me.clone(),
            session: session.name.clone(),
            slot: now,
        });
    }
}

/// Creates a BackupSession for each session whose schedule has a due slot.
pub fn fire_scheduled(
    world: &World,
    bc: &BackupConfiguration,
    spec: &BackupConfigurationSpec,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let me = ObjectRef::of(Kind::BackupConfiguration, &bc.metadata);
    for session in &spec.sessions {
        let Some(trigger) = world.triggers.get(&(me.key.clone(), session.name.clone())) else {
            continue;
        };
        if trigger.suspended {
            continue;
        }
        let Ok(schedule) = Schedule::parse(&trigger.schedule) else {
            continue;
        };
        let deadline = session
            .scheduler
            .as_ref()
            .and_then(|s| s.starting_deadline_seconds)
            .map(Duration::seconds);
        let last = trigger
            .last_fired
            .unwrap_or(trigger.since)
            .max(trigger.since);
        if let Some(slot) = schedule.due(Some(last), now, deadline) {
            let retry_left = retry_budget(session);
            plan.push(Effect::Apply(Object::BackupSession(new_backup_session(
                bc, session, slot, retry_left,
            ))));
            plan.push(Effect::RecordFired {
                configuration: me.clone(),
                session: session.name.clone(),
                slot,
            });
        }
    }
}

/// A BackupSession of `session` named after `at` (`<bc>-<session>-<unix seconds>`).
pub fn new_backup_session(
    bc: &BackupConfiguration,
    session: &Session,
    at: DateTime<Utc>,
    retry_left: i32,
) -> BackupSession {
    let bc_name = bc.metadata.name.clone().unwrap_or_default();
    let namespace = bc.metadata.namespace.clone().unwrap_or_default();
    let labels = BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGED_BY_KUBESTASH.to_owned()),
        (INVOKER_NAME.to_owned(), bc_name.clone()),
        (INVOKER_NAMESPACE.to_owned(), namespace.clone()),
        (SESSION_NAME.to_owned(), session.name.clone()),
    ]);
    let owner = OwnerReference {
        api_version: Kind::BackupConfiguration.api_version(),
        kind: INVOKER_KIND_BACKUP_CONFIGURATION.to_owned(),
        name: bc_name.clone(),
        uid: bc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    BackupSession {
        metadata: ObjectMeta {
            name: Some(backup_session_name(&bc_name, &session.name, at.timestamp())),
            namespace: Some(namespace),
            labels: Some(labels),
            owner_references: Some(vec![owner]),
            finalizers: Some(vec![CLEANUP_FINALIZER.to_owned()]),
            creation_timestamp: Some(to_time(at)),
            ..ObjectMeta::default()
        },
        spec: BackupSessionSpec {
            invoker: Some(TypedLocalObjectReference {
                api_group: Some(CORE_GROUP.to_owned()),
                kind: INVOKER_KIND_BACKUP_CONFIGURATION.to_owned(),
                name: bc_name,
            }),
            session: session.name.clone(),
            retry_left,
            backup_timeout: session.backup_timeout.clone(),
        },
        status: None,
    }
}
