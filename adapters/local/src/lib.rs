//! Local control plane: manifests from files, objects and status in a state directory, the core's
//! decisions executed with a real clock. Entry points for the `cairn` binary live in [`cli`].
//!
//! - [`manifest`]: KubeStash manifests (and v1 Secrets/Namespaces) from files, with
//!   file:line errors.
//! - [`store`]: the state directory (`StateDir`): crash-safe YAML files, versions,
//!   user facts from manifests ([`store::apply_manifests`]) and from other processes
//!   ([`store::StateDir::refresh`]).
//! - [`world_io`]: the world as files and back.
//! - [`get`], [`describe`], [`apply`], [`delete`]: the kubectl-like commands.

pub mod apply;
pub mod cli;
pub mod delete;
pub mod describe;
pub mod get;
pub mod manifest;
pub mod manifest_base64;
pub mod manifest_document;
pub mod manifest_error;
pub mod manifest_kind;
pub mod manifest_locate;
pub mod manifest_secret;
pub mod store;
pub mod store_apply;
pub mod store_atomic;
pub mod store_error;
pub mod store_layout;
pub mod store_lock;
pub mod store_refresh;
pub mod store_version;
pub mod table;
pub mod table_age;
pub mod table_select;
pub mod world_io;
pub mod world_io_facts;
pub mod world_io_job;

// Runtime of `cairn run`, `cairn exec` and `cairn trigger` (owned by the runtime work).
pub mod clock;
pub mod daemon;
pub mod exec_cmd;
pub mod executor;
pub mod executor_job;
pub mod executor_storage;
pub mod run;
pub mod runtime;
pub mod runtime_once;
pub mod trigger;
