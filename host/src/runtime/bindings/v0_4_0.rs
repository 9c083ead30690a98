//! Bindings for `faber:db@0.4.0` (`wit/v0.4.0`): both worlds, the
//! migration-tool one writing a migration's rows on its own `sql` session
//! apart from its script. Its imports are served by the latest
//! capabilities (a script with no bookkeeping), and its records converted
//! to the host's.

use super::adapt::{Adapt, adapt_records, adapt_variants};
use crate::runtime::contract as host;
use crate::runtime::state::HandlerState;

pub mod migration_tool {
    wasmtime::component::bindgen!({
        world: "migration-tool-handler",
        path: "../wit/v0.4.0",
        imports: { default: async },
        exports: { default: async },
    });
}

pub mod cloud_provider {
    wasmtime::component::bindgen!({
        world: "cloud-provider-handler",
        path: "../wit/v0.4.0",
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

impl migration_script::Host for HandlerState {
    async fn run(&mut self, script: migration_script::Script) -> Result<u64, types::SqlError> {
        let script = super::latest::migration_script::Script {
            path: script.path,
            after_line: script.after_line,
            before_line: script.before_line,
            in_transaction: script.in_transaction,
            bookkeeping: None,
        };
        super::latest::migration_script::Host::run(self, script)
            .await
            .adapt()
    }
}

super::migration_tool_calls! {
    super::legacy::operations_since_0_3_0!();
    super::legacy::operations_since_0_4_0!();
}

super::cloud_provider_calls!();

super::legacy::serve_rds!();
