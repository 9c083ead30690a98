//! Bindings for `faber:db@0.3.0` (`wit/v0.3.0`): both worlds, the
//! migration-tool one applying one migration per call with the handler's
//! own SQL. Its imports are served by the latest capabilities, and its
//! records converted to the host's.

use super::adapt::{Adapt, adapt_records, adapt_variants};
use crate::runtime::contract as host;
use crate::runtime::state::HandlerState;

pub mod migration_tool {
    wasmtime::component::bindgen!({
        world: "migration-tool-handler",
        path: "../wit/v0.3.0",
        imports: { default: async },
        exports: { default: async },
    });
}

pub mod cloud_provider {
    wasmtime::component::bindgen!({
        world: "cloud-provider-handler",
        path: "../wit/v0.3.0",
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
use migration_tool::faber::db::{log, sql, types};

super::legacy::adapt_common!();
super::legacy::delegate_imports!();


super::legacy::adapt_since_0_3_0!();

super::migration_tool_calls! {
    super::legacy::operations_since_0_3_0!();

    fn apply_migration<'a>(
        &'a self,
        store: &'a mut wasmtime::Store<HandlerState>,
        request: &'a host::TrackingRequest,
        name: &'a str,
    ) -> super::Call<'a, Result<host::TrackingRow, host::HandlerError>> {
        Box::pin(async move {
            let request = request.clone().adapt();
            let answer = self
                .faber_db_migration_tool()
                .call_apply_migration(store, &request, name)
                .await?;
            Ok(answer.adapt())
        })
    }
}

super::cloud_provider_calls!();

super::legacy::serve_rds!();
