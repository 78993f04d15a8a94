//! End-to-end tests of the `cairn` binary against real servers: MariaDB, a moto S3 server and the restic CLI.

mod cli;
mod fault_db;
mod fault_disk;
mod fault_kill;
mod fault_lock;
mod fault_pack;
mod fault_proxy;
mod fault_store;
mod fault_support;
mod faults;
mod function_args;
mod hostile_names;
mod load_support;
mod local_clock;
mod local_crash;
mod local_failures;
mod local_hooks;
mod local_load;
mod local_quickstart;
mod local_recovery;
mod local_schedule;
mod local_support;
mod malloc_arenas;
mod round_trip;
mod secrets;
mod tls;
