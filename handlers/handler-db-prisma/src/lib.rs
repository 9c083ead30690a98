//! faber-db handler for Prisma Migrate.
//!
//! It leaves a database and a migrations folder in exactly the state `prisma
//! migrate` would: the `_prisma_migrations` table with Prisma's own DDL, a
//! `migration_lock.toml` naming the provider, and a baseline migration recorded
//! as applied. Prisma itself therefore takes over from here without noticing
//! that it did not do the work.

mod clock;
mod dialect;
mod folder;
mod initialize;
mod lock_file;
mod migration_sql;
mod next_steps;
mod tracking;

wit_bindgen::generate!({
    path: "../../wit",
    world: "migration-tool-handler",
});

use exports::faber::db::migration_tool::{Guest, InitializeOutcome, InitializeRequest};
use faber::db::types::{HandlerError, HandlerInfo, Provider};

/// The version of the WIT package in `../../wit` that this handler implements;
/// the host refuses a handler whose `info` names a version it does not support.
const WIT_VERSION: &str = "0.2.0";

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
}

export!(PrismaHandler);
