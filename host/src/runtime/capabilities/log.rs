//! `faber:db/log`: handler messages, attributed and sanitized, in the host's log.

use crate::logging::{self, Level};
use crate::runtime::bindings::latest::log::{Host, Level as WitLevel};
use crate::runtime::state::HandlerState;

/// How much a handler may log in one call; past it, one notice and silence,
/// so a handler cannot fill the terminal or the disk behind stderr.
const MAX_LOG_BYTES_PER_CALL: usize = 1 << 20;

impl Host for HandlerState {
    async fn log(&mut self, level: WitLevel, message: String) {
        let before = self.log_bytes;
        self.log_bytes = self.log_bytes.saturating_add(message.len());
        if self.log_bytes > MAX_LOG_BYTES_PER_CALL {
            if before <= MAX_LOG_BYTES_PER_CALL {
                logging::emit(
                    Level::Warn,
                    &self.handler,
                    &format!(
                        "logged more than {MAX_LOG_BYTES_PER_CALL} bytes in one call; the rest is dropped"
                    ),
                );
            }
            return;
        }
        let level = match level {
            WitLevel::Debug => Level::Debug,
            WitLevel::Info => Level::Info,
            WitLevel::Warn => Level::Warn,
            WitLevel::Error => Level::Error,
        };
        logging::emit(level, &self.handler, &message);
    }
}
