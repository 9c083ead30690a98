//! Bindings for `faber:db@0.1.0` (kept in `host/wit-legacy/v0.1.0`): the
//! migration-tool world only. Its imports are implemented by delegating to
//! the latest capabilities, and its records are converted to the latest ones,
//! so the rest of the host never sees this version.

use super::latest;
use crate::runtime::state::HandlerState;

wasmtime::component::bindgen!({
    world: "migration-tool-handler",
    path: "wit-legacy/v0.1.0",
    imports: { default: async },
    exports: { default: async },
});

use exports::faber::db::migration_tool as legacy_tool;
use faber::db::{log as legacy_log, sql as legacy_sql, types as legacy_types};

pub const WIT_VERSION: &str = "0.1.0";

super::legacy::adapt_shared_imports!();

/// A 0.1.0 handler gives no next steps; the host supplies generic ones.
pub fn outcome(outcome: legacy_tool::InitializeOutcome) -> latest::InitializeOutcome {
    latest::InitializeOutcome {
        tracking_table: outcome.tracking_table,
        tracking_table_created: outcome.tracking_table_created,
        baseline_migration: outcome.baseline_migration,
        baseline_created: outcome.baseline_created,
        applied: outcome.applied,
        pending: outcome.pending,
        files_written: outcome.files_written,
        next_steps: Vec::new(),
    }
}

pub fn error(error: legacy_types::HandlerError) -> latest::HandlerError {
    use latest::HandlerError as New;
    use legacy_types::HandlerError as Old;
    match error {
        Old::InvalidRequest(why) => New::InvalidRequest(why),
        Old::UnsupportedProvider(p) => New::UnsupportedProvider(provider(p)),
        Old::Sql(err) => New::Sql(sql_error(err)),
        Old::Filesystem(why) => New::Filesystem(why),
        Old::Conflict(why) => New::Conflict(why),
        Old::Internal(why) => New::Internal(why),
    }
}
