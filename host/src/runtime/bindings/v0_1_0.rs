//! Bindings for `faber:db@0.1.0` (`wit/v0.1.0`): the migration-tool world
//! with `info` and `initialize-schema` only. Its imports are served by the
//! latest capabilities, and its records converted to the host's.

use super::adapt::{Adapt, adapt_records, adapt_variants};
use crate::runtime::contract as host;
use crate::runtime::state::HandlerState;

pub mod migration_tool {
    wasmtime::component::bindgen!({
        world: "migration-tool-handler",
        path: "../wit/v0.1.0",
        imports: { default: async },
        exports: { default: async },
    });
}

use migration_tool::exports::faber::db::migration_tool as tool;
use migration_tool::faber::db::{log, sql, types};

super::legacy::adapt_common!();
super::legacy::delegate_imports!();

adapt_variants! {
    types::HandlerError => host::HandlerError {
        InvalidRequest(why), UnsupportedProvider(provider), Sql(err), Filesystem(why),
        Conflict(why), Internal(why),
    }
}

/// A 0.1.0 handler gives no next steps; the host supplies generic ones.
impl Adapt<host::InitializeOutcome> for tool::InitializeOutcome {
    fn adapt(self) -> host::InitializeOutcome {
        host::InitializeOutcome {
            tracking_table: self.tracking_table,
            tracking_table_created: self.tracking_table_created,
            baseline_migration: self.baseline_migration,
            baseline_created: self.baseline_created,
            applied: self.applied,
            pending: self.pending,
            files_written: self.files_written,
            next_steps: Vec::new(),
        }
    }
}

super::migration_tool_calls!();
