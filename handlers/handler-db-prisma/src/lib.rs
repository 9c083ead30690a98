//! faber-db handler for Prisma Migrate.
//!
//! It leaves a database and a migrations folder in exactly the state `prisma
//! migrate` would: the `_prisma_migrations` table with Prisma's own DDL, a
//! `migration_lock.toml` naming the provider, and a baseline migration recorded
//! as applied. Prisma itself therefore takes over from here without noticing
//! that it did not do the work.

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

use faber_db_handler::migration_tool::{
    ApplyFailure, CreateRequest, InitializeOutcome, InitializeRequest, MigrationLock, Resolution,
    TrackingRequest, TrackingRow, TrackingState,
};
use faber_db_handler::tracking::tool_lock;
use faber_db_handler::types::{HandlerError, Provider};
use faber_db_handler::{ALL_PROVIDERS, MigrationTool, export_migration_tool};

struct PrismaHandler;

impl MigrationTool for PrismaHandler {
    const NAME: &'static str = "handler-db-prisma";
    const DESCRIPTION: &'static str =
        "Prisma Migrate: _prisma_migrations, migration_lock.toml and a baseline migration";
    const PROVIDERS: &'static [Provider] = ALL_PROVIDERS;
    const TOOL_NAME: &'static str = "Prisma";
    const MIGRATIONS_DIRECTORY: &'static str = "prisma/migrations";

    fn migration_lock_for(provider: Provider) -> MigrationLock {
        tool_lock(
            provider,
            dialect::POSTGRES_LOCK_KEY,
            dialect::MYSQL_LOCK_NAME,
        )
    }

    fn initialize_schema(request: InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
        initialize::run(&request)
    }

    /// Prisma's own table, whatever is configured: another name is refused
    /// by every call that uses the table (see
    /// [`initialize::check_tracking_table`]).
    fn tracking_table_for(_request: TrackingRequest) -> String {
        dialect::TRACKING_TABLE.to_string()
    }

    fn read_state(request: TrackingRequest) -> Result<TrackingState, HandlerError> {
        deploy::read_state(&request)
    }

    fn apply_migrations(
        request: TrackingRequest,
        names: Vec<String>,
    ) -> Result<Vec<TrackingRow>, ApplyFailure> {
        deploy::apply_all(&request, names)
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

export_migration_tool!(PrismaHandler);
