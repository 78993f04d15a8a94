//! Reading hook, backend, trigger and event bookkeeping back from the state directory
//! (mirrors of the core's `Serialize`-only types, as in [`crate::world_io_job`]), and
//! the entry shapes those files are written in.

use std::collections::BTreeMap;

use cairn_core::api::{Kind, Repository, Snapshot};
use cairn_core::event::{Event, EventType};
use cairn_core::world::{
    BackendFacts, FileState, HookFact, HookKey, HookOutcome, HookStage, ObjectKey, ObjectRef,
    Trigger,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// `Kind namespace/name` (how the core serialises an [`ObjectRef`]) back into a reference.
pub fn parse_object_ref(text: &str) -> Option<ObjectRef> {
    let (kind, key) = text.split_once(' ')?;
    let kind = Kind::ALL.into_iter().find(|k| k.name() == kind)?;
    let (namespace, name) = key.split_once('/').unwrap_or(("", key));
    Some(ObjectRef::new(kind, namespace, name))
}

fn object_ref<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectRef, D::Error> {
    let text = String::deserialize(d)?;
    parse_object_ref(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("not a `Kind namespace/name`: {text:?}")))
}

/// Mirror of [`HookStage`].
#[derive(Deserialize)]
pub enum HookStageDto {
    /// PreBackup.
    PreBackup,
    /// PostBackup.
    PostBackup,
    /// PreRestore.
    PreRestore,
    /// PostRestore.
    PostRestore,
}

/// Mirror of [`HookOutcome`].
#[derive(Deserialize)]
pub enum HookOutcomeDto {
    /// Pending.
    Pending,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
}

/// Mirror of [`HookKey`].
#[derive(Deserialize)]
pub struct HookKeyDto {
    #[serde(deserialize_with = "object_ref")]
    session: ObjectRef,
    stage: HookStageDto,
    name: String,
}

/// One line of `facts/hooks.yaml`, as written.
#[derive(Serialize)]
pub struct HookEntry<'a> {
    /// The hook run.
    pub key: &'a HookKey,
    /// What happened.
    #[serde(flatten)]
    pub fact: &'a HookFact,
}

/// One line of `facts/hooks.yaml`, as read.
#[derive(Deserialize)]
pub struct HookEntryDto {
    key: HookKeyDto,
    outcome: HookOutcomeDto,
    message: String,
}

impl From<HookEntryDto> for (HookKey, HookFact) {
    fn from(d: HookEntryDto) -> Self {
        let stage = match d.key.stage {
            HookStageDto::PreBackup => HookStage::PreBackup,
            HookStageDto::PostBackup => HookStage::PostBackup,
            HookStageDto::PreRestore => HookStage::PreRestore,
            HookStageDto::PostRestore => HookStage::PostRestore,
        };
        let outcome = match d.outcome {
            HookOutcomeDto::Pending => HookOutcome::Pending,
            HookOutcomeDto::Succeeded => HookOutcome::Succeeded,
            HookOutcomeDto::Failed => HookOutcome::Failed,
        };
        let key = HookKey {
            session: d.key.session,
            stage,
            name: d.key.name,
        };
        let fact = HookFact {
            outcome,
            message: d.message,
        };
        (key, fact)
    }
}

/// Mirror of [`FileState`].
#[derive(Deserialize)]
pub enum FileStateDto {
    /// Present.
    Present,
    /// Failed.
    Failed {
        /// Why.
        message: String,
        /// When.
        at: DateTime<Utc>,
    },
}

impl From<FileStateDto> for FileState {
    fn from(d: FileStateDto) -> Self {
        match d {
            FileStateDto::Present => FileState::Present,
            FileStateDto::Failed { message, at } => FileState::Failed { message, at },
        }
    }
}

fn states(m: BTreeMap<String, FileStateDto>) -> BTreeMap<String, FileState> {
    m.into_iter().map(|(k, v)| (k, v.into())).collect()
}

/// Mirror of [`BackendFacts`].
#[derive(Deserialize)]
pub struct BackendFactsDto {
    metadata: Option<FileStateDto>,
    repositories: BTreeMap<String, FileStateDto>,
    found_repositories: BTreeMap<String, Repository>,
    snapshots: BTreeMap<String, FileStateDto>,
    found_snapshots: BTreeMap<String, Snapshot>,
    forgotten: BTreeMap<String, FileStateDto>,
    wiped: BTreeMap<String, FileStateDto>,
}

impl From<BackendFactsDto> for BackendFacts {
    fn from(d: BackendFactsDto) -> Self {
        BackendFacts {
            metadata: d.metadata.map(Into::into),
            repositories: states(d.repositories),
            found_repositories: d.found_repositories,
            snapshots: states(d.snapshots),
            found_snapshots: d.found_snapshots,
            forgotten: states(d.forgotten),
            wiped: states(d.wiped),
        }
    }
}

/// One entry of `facts/triggers.yaml`, as written.
#[derive(Serialize)]
pub struct TriggerEntry<'a> {
    /// The BackupConfiguration.
    pub configuration: &'a ObjectKey,
    /// The session name.
    pub session: &'a str,
    /// The trigger.
    #[serde(flatten)]
    pub trigger: &'a Trigger,
}

/// Mirror of [`ObjectKey`].
#[derive(Deserialize)]
pub struct ObjectKeyDto {
    namespace: String,
    name: String,
}

/// One entry of `facts/triggers.yaml`, as read.
#[derive(Deserialize)]
pub struct TriggerEntryDto {
    configuration: ObjectKeyDto,
    session: String,
    name: String,
    schedule: String,
    suspended: bool,
    since: DateTime<Utc>,
    last_fired: Option<DateTime<Utc>>,
}

impl From<TriggerEntryDto> for ((ObjectKey, String), Trigger) {
    fn from(d: TriggerEntryDto) -> Self {
        let key = ObjectKey::new(d.configuration.namespace, d.configuration.name);
        let trigger = Trigger {
            name: d.name,
            schedule: d.schedule,
            suspended: d.suspended,
            since: d.since,
            last_fired: d.last_fired,
        };
        ((key, d.session), trigger)
    }
}

/// Mirror of [`EventType`].
#[derive(Deserialize)]
pub enum EventTypeDto {
    /// Normal.
    Normal,
    /// Warning.
    Warning,
}

/// Mirror of [`Event`].
#[derive(Deserialize)]
pub struct EventDto {
    #[serde(deserialize_with = "object_ref")]
    object: ObjectRef,
    #[serde(rename = "type")]
    type_: EventTypeDto,
    reason: String,
    message: String,
}

impl From<EventDto> for Event {
    fn from(d: EventDto) -> Self {
        Event {
            object: d.object,
            type_: match d.type_ {
                EventTypeDto::Normal => EventType::Normal,
                EventTypeDto::Warning => EventType::Warning,
            },
            reason: d.reason,
            message: d.message,
        }
    }
}
