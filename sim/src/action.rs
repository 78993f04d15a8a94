//! What the environment of the model can do next. `Debug` reads as a sentence, so a
//! counterexample path prints as a story.

use std::fmt;

use cairn_core::job::{JobKey, JobKind};
use cairn_core::world::HookKey;
use chrono::{DateTime, Utc};

use crate::executor::JobEnd;
use crate::request::Request;

/// One environment choice.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// The user applies the BackupStorage.
    CreateStorage,
    /// The user applies the RetentionPolicy.
    CreateRetention,
    /// The user applies the BackupConfiguration.
    CreateConfiguration,
    /// The user re-applies the BackupConfiguration with `paused` flipped.
    TogglePause,
    /// The user deletes the BackupConfiguration.
    DeleteConfiguration,
    /// The user applies the RestoreSession.
    CreateRestore,
    /// The storage answers a request.
    Answer(Request, bool),
    /// A job's pod starts running.
    StartJob(JobKey),
    /// A job ends.
    EndJob(JobKey, JobEnd),
    /// A hook finishes.
    FinishHook(HookKey, bool),
    /// The clock advances to the core's next wakeup.
    Tick(DateTime<Utc>),
    /// The controller restarts and forgets its volatile state.
    Restart,
    /// The last fact is delivered again (a duplicated or late watch event).
    Redeliver,
}

fn job_name(key: &JobKey) -> String {
    let kind = match key.kind {
        JobKind::Backup => "backup",
        JobKind::Restore => "restore",
    };
    format!("the {kind} job of {}/{}", key.namespace, key.session)
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CreateStorage => f.write_str("the user applies the BackupStorage"),
            Action::CreateRetention => f.write_str("the user applies the RetentionPolicy"),
            Action::CreateConfiguration => f.write_str("the user applies the BackupConfiguration"),
            Action::TogglePause => {
                f.write_str("the user flips `paused` on the BackupConfiguration")
            }
            Action::DeleteConfiguration => f.write_str("the user deletes the BackupConfiguration"),
            Action::CreateRestore => f.write_str("the user applies the RestoreSession"),
            Action::Answer(request, true) => write!(f, "the storage completes: {request:?}"),
            Action::Answer(request, false) => {
                write!(f, "the storage is unavailable and fails: {request:?}")
            }
            Action::StartJob(key) => write!(f, "{} starts running", job_name(key)),
            Action::EndJob(key, end) => write!(f, "{} {end:?}", job_name(key)),
            Action::FinishHook(key, ok) => {
                let verb = if *ok { "succeeds" } else { "fails" };
                write!(f, "hook {} of {} {verb}", key.name, key.session)
            }
            Action::Tick(at) => write!(
                f,
                "the clock advances to {}",
                at.format("%Y-%m-%d %H:%M:%S")
            ),
            Action::Restart => f.write_str("the controller restarts (volatile state lost)"),
            Action::Redeliver => f.write_str("the last fact is delivered a second time"),
        }
    }
}
