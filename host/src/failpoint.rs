//! Fault-injection points for the crash and race tests. With
//! `FABER_DB_FAILPOINT=kill-after-step:N` in its environment, the process
//! kills itself with SIGKILL right after step N is recorded, as an operator's
//! `kill -9` or a power cut would; with `pause-after-step:N:MS` it sleeps MS
//! milliseconds there, as a slow run that another one meets halfway would.
//! Compiled only with the `failpoints` feature, which the test command
//! turns on: a normal or installed build has no such hook.

use std::sync::OnceLock;
use std::time::Duration;

#[derive(Clone, Copy)]
enum Failpoint {
    Kill(u8),
    Pause(u8, Duration),
}

fn failpoint() -> Option<Failpoint> {
    static POINT: OnceLock<Option<Failpoint>> = OnceLock::new();
    *POINT.get_or_init(|| {
        let value = std::env::var("FABER_DB_FAILPOINT").ok()?;
        if let Some(step) = value.strip_prefix("kill-after-step:") {
            return Some(Failpoint::Kill(step.parse().ok()?));
        }
        let (step, millis) = value.strip_prefix("pause-after-step:")?.split_once(':')?;
        Some(Failpoint::Pause(
            step.parse().ok()?,
            Duration::from_millis(millis.parse().ok()?),
        ))
    })
}

pub fn after_step(number: u8) {
    match failpoint() {
        Some(Failpoint::Kill(step)) if step == number => {
            // SAFETY: kill(2) on our own pid with a signal number has no
            // memory effects; SIGKILL ends the process before the call returns.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
        Some(Failpoint::Pause(step, pause)) if step == number => std::thread::sleep(pause),
        _ => {}
    }
}
