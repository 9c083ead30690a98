//! The handler's operations, each as sequelize-cli does it.
//!
//! `sequelize-cli db:migrate` creates `SequelizeMeta` if it is missing, then
//! runs `up(queryInterface, Sequelize)` of every file without a row, by file
//! name, each followed by its row. There is no transaction around a
//! migration (one that wants it opens its own with
//! `queryInterface.sequelize.transaction`): a failure stops the run, and the
//! migrations before it stay applied and recorded. A migration's SQL comes
//! from running its code, so the handler runs it (the contract's `code`
//! form) and the host checks what its session left afterwards.

use faber_db_handler::folder::Folder;
use faber_db_handler::log::{Level, log};
use faber_db_handler::migration_tool::{
    ApplyFailure, CreateRequest, FolderMigration, InitializeOutcome, InitializeRequest,
    MigrationForm, MigrationLock, Resolution, TrackingRequest, TrackingRow, TrackingState,
};
use faber_db_handler::project::{Found, Project};
use faber_db_handler::tracking::{
    Baselined, MigrationFailure, Tracking, apply_each, pending_step, resolve_untimed, tool_lock,
    untimed_applied_row,
};
use faber_db_handler::types::{HandlerError, Provider, SqlError};
use faber_db_handler::{ALL_PROVIDERS, MigrationTool};

use crate::SequelizeHandler;
use crate::migrations::Migrations;
use crate::template;
use crate::tracking_table::TrackingTable;

impl MigrationTool for SequelizeHandler {
    const NAME: &'static str = "handler-db-sequelize";
    const DESCRIPTION: &'static str = "Sequelize: sequelize-cli's JavaScript migrations run in \
                                       the sandbox, recorded in its SequelizeMeta table";
    const PROVIDERS: &'static [Provider] = ALL_PROVIDERS;
    const TOOL_NAME: &'static str = "Sequelize";

    fn read_project(project: &Project) -> Option<Found> {
        crate::project::read_project(project)
    }

    /// Creates the table as `db:migrate` does before its first migration; a
    /// folder without migrations gets an empty one, as `sequelize-cli
    /// migration:generate --name init` writes it. Nothing is applied:
    /// `migrate` does.
    fn initialize_schema(request: InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
        let table = TrackingTable::new(request.provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let found = Migrations::load(&folder, request.provider)?.names();
        let prepared = Baselined::new(found, Vec::new(), || {
            let file = template::write(&folder, "init", None)?;
            log(Level::Info, &format!("wrote baseline migration {file}"));
            Ok((file.clone(), file))
        })?;
        let created = table.ensure()?;
        if created {
            log(
                Level::Info,
                &format!("created {} in {}", table.name(), request.database_name),
            );
        }
        let applied = table.names()?;
        let tracking = Tracking {
            table: table.name(),
            created,
            applied: Vec::new(),
        };
        Ok(prepared.outcome(
            tracking,
            |name| applied.contains(name),
            |pending| pending_step(pending).into_iter().collect(),
        ))
    }

    fn migration_form_for(_provider: Provider) -> MigrationForm {
        MigrationForm::Code
    }

    /// sequelize-cli takes no lock, so faber-db's own runs serialize on
    /// these; a concurrent `sequelize-cli db:migrate` is not held back by
    /// them.
    fn migration_lock_for(provider: Provider) -> MigrationLock {
        // "sequeliz" in ASCII, as a key no other tool is known to use.
        tool_lock(provider, 0x73_65_71_75_65_6c_69_7a, "sequelize_migrate")
    }

    /// The configured table or sequelize-cli's default. A name that is not
    /// a plain identifier is returned as given: every call that would use
    /// it refuses it.
    fn tracking_table_for(request: TrackingRequest) -> String {
        TrackingTable::new(request.provider, request.tracking_table.as_deref())
            .map(|table| table.name())
            .unwrap_or_else(|_| request.tracking_table.unwrap_or_default())
    }

    /// The rows, and each migration with the SQL its `up` sends when every
    /// query is answered with no rows (what `migrate --dry-run` and the
    /// lint show; a migration that reads data may send other SQL when it
    /// runs).
    fn read_state(request: TrackingRequest) -> Result<TrackingState, HandlerError> {
        let table = TrackingTable::new(request.provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let mut migrations = Migrations::load(&folder, request.provider)?;
        let initialized = table.exists()?;
        let applied = match initialized {
            true => table.names()?,
            false => Vec::new(),
        };
        let folder = migrations
            .names()
            .into_iter()
            .enumerate()
            .map(|(index, name)| FolderMigration {
                name,
                checksum: None,
                sql: migrations.dry_run_up(index),
            })
            .collect();
        Ok(TrackingState {
            tracking_table: table.name(),
            initialized,
            rows: applied.into_iter().map(untimed_applied_row).collect(),
            folder,
        })
    }

    /// `db:migrate` for the migrations named: each `up`, then its row; the
    /// first failure stops the run with the earlier ones kept.
    fn apply_migrations(
        request: TrackingRequest,
        names: Vec<String>,
    ) -> Result<Vec<TrackingRow>, ApplyFailure> {
        let table = TrackingTable::new(request.provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let mut migrations = Migrations::load(&folder, request.provider)?;
        table.ensure()?;
        let applied = table.names()?;
        for name in &names {
            migrations.check(name)?;
            if applied.contains(name) {
                return Err(HandlerError::Conflict(format!("{name} is already applied")).into());
            }
        }
        apply_each(names, |name| {
            migrations.up(name).map_err(|error| {
                log(Level::Error, &format!("{name} failed"));
                MigrationFailure::Script(HandlerError::Sql(SqlError {
                    code: None,
                    message: format!("Migration {name} failed: {error}"),
                }))
            })?;
            table.insert(name)?;
            log(Level::Info, &format!("applied and recorded {name}"));
            Ok(untimed_applied_row(name.to_owned()))
        })
    }

    /// `applied` writes the row `db:migrate` would have written; `rolled
    /// back` deletes it, as `db:migrate:undo` does after `down`.
    fn resolve_migration(
        request: TrackingRequest,
        name: String,
        resolution: Resolution,
    ) -> Result<TrackingRow, HandlerError> {
        let table = TrackingTable::new(request.provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        Migrations::load(&folder, request.provider)?.check(&name)?;
        table.ensure()?;
        let recorded = table.names()?.contains(&name);
        resolve_untimed(
            name.clone(),
            resolution,
            recorded,
            || table.insert(&name),
            || table.delete(&name),
        )
    }

    /// `sequelize-cli migration:generate --name <name>`:
    /// `<YYYYMMDDHHmmss>-<name>.js`, its skeleton, with the SQL given sent
    /// through `queryInterface.sequelize.query`.
    fn create_migration(request: CreateRequest) -> Result<String, HandlerError> {
        let folder = Folder::new(&request.migrations_dir);
        let sql = request.sql.trim();
        template::write(&folder, &request.name, (!sql.is_empty()).then_some(sql))
    }
}
