//! The SDK for faber-db handlers written in Rust.
//!
//! A handler is a WebAssembly component (`wasm32-wasip2`) that implements one
//! world of the `faber:db` contract. With this crate an author implements a
//! trait and invokes one macro; the bindings, the contract version and the
//! helpers every handler needs come from here:
//!
//! ```ignore
//! use faber_db_handler::migration_tool::*;
//! use faber_db_handler::types::{HandlerError, Provider};
//! use faber_db_handler::{MigrationTool, export_migration_tool};
//!
//! struct Flyway;
//!
//! impl MigrationTool for Flyway {
//!     const NAME: &'static str = "handler-db-flyway";
//!     const DESCRIPTION: &'static str = "Flyway-style V1__name.sql folders";
//!     const PROVIDERS: &'static [Provider] = &[Provider::Postgresql, Provider::Sqlite];
//!     // initialize-schema, migration-lock-for, tracking-table-for, read-state,
//!     // apply-migrations, resolve-migration, create-migration
//! #   …
//! }
//!
//! export_migration_tool!(Flyway);
//! ```
//!
//! `info` is written by the export macro: the trait's name, description and
//! providers, the handler crate's own version, and [`CONTRACT_VERSION`], read
//! from the WIT package these bindings were generated from.
//!
//! Modules: [`types`], [`sql`] and [`log`] (what every world shares),
//! [`migration_tool`] and [`cloud_provider`] (each world's records),
//! [`migration_script`] (the migration world's way to run a migration's own
//! SQL) and [`rds`] (the cloud world's AWS capability); helpers in
//! [`clock`], [`folder`], [`dialect`], [`ids`], [`script`], [`tracking`],
//! [`project`] (a project's own files, for `read-project`) and
//! [`config_text`] (values in a tool's configuration text).

// The export macros expand in the handler's crate and name this crate by
// path; inside this crate that path must resolve too.
extern crate self as faber_db_handler;

#[doc(hidden)]
pub mod bindings;
pub mod clock;
pub mod config_text;
pub mod dialect;
pub mod folder;
pub mod ids;
pub mod project;
pub mod script;
pub mod tracking;

include!(concat!(env!("OUT_DIR"), "/contract.rs"));

// Each module below names what it offers, item by item: the contract's
// generated modules stay private to `bindings`, so a new WIT version adds
// to this API only where it is added here, and one that drops an item
// fails to build here, not in every handler.

/// The records of the `cloud-provider` interface.
pub mod cloud_provider {
    #[doc(hidden)]
    pub use crate::bindings::cloud::exports::faber::db::cloud_provider::Guest;
    pub use crate::bindings::cloud::exports::faber::db::cloud_provider::{
        Infrastructure, InfrastructureRequest,
    };
}

/// The narrow AWS RDS capability of the cloud world.
pub mod rds {
    pub use crate::bindings::cloud::faber::db::rds::{
        CreateCluster, CreateInstance, DbCluster, DbInstance, RdsError, Tag, create_db_cluster,
        create_db_instance, describe_db_cluster, describe_db_instance,
    };
}

/// The records of the `migration-tool` interface (requests, outcomes, rows).
pub mod migration_tool {
    #[doc(hidden)]
    pub use crate::bindings::migration::exports::faber::db::migration_tool::Guest;
    pub use crate::bindings::migration::exports::faber::db::migration_tool::{
        ApplyFailure, CreateRequest, FolderMigration, InitializeOutcome, InitializeRequest,
        MigrationForm, MigrationLock, ProjectEntry, ProjectFile, ProjectReading, ProjectSettings,
        Resolution, TrackingRequest, TrackingRow, TrackingState,
    };
}

/// Messages to the host's log, attributed to the handler.
pub mod log {
    pub use crate::bindings::migration::faber::db::log::{Level, log};
}

/// A migration's own SQL, run by the host from its file in the folder:
/// `migration_script::run(&Script { path, after_line, before_line,
/// in_transaction, bookkeeping })` names the file and the part of it, never
/// the text, and the tracking table's rows to write with it. Granted only
/// during `apply-migrations`.
pub mod migration_script {
    pub use crate::bindings::migration::faber::db::migration_script::{
        Bookkeeping, Cell, ColumnValue, RowChange, RowUpdate, Script, run,
    };
}

/// SQL on the one database the host opened for the call.
pub mod sql {
    pub use crate::bindings::migration::faber::db::sql::{QueryResult, SqlValue, execute, query};
}

