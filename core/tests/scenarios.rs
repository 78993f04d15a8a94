//! The user's stories, driven through `reconcile` / `apply` / `observe` with scripted
//! facts and a scripted clock. Each step's effects are pinned as YAML snapshots.

#[path = "scenarios/harness.rs"]
mod harness;

#[path = "scenarios/backup_story.rs"]
mod backup_story;

#[path = "scenarios/restore_story.rs"]
mod restore_story;

#[path = "scenarios/faults.rs"]
mod faults;

#[path = "scenarios/recovery_story.rs"]
mod recovery_story;

#[path = "scenarios/restore_hooks.rs"]
mod restore_hooks;
