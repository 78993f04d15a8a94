//! The one mapping from an effect to the IO it needs, exhaustive (no catch-all arm): a
//! new effect does not compile until every control plane knows what to do with it.

use crate::effect::Effect;

/// What carrying out an effect needs beyond applying it to the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Io {
    /// Writing an object: its spec, status, finalizers or deletion. API requests in a
    /// cluster; in the local daemon the state directory, saved at the end of the turn.
    Object,
    /// A file on a backend: `metadata.yaml`, `repository.yaml`, a Snapshot YAML, restic
    /// forget and prune, wiping data.
    Backend,
    /// Starting or stopping an executor job.
    Job,
    /// Running a hook.
    Hook,
    /// Recording an event.
    Event,
    /// A session's schedule: a trigger CronJob in a cluster; the daemon's own timer
    /// (world only) locally.
    Schedule,
    /// The control plane's own bookkeeping (a schedule slot fired): the world only.
    Memory,
}

impl Io {
    /// The IO `effect` needs.
    pub fn of(effect: &Effect) -> Self {
        match effect {
            Effect::Apply(_)
            | Effect::PatchStatus { .. }
            | Effect::Delete { .. }
            | Effect::AddFinalizer(_)
            | Effect::RemoveFinalizer(_) => Io::Object,
            Effect::InitBackend { .. }
            | Effect::InitRepository { .. }
            | Effect::UploadSnapshotMetadata { .. }
            | Effect::ForgetSnapshots { .. }
            | Effect::WipeData { .. } => Io::Backend,
            Effect::RunJob(_) | Effect::CancelJob(_) => Io::Job,
            Effect::RunHook(_) => Io::Hook,
            Effect::Emit(_) => Io::Event,
            Effect::EnsureTrigger { .. } => Io::Schedule,
            Effect::RecordFired { .. } => Io::Memory,
        }
    }
}

/// The effect's variant name, for logs.
pub fn effect_name(effect: &Effect) -> &'static str {
    match effect {
        Effect::Apply(_) => "Apply",
        Effect::PatchStatus { .. } => "PatchStatus",
        Effect::Delete { .. } => "Delete",
        Effect::AddFinalizer(_) => "AddFinalizer",
        Effect::RemoveFinalizer(_) => "RemoveFinalizer",
        Effect::InitBackend { .. } => "InitBackend",
        Effect::InitRepository { .. } => "InitRepository",
        Effect::UploadSnapshotMetadata { .. } => "UploadSnapshotMetadata",
        Effect::RunJob(_) => "RunJob",
        Effect::CancelJob(_) => "CancelJob",
        Effect::RunHook(_) => "RunHook",
        Effect::ForgetSnapshots { .. } => "ForgetSnapshots",
        Effect::WipeData { .. } => "WipeData",
        Effect::EnsureTrigger { .. } => "EnsureTrigger",
        Effect::RecordFired { .. } => "RecordFired",
        Effect::Emit(_) => "Emit",
    }
}
