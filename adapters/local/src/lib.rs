//! Local control plane: manifests from files, objects and status in a state directory, the core's
//! decisions executed with a real clock. Entry points for the `cairn` binary live in [`cli`].

pub mod cli;
