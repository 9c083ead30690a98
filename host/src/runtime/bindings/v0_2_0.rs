//! Bindings for `faber:db@0.2.0` (kept in `host/wit-legacy/v0.2.0`): both
//! worlds. Its imports are implemented by delegating to the latest
//! capabilities, and its records are converted to the latest ones, so the
//! rest of the host never sees this version. 0.2.0 has no migration
//! operations beyond `initialize-schema`.

use super::latest;
use crate::runtime::state::HandlerState;

pub mod migration_tool {
    wasmtime::component::bindgen!({
        world: "migration-tool-handler",
        path: "wit-legacy/v0.2.0",
        imports: { default: async },
        exports: { default: async },
    });
}

pub mod cloud_provider {
    wasmtime::component::bindgen!({
        world: "cloud-provider-handler",
        path: "wit-legacy/v0.2.0",
        imports: { default: async },
        exports: { default: async },
        with: {
            "faber:db/types": super::migration_tool::faber::db::types,
            "faber:db/log": super::migration_tool::faber::db::log,
        },
    });
}

pub use cloud_provider::{CloudProviderHandler, CloudProviderHandlerPre};
pub use migration_tool::{MigrationToolHandler, MigrationToolHandlerPre};

use cloud_provider::exports::faber::db::cloud_provider as legacy_cloud;
use cloud_provider::faber::db::rds as legacy_rds;
use migration_tool::exports::faber::db::migration_tool as legacy_tool;
use migration_tool::faber::db::{log as legacy_log, sql as legacy_sql, types as legacy_types};

pub const WIT_VERSION: &str = "0.2.0";

super::legacy::adapt_shared_imports!();

/// The outcome's shape did not change in 0.3.0.
pub fn outcome(outcome: legacy_tool::InitializeOutcome) -> latest::InitializeOutcome {
    latest::InitializeOutcome {
        tracking_table: outcome.tracking_table,
        tracking_table_created: outcome.tracking_table_created,
        baseline_migration: outcome.baseline_migration,
        baseline_created: outcome.baseline_created,
        applied: outcome.applied,
        pending: outcome.pending,
        files_written: outcome.files_written,
        next_steps: outcome.next_steps,
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
        Old::Cloud(why) => New::Cloud(why),
        Old::Internal(why) => New::Internal(why),
    }
}

pub fn infrastructure_request(
    request: &latest::InfrastructureRequest,
) -> legacy_cloud::InfrastructureRequest {
    legacy_cloud::InfrastructureRequest {
        project: request.project.clone(),
        environment: request.environment.clone(),
        hosting: request.hosting.clone(),
        provider: legacy_provider(request.provider),
        settings: request.settings.clone(),
    }
}

pub fn infrastructure(found: legacy_cloud::Infrastructure) -> latest::Infrastructure {
    latest::Infrastructure {
        identifier: found.identifier,
        resources: found.resources,
        status: found.status,
        ready: found.ready,
        endpoint: found.endpoint,
        port: found.port,
    }
}

impl legacy_rds::Host for HandlerState {
    async fn describe_db_cluster(
        &mut self,
        identifier: String,
    ) -> Result<Option<legacy_rds::DbCluster>, legacy_rds::RdsError> {
        latest::rds::Host::describe_db_cluster(self, identifier)
            .await
            .map(|found| found.map(cluster))
            .map_err(rds_error)
    }

    async fn describe_db_instance(
        &mut self,
        identifier: String,
    ) -> Result<Option<legacy_rds::DbInstance>, legacy_rds::RdsError> {
        latest::rds::Host::describe_db_instance(self, identifier)
            .await
            .map(|found| found.map(instance))
            .map_err(rds_error)
    }

    async fn create_db_cluster(
        &mut self,
        request: legacy_rds::CreateCluster,
    ) -> Result<legacy_rds::DbCluster, legacy_rds::RdsError> {
        let request = latest::rds::CreateCluster {
            identifier: request.identifier,
            engine: request.engine,
            engine_version: request.engine_version,
            database_name: request.database_name,
            master_username: request.master_username,
            port: request.port,
            tags: request.tags.into_iter().map(tag).collect(),
        };
        latest::rds::Host::create_db_cluster(self, request)
            .await
            .map(cluster)
            .map_err(rds_error)
    }

    async fn create_db_instance(
        &mut self,
        request: legacy_rds::CreateInstance,
    ) -> Result<legacy_rds::DbInstance, legacy_rds::RdsError> {
        let request = latest::rds::CreateInstance {
            identifier: request.identifier,
            engine: request.engine,
            engine_version: request.engine_version,
            instance_class: request.instance_class,
            port: request.port,
            cluster_identifier: request.cluster_identifier,
            allocated_storage_gib: request.allocated_storage_gib,
            master_username: request.master_username,
            database_name: request.database_name,
            tags: request.tags.into_iter().map(tag).collect(),
        };
        latest::rds::Host::create_db_instance(self, request)
            .await
            .map(instance)
            .map_err(rds_error)
    }
}

fn tag(tag: legacy_rds::Tag) -> latest::rds::Tag {
    latest::rds::Tag {
        key: tag.key,
        value: tag.value,
    }
}

fn legacy_tag(tag: latest::rds::Tag) -> legacy_rds::Tag {
    legacy_rds::Tag {
        key: tag.key,
        value: tag.value,
    }
}

fn cluster(cluster: latest::rds::DbCluster) -> legacy_rds::DbCluster {
    legacy_rds::DbCluster {
        identifier: cluster.identifier,
        status: cluster.status,
        engine: cluster.engine,
        engine_version: cluster.engine_version,
        endpoint: cluster.endpoint,
        port: cluster.port,
        tags: cluster.tags.into_iter().map(legacy_tag).collect(),
    }
}

fn instance(instance: latest::rds::DbInstance) -> legacy_rds::DbInstance {
    legacy_rds::DbInstance {
        identifier: instance.identifier,
        status: instance.status,
        engine: instance.engine,
        engine_version: instance.engine_version,
        instance_class: instance.instance_class,
        cluster_identifier: instance.cluster_identifier,
        endpoint: instance.endpoint,
        port: instance.port,
        tags: instance.tags.into_iter().map(legacy_tag).collect(),
    }
}

fn rds_error(error: latest::rds::RdsError) -> legacy_rds::RdsError {
    use latest::rds::RdsError as New;
    use legacy_rds::RdsError as Old;
    match error {
        New::AlreadyExists(why) => Old::AlreadyExists(why),
        New::AccessDenied(why) => Old::AccessDenied(why),
        New::InvalidRequest(why) => Old::InvalidRequest(why),
        New::Service(why) => Old::Service(why),
    }
}
