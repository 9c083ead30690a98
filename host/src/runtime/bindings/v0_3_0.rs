//! Bindings for `faber:db@0.3.0` (the current `wit/`): one module per world, sharing the
//! interfaces both import (`types`, `log`).

pub mod migration_tool {
    wasmtime::component::bindgen!({
        world: "migration-tool-handler",
        path: "../wit",
        imports: { default: async },
        exports: { default: async },
    });
}

pub mod cloud_provider {
    wasmtime::component::bindgen!({
        world: "cloud-provider-handler",
        path: "../wit",
        imports: { default: async },
        exports: { default: async },
        with: {
            "faber:db/types": super::migration_tool::faber::db::types,
            "faber:db/log": super::migration_tool::faber::db::log,
        },
    });
}

pub use cloud_provider::CloudProviderHandler;
pub use cloud_provider::exports::faber::db::cloud_provider::{
    Infrastructure, InfrastructureRequest,
};
pub use cloud_provider::faber::db::rds;
pub use migration_tool::MigrationToolHandler;
pub use migration_tool::exports::faber::db::migration_tool::{
    CreateRequest, FolderMigration, InitializeOutcome, InitializeRequest, MigrationLock,
    Resolution, TrackingRequest, TrackingRow, TrackingState,
};
pub use migration_tool::faber::db::types::{HandlerError, HandlerInfo, Provider, SqlError};
pub use migration_tool::faber::db::{log, sql, types};

impl From<crate::config::Provider> for Provider {
    fn from(provider: crate::config::Provider) -> Provider {
        match provider {
            crate::config::Provider::Postgresql => Provider::Postgresql,
            crate::config::Provider::Mysql => Provider::Mysql,
            crate::config::Provider::Sqlite => Provider::Sqlite,
        }
    }
}

impl From<Provider> for crate::config::Provider {
    fn from(provider: Provider) -> crate::config::Provider {
        match provider {
            Provider::Postgresql => crate::config::Provider::Postgresql,
            Provider::Mysql => crate::config::Provider::Mysql,
            Provider::Sqlite => crate::config::Provider::Sqlite,
        }
    }
}

/// The package version these bindings were generated from.
pub const WIT_VERSION: &str = "0.3.0";