/// Types shared by every world: providers, errors, `handler-info`.
pub mod types {
    pub use crate::bindings::migration::faber::db::types::{
        HandlerError, HandlerInfo, Provider, SqlError,
    };
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

use migration_tool::{
    ApplyFailure, CreateRequest, InitializeOutcome, InitializeRequest, MigrationForm,
    MigrationLock, Resolution, TrackingRequest, TrackingRow, TrackingState,
};
use types::{HandlerError, HandlerInfo, Provider};

/// Every provider, for a handler that works with all three.
pub const ALL_PROVIDERS: &[Provider] = &[Provider::Postgresql, Provider::Mysql, Provider::Sqlite];

/// A migration tool (Prisma, dbmate, …): the `migration-tool-handler` world.
/// Export the implementing type with [`export_migration_tool!`]. Each
/// operation's contract is in its doc comment in `wit/faber-db.wit`.
pub trait MigrationTool {
    /// Stable kebab-case handler name, e.g. `handler-db-flyway`.
    const NAME: &'static str;
    /// One line for humans.
    const DESCRIPTION: &'static str;
    /// The providers the handler works with.
    const PROVIDERS: &'static [Provider];

    /// Creates the tracking table, writes the tool's files and records the baseline.
    fn initialize_schema(request: InitializeRequest) -> Result<InitializeOutcome, HandlerError>;
    /// The lock the tool's own CLI takes; the host takes it, never the handler.
    fn migration_lock_for(provider: Provider) -> MigrationLock;
    /// How the tool's migrations run: SQL files, which the host runs from
    /// the folder (the default), or code the handler runs itself, on a
    /// session that may then change the schema.
    fn migration_form_for(_provider: Provider) -> MigrationForm {
        MigrationForm::SqlFiles
    }
    /// The table `read_state`, `apply_migrations` and `resolve_migration`
    /// keep their rows in: the request's `tracking_table`, or the tool's
    /// default. Touches nothing. During those calls the `sql` session may
    /// read the database and write rows of this table only (and create it,
    /// while it does not exist).
    fn tracking_table_for(request: TrackingRequest) -> String;
    /// Reads the tracking table and the folder; writes nothing.
    fn read_state(request: TrackingRequest) -> Result<TrackingState, HandlerError>;
    /// Applies `names` in order, each as the tool's deploy does: the
    /// bookkeeping on [`sql`], the migration's own SQL through
    /// [`migration_script::run`]. Stops at the first failure, returning the
    /// rows applied before it. [`tracking::apply_each`] is that loop; a
    /// [`HandlerError`] before it converts into an [`ApplyFailure`] with `?`.
    fn apply_migrations(
        request: TrackingRequest,
        names: Vec<String>,
    ) -> Result<Vec<TrackingRow>, ApplyFailure>;
    /// Marks a migration applied or rolled back, with the tool's meaning.
    fn resolve_migration(
        request: TrackingRequest,
        name: String,
        resolution: Resolution,
    ) -> Result<TrackingRow, HandlerError>;
    /// Writes a new migration; returns its path relative to the folder.
    fn create_migration(request: CreateRequest) -> Result<String, HandlerError>;

    /// The tool as its users name it (`Flyway`), for `config init`.
    const TOOL_NAME: &'static str = Self::NAME;
    /// Where the tool keeps its migrations by its own convention, relative
    /// to the project: what `config init` writes when the project's files
    /// say nothing else.
    const MIGRATIONS_DIRECTORY: &'static str = "migrations";
    /// What the tool's own files in `project` say (`None`: the project holds
    /// none of them), read as the tool reads them, without running them.
    /// Read every file through `project`: one the host has not handed over
    /// yet reads as absent, and the reading runs again once it has.
    fn read_project(_project: &project::Project) -> Option<project::Found> {
        None
    }
}

/// A cloud provider (AWS, …): the `cloud-provider-handler` world. Export the
/// implementing type with [`export_cloud_provider!`].
pub trait CloudProvider {
    /// Stable kebab-case handler name, e.g. `handler-cloud-gcp`.
    const NAME: &'static str;
    /// One line for humans.
    const DESCRIPTION: &'static str;
    /// The database engine families it can provision.
    const PROVIDERS: &'static [Provider];

