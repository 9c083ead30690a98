//! What the contract versions share, as macros each bindings module invokes
//! with its own generated modules in scope (`types`, `tool` for the
//! migration-tool interface, `log`, `sql`, `rds`): the conversions of the
//! records that never changed, the `rds` import every version serves alike,
//! and, for older versions, the capabilities they import implemented by
//! delegating to the latest ones.

/// The records every version has in the same shape.
macro_rules! adapt_common {
    () => {
        adapt_variants! {
            types::Provider => host::Provider { Postgresql, Mysql, Sqlite }
            host::Provider => types::Provider { Postgresql, Mysql, Sqlite }
        }

        adapt_records! {
            types::HandlerInfo => host::HandlerInfo {
                name, version, wit_version, description, providers,
            }
            types::SqlError => host::SqlError { code, message }
            host::InitializeRequest => tool::InitializeRequest {
                provider, database_name, migrations_dir, tracking_table,
            }
        }
    };
}

/// An older version's `types`, `log` and `sql` imports, served by the latest
/// capabilities: its records converted to the latest ones and back.
macro_rules! delegate_imports {
    () => {
        impl types::Host for HandlerState {}

        impl log::Host for HandlerState {
            async fn log(&mut self, level: log::Level, message: String) {
                super::latest::log::Host::log(self, level.adapt(), message).await;
            }
        }

        impl sql::Host for HandlerState {
            async fn execute(
                &mut self,
                statement: String,
                params: Vec<sql::SqlValue>,
            ) -> Result<u64, types::SqlError> {
                super::latest::sql::Host::execute(self, statement, params.adapt())
                    .await
                    .adapt()
            }

            async fn query(
                &mut self,
                statement: String,
                params: Vec<sql::SqlValue>,
            ) -> Result<sql::QueryResult, types::SqlError> {
                super::latest::sql::Host::query(self, statement, params.adapt())
                    .await
                    .adapt()
            }
        }

        adapt_variants! {
            log::Level => super::latest::log::Level { Debug, Info, Warn, Error }
            sql::SqlValue => super::latest::sql::SqlValue {
                Null, Boolean(v), Integer(v), Real(v), Text(v), Blob(v),
            }
            super::latest::sql::SqlValue => sql::SqlValue {
                Null, Boolean(v), Integer(v), Real(v), Text(v), Blob(v),
            }
        }

        adapt_records! {
            super::latest::sql::QueryResult => sql::QueryResult { columns, rows }
            super::latest::SqlError => types::SqlError { code, message }
        }
    };
}

/// A version's `rds` import (the same since 0.2.0), served by the call's
/// [`RdsAccess`](crate::runtime::rds::RdsAccess): its records converted to
/// the host's and back.
macro_rules! serve_rds {
    () => {
        /// `$access` called on the granted access, or the refusal a call
        /// without one gets, in this version's records.
        macro_rules! on_access {
            ($state:expr, $access:ident => $call:expr) => {
                match $state.rds() {
                    Ok($access) => $call.await.adapt(),
                    Err(refused) => Err(refused.adapt()),
                }
            };
        }

        impl rds::Host for HandlerState {
            async fn describe_db_cluster(
                &mut self,
                identifier: String,
            ) -> Result<Option<rds::DbCluster>, rds::RdsError> {
                on_access!(self, access => access.describe_cluster(&identifier))
            }

            async fn describe_db_instance(
                &mut self,
                identifier: String,
            ) -> Result<Option<rds::DbInstance>, rds::RdsError> {
                on_access!(self, access => access.describe_instance(&identifier))
            }

            async fn create_db_cluster(
                &mut self,
                request: rds::CreateCluster,
            ) -> Result<rds::DbCluster, rds::RdsError> {
                on_access!(self, access => access.create_cluster(request.adapt()))
            }

            async fn create_db_instance(
                &mut self,
                request: rds::CreateInstance,
            ) -> Result<rds::DbInstance, rds::RdsError> {
                on_access!(self, access => access.create_instance(request.adapt()))
            }
        }

        adapt_records! {
            rds::Tag => host::Tag { key, value }
            host::Tag => rds::Tag { key, value }
            rds::CreateCluster => host::CreateCluster {
                identifier, engine, engine_version, database_name, master_username, port, tags,
            }
            rds::CreateInstance => host::CreateInstance {
                identifier, engine, engine_version, instance_class, port, cluster_identifier,
                allocated_storage_gib, master_username, database_name, tags,
            }
            host::DbCluster => rds::DbCluster {
                identifier, status, engine, engine_version, endpoint, port, tags,
            }
            host::DbInstance => rds::DbInstance {
                identifier, status, engine, engine_version, instance_class, cluster_identifier,
                endpoint, port, tags,
            }
        }

        adapt_variants! {
            host::RdsError => rds::RdsError {
                AlreadyExists(why), AccessDenied(why), InvalidRequest(why), Service(why),
            }
        }
    };
}

