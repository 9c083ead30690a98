//! faber-db handler for dbmate.
//!
//! dbmate keeps plain `<version>_<name>.sql` files, each with a
//! `-- migrate:up` and a `-- migrate:down` section, and records the versions
//! it has applied in one table (`schema_migrations` unless configured). This
//! handler leaves the database and the folder as `dbmate up` would, so dbmate
//! takes over from here without a difference to notice.

mod clock;
mod folder;
mod initialize;
mod lifecycle;
mod migration;
mod next_steps;
mod tracking;
mod tracking_table;

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

struct DbmateHandler;

impl Guest for DbmateHandler {
    fn info() -> HandlerInfo {
        HandlerInfo {
            name: "handler-db-dbmate".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            wit_version: WIT_VERSION.to_string(),
            description: "dbmate: the schema_migrations table and a baseline <version>_init.sql"
                .to_string(),
            providers: vec![Provider::Postgresql, Provider::Mysql, Provider::Sqlite],
        }
    }

    fn initialize_schema(request: InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
        initialize::run(&request)
    }

    fn migration_lock_for(provider: Provider) -> MigrationLock {
        lifecycle::lock(provider)
    }

    fn read_state(request: TrackingRequest) -> Result<TrackingState, HandlerError> {
        lifecycle::read_state(&request)
    }

    fn apply_migration(
        request: TrackingRequest,
        name: String,
    ) -> Result<TrackingRow, HandlerError> {
        lifecycle::apply(&request, &name)
    }

    fn resolve_migration(
        request: TrackingRequest,
        name: String,
        resolution: Resolution,
    ) -> Result<TrackingRow, HandlerError> {
        lifecycle::resolve(&request, &name, resolution)
    }

    fn create_migration(request: CreateRequest) -> Result<String, HandlerError> {
        lifecycle::create(&request)
    }
}

export!(DbmateHandler);
