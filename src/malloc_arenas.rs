//! Caps glibc's malloc arenas at two by starting the binary once more with
//! `MALLOC_ARENA_MAX=2`, unless the variable is already set.
//!
//! glibc gives a thread that meets contention its own arena, and an arena keeps what was
//! freed in it: with a dozen threads reading, decrypting and loading, restore peak RSS
//! wandered between 155 and 242 MB from run to run on the 1 GB bench, and 144-146 MB with
//! the cap at the same speed (mimalloc and jemalloc measured 202-369 MB). glibc reads the
//! variable only when a process starts, and the workspace forbids the `unsafe` `mallopt`
//! call, so the process image is replaced once (same pid, arguments and stdio).

/// The variable glibc reads at start-up.
const VAR: &str = "MALLOC_ARENA_MAX";

/// Re-executes the running binary with the cap; returns only when that is not done (other
/// platforms, the variable already set, or the exec failed), and the program goes on as is.
pub fn cap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(VAR).is_some() {
            return;
        }
        let mut args = std::env::args_os();
        let mut cmd = std::process::Command::new("/proc/self/exe");
        if let Some(arg0) = args.next() {
            cmd.arg0(arg0);
        }
        cmd.args(args).env(VAR, "2");
        // `exec` returns only on failure; then run with glibc's defaults.
        let _ = cmd.exec();
    }
}