/// The conversions of the migration-tool records every version since 0.3.0
/// has in the same shape, and of the cloud-provider ones.
macro_rules! adapt_since_0_3_0 {
    () => {
        adapt_variants! {
            types::HandlerError => host::HandlerError {
                InvalidRequest(why), UnsupportedProvider(provider), Sql(err), Filesystem(why),
                Conflict(why), Cloud(why), Internal(why),
            }
            tool::MigrationLock => host::MigrationLock {
                PostgresAdvisory(key), MysqlNamed(name), None
            }
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
                name, checksum, started_at, finished_at, rolled_back_at, logs,
                applied_steps_count,
            }
            tool::FolderMigration => host::FolderMigration { name, checksum, sql }
            tool::TrackingState => host::TrackingState {
                tracking_table, initialized, rows, folder,
            }
            host::CreateRequest => tool::CreateRequest { provider, migrations_dir, name, sql }
            host::InfrastructureRequest => cloud::InfrastructureRequest {
                project, environment, hosting, provider, settings,
            }
            cloud::Infrastructure => host::Infrastructure {
                identifier, resources, status, ready, endpoint, port,
            }
        }
    };
}

/// The migration operations every version since 0.3.0 has in the same
/// shape, for a version's `MigrationToolCalls` implementation.
macro_rules! operations_since_0_3_0 {
    () => {
        fn migration_lock_for<'a>(
            &'a self,
            store: &'a mut wasmtime::Store<HandlerState>,
            provider: host::Provider,
        ) -> $crate::runtime::bindings::Call<'a, host::MigrationLock> {
            Box::pin(async move {
                let lock = self
                    .faber_db_migration_tool()
                    .call_migration_lock_for(store, provider.adapt())
                    .await?;
                Ok(lock.adapt())
            })
        }

        $crate::runtime::bindings::request_call!(
            faber_db_migration_tool, read_state, call_read_state, host::TrackingRequest => host::TrackingState
        );

        fn resolve_migration<'a>(
            &'a self,
            store: &'a mut wasmtime::Store<HandlerState>,
            request: &'a host::TrackingRequest,
            name: &'a str,
            resolution: host::Resolution,
        ) -> $crate::runtime::bindings::Call<'a, Result<host::TrackingRow, host::HandlerError>> {
            Box::pin(async move {
                let request = request.clone().adapt();
                let answer = self
                    .faber_db_migration_tool()
                    .call_resolve_migration(store, &request, name, resolution.adapt())
                    .await?;
                Ok(answer.adapt())
            })
        }

        $crate::runtime::bindings::request_call!(
            faber_db_migration_tool, create_migration, call_create_migration, host::CreateRequest => String
        );
    };
}

/// The conversions of the records 0.4.0 brought, the same since.
macro_rules! adapt_since_0_4_0 {
    () => {
        adapt_records! {
            tool::ApplyFailure => host::ApplyFailure { applied, failed, error }
        }

        adapt_variants! {
            tool::MigrationForm => host::MigrationForm { SqlFiles, Code }
        }
    };
}

/// The migration operations 0.4.0 brought, the same since.
macro_rules! operations_since_0_4_0 {
    () => {
        fn migration_form_for<'a>(
            &'a self,
            store: &'a mut wasmtime::Store<HandlerState>,
            provider: host::Provider,
        ) -> $crate::runtime::bindings::Call<'a, host::MigrationForm> {
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
        ) -> $crate::runtime::bindings::Call<'a, String> {
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
        ) -> $crate::runtime::bindings::Call<'a, Result<Vec<host::TrackingRow>, host::ApplyFailure>>
        {
            Box::pin(async move {
                let request = request.clone().adapt();
                let answer = self
                    .faber_db_migration_tool()
                    .call_apply_migrations(store, &request, names)
                    .await?;
                Ok(answer.adapt())
            })
        }
    };
}

/// The conversions of the records 0.6.0 brought.
macro_rules! adapt_since_0_6_0 {
    () => {
        adapt_records! {
            host::ProjectFile => tool::ProjectFile { path, entry }
            tool::ProjectSettings => host::ProjectSettings {
                tool_name, read_from, provider, migrations_directory, tracking_table,
                url_variable, next_steps, details,
            }
        }

        adapt_variants! {
            host::ProjectEntry => tool::ProjectEntry { File(text), Folder(names), Absent }
            tool::ProjectReading => host::ProjectReading { Read(paths), Settings(settings) }
        }
    };
}

/// The migration operation 0.6.0 brought.
macro_rules! operations_since_0_6_0 {
    () => {
        fn read_project<'a>(
            &'a self,
            store: &'a mut wasmtime::Store<HandlerState>,
            files: &'a [host::ProjectFile],
        ) -> $crate::runtime::bindings::Call<'a, host::ProjectReading> {
            Box::pin(async move {
                let files: Vec<tool::ProjectFile> = files.to_vec().adapt();
                let reading = self
                    .faber_db_migration_tool()
                    .call_read_project(store, &files)
                    .await?;
                Ok(reading.adapt())
            })
        }
    };
}

pub(super) use {
    adapt_common, adapt_since_0_3_0, adapt_since_0_4_0, adapt_since_0_6_0, delegate_imports,
    operations_since_0_3_0, operations_since_0_4_0, operations_since_0_6_0, serve_rds,
};
