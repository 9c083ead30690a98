//! Bindings for `faber:db@0.3.0` (`wit/v0.3.0`, the current contract): one
//! module per world, sharing the interfaces both import (`types`, `log`).
//! The capabilities are implemented for this version (see
//! `runtime::capabilities`).

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

pub use cloud_provider::faber::db::rds;
pub use migration_tool::faber::db::types::SqlError;
pub use migration_tool::faber::db::{log, sql, types};

use cloud_provider::exports::faber::db::cloud_provider as cloud;
use migration_tool::exports::faber::db::migration_tool as tool;

super::legacy::adapt_common!();

adapt_variants! {
    types::HandlerError => host::HandlerError {
        InvalidRequest(why), UnsupportedProvider(provider), Sql(err), Filesystem(why),
        Conflict(why), Cloud(why), Internal(why),
    }
    tool::MigrationLock => host::MigrationLock { PostgresAdvisory(key), MysqlNamed(name), None }
    host::Resolution => tool::Resolution { Applied, RolledBack }
}

adapt_records! {
    tool::InitializeOutcome => host::InitializeOutcome {
        tracking_table, tracking_table_created, baseline_migration, baseline_created,
        applied, pending, files_written, next_steps,
    }
    host::TrackingRequest => tool::TrackingRequest {
        provider, database_name, migrations_dir, tracking_table,
    }
    tool::TrackingRow => host::TrackingRow {
        name, checksum, started_at, finished_at, rolled_back_at, logs, applied_steps_count,
    }
    tool::FolderMigration => host::FolderMigration { name, checksum, sql }
    tool::TrackingState => host::TrackingState { tracking_table, initialized, rows, folder }
    host::CreateRequest => tool::CreateRequest { provider, migrations_dir, name, sql }
    host::InfrastructureRequest => cloud::InfrastructureRequest {
        project, environment, hosting, provider, settings,
    }
    cloud::Infrastructure => host::Infrastructure {
        identifier, resources, status, ready, endpoint, port,
    }
}

super::migration_tool_calls! {
    fn migration_lock_for<'a>(
        &'a self,
        store: &'a mut wasmtime::Store<HandlerState>,
        provider: host::Provider,
    ) -> super::Call<'a, host::MigrationLock> {
        Box::pin(async move {
            let lock = self
                .faber_db_migration_tool()
                .call_migration_lock_for(store, provider.adapt())
                .await?;
            Ok(lock.adapt())
        })
    }

    super::request_call!(
        faber_db_migration_tool, read_state, call_read_state, host::TrackingRequest => host::TrackingState
    );

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

    fn resolve_migration<'a>(
        &'a self,
        store: &'a mut wasmtime::Store<HandlerState>,
        request: &'a host::TrackingRequest,
        name: &'a str,
        resolution: host::Resolution,
    ) -> super::Call<'a, Result<host::TrackingRow, host::HandlerError>> {
        Box::pin(async move {
            let request = request.clone().adapt();
            let answer = self
                .faber_db_migration_tool()
                .call_resolve_migration(store, &request, name, resolution.adapt())
                .await?;
            Ok(answer.adapt())
        })
    }

    super::request_call!(
        faber_db_migration_tool, create_migration, call_create_migration, host::CreateRequest => String
    );
}

super::cloud_provider_calls!();
