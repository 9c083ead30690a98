//! The handler's operations, each as TypeORM's CLI does it.
//!
//! `typeorm migration:run` (transaction mode `all`, its default) creates the
//! `migrations` table if it is missing, then, in one transaction, runs
//! `up(queryRunner)` of every migration class whose name has no row, in
//! timestamp order, each followed by its row; a failure rolls the whole run
//! back (what a database cannot roll back, a MySQL schema change, stays, as
//! under TypeORM). A migration's SQL comes from running its code, so the
//! handler runs it (the contract's `code` form) and the host checks what
//! its session left afterwards.

use faber_db_handler::folder::Folder;
use faber_db_handler::log::{Level, log};
use faber_db_handler::migration_tool::{
    ApplyFailure, CreateRequest, FolderMigration, InitializeOutcome, InitializeRequest,
    MigrationForm, MigrationLock, Resolution, TrackingRequest, TrackingRow, TrackingState,
};
use faber_db_handler::project::{Found, Project};
use faber_db_handler::sql::execute;
use faber_db_handler::tracking::{
    Baselined, Tracking, pending_step, resolve_untimed, tool_lock, untimed_applied_row,
};
use faber_db_handler::types::{HandlerError, Provider, SqlError};
use faber_db_handler::{ALL_PROVIDERS, MigrationTool};

use crate::TypeormHandler;
use crate::migrations::Migrations;
use crate::template;
use crate::tracking_table::{Row, TrackingTable};

impl MigrationTool for TypeormHandler {
    const NAME: &'static str = "handler-db-typeorm";
    const DESCRIPTION: &'static str = "TypeORM: JavaScript migration classes run in the sandbox, \
                                       recorded in TypeORM's migrations table";
    const PROVIDERS: &'static [Provider] = ALL_PROVIDERS;
    const TOOL_NAME: &'static str = "TypeORM";

    fn read_project(project: &Project) -> Option<Found> {
        crate::project::read_project(project)
    }

