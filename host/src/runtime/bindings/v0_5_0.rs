//! Bindings for `faber:db@0.5.0` (`wit/v0.5.0`): both worlds, the
//! migration-tool one without `read-project`. Its imports are served by the
//! latest capabilities, its records converted to the host's.

use super::adapt::{Adapt, adapt_records, adapt_variants};
use crate::runtime::contract as host;
use crate::runtime::state::HandlerState;

pub mod migration_tool {
    wasmtime::component::bindgen!({
        world: "migration-tool-handler",
        path: "../wit/v0.5.0",
        imports: { default: async },
        exports: { default: async },
    });
}

pub mod cloud_provider {
    wasmtime::component::bindgen!({
        world: "cloud-provider-handler",
        path: "../wit/v0.5.0",
        imports: { default: async },
        exports: { default: async },
        with: {
            "faber:db/types": super::migration_tool::faber::db::types,
            "faber:db/log": super::migration_tool::faber::db::log,
        },
    });
}

use cloud_provider::exports::faber::db::cloud_provider as cloud;
use cloud_provider::faber::db::rds;
use migration_tool::exports::faber::db::migration_tool as tool;
use migration_tool::faber::db::{log, migration_script, sql, types};

super::legacy::adapt_common!();
super::legacy::delegate_imports!();
super::legacy::adapt_since_0_3_0!();
super::legacy::adapt_since_0_4_0!();

/// The script and its bookkeeping have kept their shape since 0.5.0.
impl migration_script::Host for HandlerState {
    async fn run(&mut self, script: migration_script::Script) -> Result<u64, types::SqlError> {
        super::latest::migration_script::Host::run(self, script.adapt())
            .await
            .adapt()
    }
}

adapt_records! {
    migration_script::Script => super::latest::migration_script::Script {
        path, after_line, before_line, in_transaction, bookkeeping,
    }
    migration_script::Bookkeeping => super::latest::migration_script::Bookkeeping { before, after }
    migration_script::ColumnValue => super::latest::migration_script::ColumnValue { column, value }
    migration_script::RowUpdate => super::latest::migration_script::RowUpdate { set, key }
}

adapt_variants! {
    migration_script::Cell => super::latest::migration_script::Cell {
        Null, Text(v), Integer(v), Now,
    }
    migration_script::RowChange => super::latest::migration_script::RowChange {
        Insert(v), Update(v),
    }
}

super::migration_tool_calls! {
    super::legacy::operations_since_0_3_0!();
    super::legacy::operations_since_0_4_0!();
}

super::cloud_provider_calls!();

super::legacy::serve_rds!();
