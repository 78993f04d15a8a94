//! Tests of the operator against a fake API server (tower-test mocks, no real server).

#[path = "api/support.rs"]
mod support;

#[path = "api/scenarios.rs"]
mod scenarios;

#[path = "api/rbac.rs"]
mod rbac;

#[path = "api/objects.rs"]
mod objects;

#[path = "api/deploy.rs"]
mod deploy;

#[path = "api/backend.rs"]
mod backend;

#[path = "api/exec.rs"]
mod exec;

/// The Secrets the operator reads, by name.
#[path = "api/secrets.rs"]
mod secrets;
