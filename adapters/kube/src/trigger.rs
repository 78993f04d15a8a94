//! `cairn trigger`: what a trigger CronJob's pod runs. It creates the BackupSession of
//! the schedule slot that just fired, named after the slot exactly as the core names
//! it, so the operator and the CronJob creating "the same" session create one object.

use cairn_core::api::BackupConfiguration;
use cairn_core::api::BackupSession;
use cairn_core::plan::Schedule;
use cairn_core::reconcile::trigger::new_backup_session;
use chrono::{DateTime, Utc};
use kube::api::{Api, Patch, PatchParams};

use crate::error::{Error, Result};
use crate::request::FIELD_MANAGER;

/// The BackupSession for `session` of `bc` at the latest slot at or before `now`
/// (`now` itself when the schedule does not parse).
pub fn session_for(
    bc: &BackupConfiguration,
    session: &str,
    now: DateTime<Utc>,
) -> Result<BackupSession> {
    let s = bc
        .spec
        .sessions
        .iter()
        .find(|s| s.name == session)
        .ok_or_else(|| Error::Input(format!("BackupConfiguration has no session {session:?}")))?;
    let slot = s
        .scheduler
        .as_ref()
        .and_then(|sch| Schedule::parse(&sch.schedule).ok())
        .and_then(|sch| sch.latest_at_or_before(now))
        .unwrap_or(now);
    let retry_left = s.retry_config.as_ref().map_or(0, |r| r.max_retry.max(1));
    let mut object = new_backup_session(bc, s, slot, retry_left);
    object.metadata.creation_timestamp = None;
    Ok(object)
}

/// Reads the BackupConfiguration and applies the session; returns its name.
pub async fn trigger(
    client: &kube::Client,
    namespace: &str,
    configuration: &str,
    session: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let configs: Api<BackupConfiguration> = Api::namespaced(client.clone(), namespace);
    let bc = configs.get(configuration).await.map_err(|e| {
        Error::from_kube(
            format!("get BackupConfiguration {namespace}/{configuration}"),
            e,
        )
    })?;
    let object = session_for(&bc, session, now)?;
    let name = object.metadata.name.clone().unwrap_or_default();
    let sessions: Api<BackupSession> = Api::namespaced(client.clone(), namespace);
    sessions
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&object),
        )
        .await
        .map_err(|e| Error::from_kube(format!("apply BackupSession {namespace}/{name}"), e))?;
    Ok(name)
}
