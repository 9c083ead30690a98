//! Bindings for `faber:db@0.4.0` (`wit/v0.4.0`, the current contract): one
//! module per world, sharing the interfaces both import (`types`, `log`).
//! The capabilities are implemented for this version (see
//! `runtime::capabilities`).

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

pub use cloud_provider::faber::db::rds;
pub use migration_tool::faber::db::types::SqlError;
pub use migration_tool::faber::db::{log, migration_script, sql, types};

use cloud_provider::exports::faber::db::cloud_provider as cloud;
use migration_tool::exports::faber::db::migration_tool as tool;

super::legacy::adapt_common!();


super::legacy::adapt_since_0_3_0!();

adapt_records! {
    tool::ApplyFailure => host::ApplyFailure { applied, failed, error }
}

adapt_variants! {
    tool::MigrationForm => host::MigrationForm { SqlFiles, Code }
}

super::migration_tool_calls! {
    super::legacy::operations_since_0_3_0!();

    fn migration_form_for<'a>(
        &'a self,
        store: &'a mut wasmtime::Store<HandlerState>,
        provider: host::Provider,
    ) -> super::Call<'a, host::MigrationForm> {
        Box::pin(async move {
            let form = self
                .faber_db_migration_tool()
                .call_migration_form_for(store, provider.adapt())
                .await?;
            Ok(form.adapt())
        })
    }

    fn tracking_table_for<'a>(
        &'a self,
        store: &'a mut wasmtime::Store<HandlerState>,
        request: &'a host::TrackingRequest,
    ) -> super::Call<'a, String> {
        Box::pin(async move {
            let request = request.clone().adapt();
            self.faber_db_migration_tool()
                .call_tracking_table_for(store, &request)
                .await
        })
    }

    fn apply_migrations<'a>(
        &'a self,
        store: &'a mut wasmtime::Store<HandlerState>,
        request: &'a host::TrackingRequest,
        names: &'a [String],
    ) -> super::Call<'a, Result<Vec<host::TrackingRow>, host::ApplyFailure>> {
        Box::pin(async move {
            let request = request.clone().adapt();
            let answer = self
                .faber_db_migration_tool()
                .call_apply_migrations(store, &request, names)
                .await?;
            Ok(answer.adapt())
        })
    }
}

super::cloud_provider_calls!();
