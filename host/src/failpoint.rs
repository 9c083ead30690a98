//! A fault-injection point for the crash tests: with
//! `FABER_DB_FAILPOINT=kill-after-step:N` in its environment, the process
//! kills itself with SIGKILL right after step N is recorded, as an operator's
//! `kill -9` or a power cut would. Unset (always, outside tests), it costs one
//! environment lookup per run.

use std::sync::OnceLock;

fn kill_after() -> Option<u8> {
    static STEP: OnceLock<Option<u8>> = OnceLock::new();
    *STEP.get_or_init(|| {
        std::env::var("FABER_DB_FAILPOINT")
            .ok()?
            .strip_prefix("kill-after-step:")?
            .parse()
            .ok()
    })
}

pub fn after_step(number: u8) {
    if kill_after() == Some(number) {
        // SAFETY: kill(2) on our own pid with a signal number has no memory
        // effects; SIGKILL ends the process before the call returns.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
