//! Backend-file effects: `metadata.yaml` (plus a listing for disaster recovery),
//! `repository.yaml`, Snapshot YAMLs, forgetting restic snapshots, wiping paths.
//! The implementation is shared with the Kubernetes operator and lives in
//! [`cairn_job::backend_files`]; this module keeps the names the executor uses.

pub use cairn_job::backend_files::{forget, init_backend, wipe, write_file, ForgetTarget, Listing};
