//! Bindings for `faber:db@0.6.0` (`wit/v0.6.0`, the current contract): one
//! module per world, sharing the interfaces both import (`types`, `log`).
//! The capabilities are implemented for this version (see
//! `runtime::capabilities`), `rds` as for every version.

use super::adapt::{Adapt, adapt_records, adapt_variants};
use crate::runtime::contract as host;
use crate::runtime::state::HandlerState;

pub mod migration_tool {
    wasmtime::component::bindgen!({
        world: "migration-tool-handler",
        path: "../wit/v0.6.0",
        imports: { default: async },
        exports: { default: async },
    });
}

pub mod cloud_provider {
    wasmtime::component::bindgen!({
        world: "cloud-provider-handler",
        path: "../wit/v0.6.0",
        imports: { default: async },
        exports: { default: async },
        with: {
            "faber:db/types": super::migration_tool::faber::db::types,
            "faber:db/log": super::migration_tool::faber::db::log,
        },
    });
}

use cloud_provider::faber::db::rds;
pub use migration_tool::faber::db::types::SqlError;
pub use migration_tool::faber::db::{log, migration_script, sql, types};

use cloud_provider::exports::faber::db::cloud_provider as cloud;
use migration_tool::exports::faber::db::migration_tool as tool;

super::legacy::adapt_common!();
super::legacy::adapt_since_0_3_0!();

super::legacy::adapt_since_0_4_0!();
super::legacy::adapt_since_0_6_0!();

super::migration_tool_calls! {
    super::legacy::operations_since_0_3_0!();
    super::legacy::operations_since_0_4_0!();
    super::legacy::operations_since_0_6_0!();
}

super::legacy::serve_rds!();

super::cloud_provider_calls!();