    /// The `database.hosting` values it serves.
    fn hostings() -> Vec<String>;
    /// One line per resource it would create; no calls to the provider.
    fn plan(request: cloud_provider::InfrastructureRequest) -> Result<Vec<String>, HandlerError>;
    /// The environment's infrastructure, or none.
    fn find(
        request: cloud_provider::InfrastructureRequest,
    ) -> Result<Option<cloud_provider::Infrastructure>, HandlerError>;
    /// Starts creating what is missing; safe to call again.
    fn provision(
        request: cloud_provider::InfrastructureRequest,
    ) -> Result<cloud_provider::Infrastructure, HandlerError>;
    /// The current state of infrastructure being provisioned.
    fn poll(
        request: cloud_provider::InfrastructureRequest,
    ) -> Result<cloud_provider::Infrastructure, HandlerError>;
}

/// The `info` the export macros return: `version` is the handler crate's
/// own (the macro passes its `CARGO_PKG_VERSION`), `wit-version` the
/// contract these bindings were generated from.
#[doc(hidden)]
pub fn __info(name: &str, version: &str, description: &str, providers: &[Provider]) -> HandlerInfo {
    HandlerInfo {
        name: name.to_string(),
        version: version.to_string(),
        wit_version: CONTRACT_VERSION.to_string(),
        description: description.to_string(),
        providers: providers.to_vec(),
    }
}

/// Exports a [`MigrationTool`] as the component's `migration-tool` interface.
/// Invoke it once, in the handler crate, with the implementing type's name.
#[macro_export]
macro_rules! export_migration_tool {
    ($handler:ident) => {
        const _: () = {
            use $crate::migration_tool as m;
            use $crate::types as t;

            impl m::Guest for $handler {
                fn info() -> t::HandlerInfo {
                    $crate::__info(
                        <$handler as $crate::MigrationTool>::NAME,
                        env!("CARGO_PKG_VERSION"),
                        <$handler as $crate::MigrationTool>::DESCRIPTION,
                        <$handler as $crate::MigrationTool>::PROVIDERS,
                    )
                }
                fn initialize_schema(
                    request: m::InitializeRequest,
                ) -> Result<m::InitializeOutcome, t::HandlerError> {
                    <$handler as $crate::MigrationTool>::initialize_schema(request)
                }
                fn migration_lock_for(provider: t::Provider) -> m::MigrationLock {
                    <$handler as $crate::MigrationTool>::migration_lock_for(provider)
                }
                fn migration_form_for(provider: t::Provider) -> m::MigrationForm {
                    <$handler as $crate::MigrationTool>::migration_form_for(provider)
                }
                fn tracking_table_for(request: m::TrackingRequest) -> String {
                    <$handler as $crate::MigrationTool>::tracking_table_for(request)
                }
                fn read_state(
                    request: m::TrackingRequest,
                ) -> Result<m::TrackingState, t::HandlerError> {
                    <$handler as $crate::MigrationTool>::read_state(request)
                }
                fn apply_migrations(
                    request: m::TrackingRequest,
                    names: Vec<String>,
                ) -> Result<Vec<m::TrackingRow>, m::ApplyFailure> {
                    <$handler as $crate::MigrationTool>::apply_migrations(request, names)
                }
                fn resolve_migration(
                    request: m::TrackingRequest,
                    name: String,
                    resolution: m::Resolution,
                ) -> Result<m::TrackingRow, t::HandlerError> {
                    <$handler as $crate::MigrationTool>::resolve_migration(request, name, resolution)
                }
                fn create_migration(request: m::CreateRequest) -> Result<String, t::HandlerError> {
                    <$handler as $crate::MigrationTool>::create_migration(request)
                }
                fn read_project(files: Vec<m::ProjectFile>) -> m::ProjectReading {
                    $crate::project::answer(
                        files,
                        <$handler as $crate::MigrationTool>::TOOL_NAME,
                        <$handler as $crate::MigrationTool>::MIGRATIONS_DIRECTORY,
                        <$handler as $crate::MigrationTool>::read_project,
                    )
                }
            }
        };
        $crate::bindings::migration::export_migration_tool_world!(
            $handler with_types_in $crate::bindings::migration
        );
    };
}

/// Exports a [`CloudProvider`] as the component's `cloud-provider` interface.
/// Invoke it once, in the handler crate, with the implementing type's name.
#[macro_export]
macro_rules! export_cloud_provider {
    ($handler:ident) => {
        const _: () = {
            use $crate::cloud_provider as c;
            use $crate::types as t;

            impl c::Guest for $handler {
                fn info() -> t::HandlerInfo {
                    $crate::__info(
                        <$handler as $crate::CloudProvider>::NAME,
                        env!("CARGO_PKG_VERSION"),
                        <$handler as $crate::CloudProvider>::DESCRIPTION,
                        <$handler as $crate::CloudProvider>::PROVIDERS,
                    )
                }
                fn hostings() -> Vec<String> {
                    <$handler as $crate::CloudProvider>::hostings()
                }
                fn plan(request: c::InfrastructureRequest) -> Result<Vec<String>, t::HandlerError> {
                    <$handler as $crate::CloudProvider>::plan(request)
                }
                fn find(
                    request: c::InfrastructureRequest,
                ) -> Result<Option<c::Infrastructure>, t::HandlerError> {
                    <$handler as $crate::CloudProvider>::find(request)
                }
                fn provision(
                    request: c::InfrastructureRequest,
                ) -> Result<c::Infrastructure, t::HandlerError> {
                    <$handler as $crate::CloudProvider>::provision(request)
                }
                fn poll(request: c::InfrastructureRequest) -> Result<c::Infrastructure, t::HandlerError> {
                    <$handler as $crate::CloudProvider>::poll(request)
                }
            }
        };
        $crate::bindings::cloud::export_cloud_provider_world!(
            $handler with_types_in $crate::bindings::cloud
        );
    };
}
