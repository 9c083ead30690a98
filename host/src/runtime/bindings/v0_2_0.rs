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

super::legacy::serve_rds!();
