//! `cairn trigger`: what a trigger CronJob's pod runs. It applies the BackupSession the
//! core makes of the slot that just fired (`cron_fired_session`), named exactly as the
//! operator names that slot, so the two creating "the same" session create one object.

use cairn_core::api::BackupConfiguration;
use cairn_core::api::BackupSession;
use cairn_core::reconcile::trigger_command::cron_fired_session;
use chrono::{DateTime, Utc};
use kube::api::{Api, Patch, PatchParams};

use crate::error::{Error, Result};
use crate::request::TRIGGER_FIELD_MANAGER;

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
    let object = cron_fired_session(&bc, session, now).map_err(|e| Error::Input(e.to_string()))?;
    let name = object.metadata.name.clone().unwrap_or_default();
    let sessions: Api<BackupSession> = Api::namespaced(client.clone(), namespace);
    sessions
        .patch(
            &name,
            &PatchParams::apply(TRIGGER_FIELD_MANAGER).force(),
            &Patch::Apply(&object),
        )
        .await
        .map_err(|e| Error::from_kube(format!("apply BackupSession {namespace}/{name}"), e))?;
    Ok(name)
}