    /// Creates the table as `migration:run` does before its first
    /// migration; a folder without migrations gets an empty one, as
    /// `typeorm migration:create -o migrations/Init` writes it. Nothing is
    /// applied: `migrate` does.
    fn initialize_schema(request: InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
        let provider = request.provider;
        let table = TrackingTable::new(provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let found = Migrations::load(&folder, provider)?
            .list()
            .iter()
            .map(|migration| migration.name.clone())
            .collect();
        let prepared = Baselined::new(found, Vec::new(), || {
            let file = template::write(&folder, "Init", None)?;
            log(Level::Info, &format!("wrote baseline migration {file}"));
            // The class the file holds names the migration.
            let written = Migrations::load(&folder, provider)?;
            Ok((written.list()[0].name.clone(), file))
        })?;
        let created = table.ensure()?;
        if created {
            log(
                Level::Info,
                &format!("created {} in {}", table.name(), request.database_name),
            );
        }
        let rows = table.rows()?;
        let tracking = Tracking {
            table: table.name(),
            created,
            applied: Vec::new(),
        };
        Ok(prepared.outcome(
            tracking,
            |name| rows.iter().any(|row| &row.name == name),
            |pending| pending_step(pending).into_iter().collect(),
        ))
    }

    fn migration_form_for(_provider: Provider) -> MigrationForm {
        MigrationForm::Code
    }

    /// TypeORM takes no lock, so faber-db's own runs serialize on these; a
    /// concurrent `typeorm migration:run` is not held back by them.
    fn migration_lock_for(provider: Provider) -> MigrationLock {
        // "typeorm" in ASCII, as a key no other tool is known to use.
        tool_lock(provider, 0x74_79_70_65_6f_72_6d, "typeorm_migrate")
    }

    /// The configured table or TypeORM's default. A name that is not a
    /// plain identifier is returned as given: every call that would use it
    /// refuses it.
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
        let provider = request.provider;
        let table = TrackingTable::new(provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let mut migrations = Migrations::load(&folder, provider)?;
        let initialized = table.exists()?;
        let rows = if initialized {
            table.rows()?
        } else {
            Vec::new()
        };
        let folder = (0..migrations.list().len())
            .map(|index| FolderMigration {
                name: migrations.list()[index].name.clone(),
                checksum: None,
                sql: migrations.dry_run_up(index),
            })
            .collect();
        Ok(TrackingState {
            tracking_table: table.name(),
            initialized,
            rows: rows
                .into_iter()
                .map(|row| untimed_applied_row(row.name))
                .collect(),
            folder,
        })
    }

    /// `migration:run` for the migrations named, in one transaction.
    fn apply_migrations(
        request: TrackingRequest,
        names: Vec<String>,
    ) -> Result<Vec<TrackingRow>, ApplyFailure> {
        let provider = request.provider;
        let table = TrackingTable::new(provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let mut migrations = Migrations::load(&folder, provider)?;
        table.ensure()?;
        let recorded = table.rows()?;
        let mut overriding = Vec::new();
        for name in &names {
            let migration = migrations.find(name)?;
            if recorded.iter().any(|row| &row.name == name) {
                return Err(HandlerError::Conflict(format!("{name} is already applied")).into());
            }
            if migration.overrides_transaction {
                overriding.push(format!("\"{name}\""));
            }
        }
        if !overriding.is_empty() {
            return Err(HandlerError::InvalidRequest(format!(
                "Migrations {} override the transaction mode, but the global transaction mode \
                 is \"all\"",
                overriding.join(", ")
            ))
            .into());
        }
        let mut failed = None;
        let run = in_one_transaction(provider, || {
            for name in &names {
                let timestamp = migrations.find(name)?.timestamp;
                // Named as failed until its row is in: on MySQL its schema
                // changes may already have committed.
                failed = Some(name.clone());
                migrations.up(name).map_err(|error| {
                    HandlerError::Sql(SqlError {
                        code: None,
                        message: format!("Migration \"{name}\" failed, error: {error}"),
                    })
                })?;
                table.insert(&Row {
                    timestamp,
                    name: name.clone(),
                })?;
                failed = None;
                log(Level::Info, &format!("applied and recorded {name}"));
            }
            Ok(())
        });
        match run {
            Ok(()) => Ok(names.into_iter().map(untimed_applied_row).collect()),
            Err(error) => {
                if let Some(name) = &failed {
                    log(Level::Error, &format!("{name} failed"));
                }
                // What a database could not roll back (a MySQL schema
                // change commits the rows before it) stays recorded.
                let kept = table.rows().unwrap_or_default();
                Err(ApplyFailure {
                    applied: names
                        .iter()
                        .filter(|name| kept.iter().any(|row| &row.name == *name))
                        .cloned()
                        .map(untimed_applied_row)
                        .collect(),
                    failed,
                    error,
                })
            }
        }
    }

    /// `applied` writes the row `migration:run` would have written; `rolled
    /// back` deletes it, as `migration:revert` does after `down`.
    fn resolve_migration(
        request: TrackingRequest,
        name: String,
        resolution: Resolution,
    ) -> Result<TrackingRow, HandlerError> {
        let provider = request.provider;
        let table = TrackingTable::new(provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let migrations = Migrations::load(&folder, provider)?;
        let row = Row {
            timestamp: migrations.find(&name)?.timestamp,
            name: name.clone(),
        };
        table.ensure()?;
        let recorded = table.rows()?.contains(&row);
        resolve_untimed(
            name,
            resolution,
            recorded,
            || table.insert(&row),
            || table.delete(&row),
        )
    }

    /// `typeorm migration:create -o` (`migration:generate -o`'s form when
    /// SQL is given): `<timestamp>-<Name>.js`, a CommonJS class.
    fn create_migration(request: CreateRequest) -> Result<String, HandlerError> {
        let folder = Folder::new(&request.migrations_dir);
        let sql = request.sql.trim();
        template::write(&folder, &request.name, (!sql.is_empty()).then_some(sql))
    }
}

/// TypeORM's transaction `all`: `beforeMigration` (on SQLite, foreign keys
/// off, as its SQLite drivers turn them off), then one transaction for the
/// whole run.
fn in_one_transaction(
    provider: Provider,
    work: impl FnOnce() -> Result<(), HandlerError>,
) -> Result<(), HandlerError> {
    if provider == Provider::Sqlite {
        execute("PRAGMA foreign_keys = OFF", &[])?;
    }
    let begin = match provider {
        Provider::Sqlite => "BEGIN TRANSACTION",
        Provider::Postgresql | Provider::Mysql => "START TRANSACTION",
    };
    execute(begin, &[])?;
    let outcome = work().and_then(|()| Ok(execute("COMMIT", &[]).map(drop)?));
    if outcome.is_err()
        && let Err(rollback) = execute("ROLLBACK", &[])
    {
        log(
            Level::Warn,
            &format!("rolling back the run failed too: {}", rollback.message),
        );
    }
    if provider == Provider::Sqlite {
        execute("PRAGMA foreign_keys = ON", &[])?;
    }
    outcome
}
