//! End-to-end tests of the `cairn` binary against real servers: MariaDB, a moto S3 server and the restic CLI.

mod cli;
mod faults;
mod hostile_names;
mod local_crash;
mod local_failures;
mod local_quickstart;
mod local_recovery;
mod local_schedule;
mod local_support;
mod round_trip;
mod secrets;
mod tls;
