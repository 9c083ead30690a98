//! How a handler call can fail, each case naming the handler and what it hit.

use std::path::PathBuf;
use std::time::Duration;

use super::contract::HandlerError;

#[derive(Debug, thiserror::Error)]
pub enum HandlerFailure {
    #[error("cannot load handler {handler} from {}: {reason}", path.display())]
    Load {
        handler: String,
        path: PathBuf,
        reason: String,
    },
    #[error("cannot set up the sandbox for handler {handler}: {reason}")]
    Sandbox { handler: String, reason: String },
    #[error("handler {handler} is incompatible with this host: {reason}")]
    Incompatible { handler: String, reason: String },
    #[error(
        "handler {handler} was built for faber:db@{built_for}, which has no `{operation}`; this needs a handler built for faber:db@{needed}"
    )]
    Outdated {
        handler: String,
        built_for: String,
        operation: &'static str,
        needed: &'static str,
    },
    #[error("handler {handler} used up its CPU budget of {fuel} fuel units")]
    CpuLimit { handler: String, fuel: u64 },
    #[error("handler {handler} hit its memory limit of {mib} MiB")]
    MemoryLimit { handler: String, mib: usize },
    #[error("handler {handler} wrote more than {mib} MiB into its folder in one call")]
    DiskLimit { handler: String, mib: u64 },
    #[error("handler {handler} did not finish within {}s", limit.as_secs())]
    Timeout { handler: String, limit: Duration },
    #[error("handler {handler} crashed (wasm trap): {message}")]
    Trap { handler: String, message: String },
    #[error("handler {handler} returned an oversized result: {reason}")]
    Oversized { handler: String, reason: String },
    #[error("handler {handler} reported something untrue: {reason}")]
    Untruthful { handler: String, reason: String },
    #[error("handler {handler} failed: {}", super::untrusted::clean(&describe(error)))]
    Reported {
        handler: String,
        error: HandlerError,
    },
}

impl HandlerFailure {
    pub fn handler(&self) -> &str {
        match self {
            HandlerFailure::Load { handler, .. }
            | HandlerFailure::Sandbox { handler, .. }
            | HandlerFailure::Incompatible { handler, .. }
            | HandlerFailure::Outdated { handler, .. }
            | HandlerFailure::CpuLimit { handler, .. }
            | HandlerFailure::MemoryLimit { handler, .. }
            | HandlerFailure::DiskLimit { handler, .. }
            | HandlerFailure::Timeout { handler, .. }
            | HandlerFailure::Trap { handler, .. }
            | HandlerFailure::Oversized { handler, .. }
            | HandlerFailure::Untruthful { handler, .. }
            | HandlerFailure::Reported { handler, .. } => handler,
        }
    }
}

pub fn describe(error: &HandlerError) -> String {
    match error {
        HandlerError::InvalidRequest(why) => format!("invalid request: {why}"),
        HandlerError::UnsupportedProvider(provider) => {
            format!("provider {provider} is not supported")
        }
        HandlerError::Sql(err) => match &err.code {
            Some(code) => format!("SQL error {code}: {}", err.message),
            None => format!("SQL error: {}", err.message),
        },
        HandlerError::Filesystem(why) => format!("filesystem: {why}"),
        HandlerError::Conflict(why) => format!("conflict: {why}"),
        HandlerError::Cloud(why) => format!("cloud provider: {why}"),
        HandlerError::Internal(why) => format!("internal error: {why}"),
    }
}
