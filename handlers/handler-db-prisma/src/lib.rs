//! faber-db handler for Prisma Migrate.
//!
//! It leaves a database and a migrations folder in exactly the state `prisma
//! migrate` would: the `_prisma_migrations` table with Prisma's own DDL, a
//! `migration_lock.toml` naming the provider, and a baseline migration recorded
//! as applied. Prisma itself therefore takes over from here without noticing
//! that it did not do the work.

mod clock;
mod create;
mod deploy;
mod dialect;
mod folder;
mod history;
mod initialize;
mod lock_file;
mod migration_sql;
mod next_steps;
mod resolve;
mod tracking;

wit_bindgen::generate!({
    path: "../../wit",
    world: "migration-tool-handler",
});

use exports::faber::db::migration_tool::{
    CreateRequest, Guest, InitializeOutcome, InitializeRequest, MigrationLock, Resolution,
    TrackingRequest, TrackingRow, TrackingState,
};
use faber::db::types::{HandlerError, HandlerInfo, Provider};

/// The version of the WIT package in `../../wit` that this handler implements;
/// the host refuses a handler whose `info` names a version it does not support.
const WIT_VERSION: &str = "0.3.0";

struct PrismaHandler;

impl Guest for PrismaHandler {
    fn info() -> HandlerInfo {
        HandlerInfo {
            name: "handler-db-prisma".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            wit_version: WIT_VERSION.to_string(),
            description:
                "Prisma Migrate: _prisma_migrations, migration_lock.toml and a baseline migration"
                    .to_string(),
            providers: vec![Provider::Postgresql, Provider::Mysql, Provider::Sqlite],
        }
    }

    fn initialize_schema(request: InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
        initialize::run(&request)
    }

    fn migration_lock_for(provider: Provider) -> MigrationLock {
        match provider {
            Provider::Postgresql => MigrationLock::PostgresAdvisory(dialect::POSTGRES_LOCK_KEY),
            Provider::Mysql => MigrationLock::MysqlNamed(dialect::MYSQL_LOCK_NAME.to_string()),
            Provider::Sqlite => MigrationLock::None,
        }
    }

    fn read_state(request: TrackingRequest) -> Result<TrackingState, HandlerError> {
        deploy::read_state(&request)
    }

    fn apply_migration(
        request: TrackingRequest,
        name: String,
    ) -> Result<TrackingRow, HandlerError> {
        deploy::apply(&request, &name)
    }

    fn resolve_migration(
        request: TrackingRequest,
        name: String,
        resolution: Resolution,
    ) -> Result<TrackingRow, HandlerError> {
        resolve::run(&request, &name, resolution)
    }

    fn create_migration(request: CreateRequest) -> Result<String, HandlerError> {
        create::run(&request)
    }
}

export!(PrismaHandler);
