//! Executor jobs: a resolved backup or restore task run through the data path, with
//! component results in the shape the core expects.
//!
//! Call protocol: the driver (local daemon, `cairn exec`, the Kubernetes executor) takes
//! the core's [`cairn_core::job::JobSpec`], resolves its references with
//! [`inputs::resolve_inputs`] (AppBinding → database target, BackupStorage → backend,
//! encryption Secret → restic password, task args → [`params::TaskParams`]), then calls
//! [`run_backup`] or [`run_restore`] and feeds [`JobReport::into_fact`] back to the core.
//!
//! This crate decides nothing about phases: it runs the task and reports what happened.
//! Every error message names the object and what to do; none carries a secret value.

#![warn(missing_docs)]

pub mod backend;
pub mod backend_files;
mod backup;
pub mod error;
pub mod hook;
pub mod inputs;
pub mod params;
pub mod previous_steps;
mod report;
mod repository;
mod restore;
pub mod source;
pub mod target;

pub use backend::StorageAccess;
pub use backup::run_backup;
pub use error::{JobError, Result};
pub use inputs::{resolve_inputs, JobInputs, RepoSource, RepoTarget};
pub use params::{DumpFormat, TaskParams};
pub use report::JobReport;
pub use restore::run_restore;
pub use target::HostStyle;
