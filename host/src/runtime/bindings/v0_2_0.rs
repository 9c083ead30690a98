//! Bindings for `faber:db@0.2.0` (`wit/v0.2.0`): both worlds, the
//! migration-tool one with `info` and `initialize-schema` only. Its imports
//! are served by the latest capabilities, and its records converted to the
//! host's.

use super::adapt::{Adapt, adapt_records, adapt_variants};
use crate::runtime::contract as host;
use crate::runtime::state::HandlerState;

pub mod migration_tool {
    wasmtime::component::bindgen!({
        world: "migration-tool-handler",
        path: "../wit/v0.2.0",
        imports: { default: async },
        exports: { default: async },
    });
}

pub mod cloud_provider {
    wasmtime::component::bindgen!({
        world: "cloud-provider-handler",
        path: "../wit/v0.2.0",
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

adapt_variants! {
    types::HandlerError => host::HandlerError {
        InvalidRequest(why), UnsupportedProvider(provider), Sql(err), Filesystem(why),
        Conflict(why), Cloud(why), Internal(why),
    }
}

adapt_records! {
    tool::InitializeOutcome => host::InitializeOutcome {
        tracking_table, tracking_table_created, baseline_migration, baseline_created,
        applied, pending, files_written, next_steps,
    }
    host::InfrastructureRequest => cloud::InfrastructureRequest {
        project, environment, hosting, provider, settings,
    }
    cloud::Infrastructure => host::Infrastructure {
        identifier, resources, status, ready, endpoint, port,
    }
}

super::migration_tool_calls!();
super::cloud_provider_calls!();

/// The `rds` capability of 0.2.0, served by the latest one.
impl rds::Host for HandlerState {
    async fn describe_db_cluster(
        &mut self,
        identifier: String,
    ) -> Result<Option<rds::DbCluster>, rds::RdsError> {
        super::latest::rds::Host::describe_db_cluster(self, identifier)
            .await
            .adapt()
    }

    async fn describe_db_instance(
        &mut self,
        identifier: String,
    ) -> Result<Option<rds::DbInstance>, rds::RdsError> {
        super::latest::rds::Host::describe_db_instance(self, identifier)
            .await
            .adapt()
    }

    async fn create_db_cluster(
        &mut self,
        request: rds::CreateCluster,
    ) -> Result<rds::DbCluster, rds::RdsError> {
        super::latest::rds::Host::create_db_cluster(self, request.adapt())
            .await
            .adapt()
    }

    async fn create_db_instance(
        &mut self,
        request: rds::CreateInstance,
    ) -> Result<rds::DbInstance, rds::RdsError> {
        super::latest::rds::Host::create_db_instance(self, request.adapt())
            .await
            .adapt()
    }
}

adapt_records! {
    rds::Tag => super::latest::rds::Tag { key, value }
    super::latest::rds::Tag => rds::Tag { key, value }
    rds::CreateCluster => super::latest::rds::CreateCluster {
        identifier, engine, engine_version, database_name, master_username, port, tags,
    }
    rds::CreateInstance => super::latest::rds::CreateInstance {
        identifier, engine, engine_version, instance_class, port, cluster_identifier,
        allocated_storage_gib, master_username, database_name, tags,
    }
    super::latest::rds::DbCluster => rds::DbCluster {
        identifier, status, engine, engine_version, endpoint, port, tags,
    }
    super::latest::rds::DbInstance => rds::DbInstance {
        identifier, status, engine, engine_version, instance_class, cluster_identifier,
        endpoint, port, tags,
    }
}

adapt_variants! {
    super::latest::rds::RdsError => rds::RdsError {
        AlreadyExists(why), AccessDenied(why), InvalidRequest(why), Service(why),
    }
}
