//! `faber:db/log`: handler messages, attributed and sanitized, in the host's log.

use crate::logging::{self, Level};
use crate::runtime::bindings::latest::log::{Host, Level as WitLevel};
use crate::runtime::state::HandlerState;

impl Host for HandlerState {
    async fn log(&mut self, level: WitLevel, message: String) {
        let level = match level {
            WitLevel::Debug => Level::Debug,
            WitLevel::Info => Level::Info,
            WitLevel::Warn => Level::Warn,
            WitLevel::Error => Level::Error,
        };
        logging::emit(level, &self.handler, &message);
    }
}
