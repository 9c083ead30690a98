//! `read-state` and `apply-migrations`: what `prisma migrate deploy` reads,
//! and how it applies and records each migration.
//!
//! Prisma's sequence for each migration, kept here step for step so that
//! Prisma's own commands read the result as theirs: insert the row as
//! started (checksum, `started_at`; `finished_at` empty, no step counted),
//! run the script, then count the step and set `finished_at`; on failure,
//! write the error into `logs` and leave the row unfinished, which blocks
//! every later deploy (P3009) until the migration is resolved. The script
//! is the migration's `migration.sql`, which the host runs from the folder
//! (`migration-script`) as Prisma's engine sends it, whole, with the rows
//! around it (its `bookkeeping`); the failure's `logs` are written here,
//! on `sql`.

use crate::dialect::{self, TRACKING_TABLE};
use crate::folder;
use crate::history;
use crate::initialize::check_tracking_table;
use crate::tracking;
use faber_db_handler::folder::Folder;
use faber_db_handler::log::{Level, log};
use faber_db_handler::migration_script::{
    self, Bookkeeping, Cell, ColumnValue, RowChange, RowUpdate, Script,
};
use faber_db_handler::migration_tool::{ApplyFailure, TrackingRequest, TrackingRow, TrackingState};
use faber_db_handler::sql::{SqlValue, execute, query};
use faber_db_handler::tracking::{MigrationFailure, apply_each};
use faber_db_handler::types::{HandlerError, Provider, SqlError};

pub fn read_state(request: &TrackingRequest) -> Result<TrackingState, HandlerError> {
    check_tracking_table(request.tracking_table.as_deref())?;
    let folder = Folder::new(&request.migrations_dir);
    let initialized = history::initialized(request.provider)?;
    let rows = if initialized {
        history::rows(request.provider)?
            .into_iter()
            .map(|r| r.row)
            .collect()
    } else {
        Vec::new()
    };
    Ok(TrackingState {
        tracking_table: TRACKING_TABLE.to_string(),
        initialized,
        rows,
        folder: history::folder(&folder)?,
    })
}

/// `apply-migrations`: each of `names` in turn, as `migrate deploy`
/// applies it, stopping at the first that fails.
pub fn apply_all(
    request: &TrackingRequest,
    names: Vec<String>,
) -> Result<Vec<TrackingRow>, ApplyFailure> {
    check_tracking_table(request.tracking_table.as_deref())?;
    let folder = Folder::new(&request.migrations_dir);
    apply_each(names, |name| apply(request.provider, &folder, name))
}

fn apply(provider: Provider, folder: &Folder, name: &str) -> Result<TrackingRow, MigrationFailure> {
    // The checksum is of the bytes read here; the host reads the same file
    // to run it, and the folder is read-only during the call.
    let (_, checksum) = history::script(folder, name)?;
    initialize(provider)?;
    refuse_what_deploy_refuses(provider, name)?;

    let id = tracking::new_record_id()?;
    // A comment-only script (Prisma's empty migration) sends nothing, and
    // still counts as a step, as under Prisma.
    let script = Script {
        path: folder::migration_file(name),
        after_line: None,
        before_line: None,
        in_transaction: false,
        bookkeeping: Some(bookkeeping(&id, checksum, name)),
    };
    if let Err(error) = migration_script::run(&script) {
        record_failure(provider, name, &id, &error);
        return Err(MigrationFailure::Script(HandlerError::Sql(error)));
    }
    log(Level::Info, &format!("applied and recorded {name}"));
    Ok(history::row_by_id(provider, &id)?)
}

/// Prisma's rows for a migration: inserted as started (`finished_at`
/// empty, no step counted), then, once the script ran, its one step counted
/// and `finished_at` set. The host writes them with the script, in one
/// transaction where the database allows, so a killed run leaves either
/// both the schema change and the finished row, or neither.
fn bookkeeping(id: &str, checksum: String, name: &str) -> Bookkeeping {
    let text = |column: &str, value: String| ColumnValue {
        column: column.to_string(),
        value: Cell::Text(value),
    };
    let now = |column: &str| ColumnValue {
        column: column.to_string(),
        value: Cell::Now,
    };
    Bookkeeping {
        before: vec![RowChange::Insert(vec![
            text("id", id.to_string()),
            text("checksum", checksum),
            now("started_at"),
            text("migration_name", name.to_string()),
        ])],
        after: vec![RowChange::Update(RowUpdate {
            set: vec![
                ColumnValue {
                    column: "applied_steps_count".to_string(),
                    value: Cell::Integer(1),
                },
                now("finished_at"),
            ],
            key: vec![text("id", id.to_string())],
        })],
    }
}

/// Writes the failure into the row's `logs`, as Prisma does. The row,
/// unfinished, already marks the migration failed; should writing `logs`
/// fail too, that is logged, and the script's error stays the one reported.
fn record_failure(provider: Provider, name: &str, id: &str, error: &SqlError) {
    log(Level::Error, &format!("{name} failed: {}", error.message));
    let params = [
        SqlValue::Text(failure_logs(name, error)),
        SqlValue::Text(id.to_string()),
    ];
    if let Err(logs) = execute(&dialect::record_failed(provider), &params) {
        log(
            Level::Warn,
            &format!(
                "{name}: writing the failure into {TRACKING_TABLE}.logs failed too: {}",
                logs.message
            ),
        );
    }
}

/// What `migrate deploy` does with a database before it applies anything:
/// creates the tracking table on an empty database, and refuses one that
/// has tables but no history (it must be baselined first: P3005).
fn initialize(provider: Provider) -> Result<(), HandlerError> {
    if history::initialized(provider)? {
        return Ok(());
    }
    let tables = query(dialect::user_tables(provider), &[])?;
    if let Some(table) = tables.rows.first().and_then(|row| row.first()) {
        return Err(HandlerError::Conflict(format!(
            "the database schema is not empty (it has {table:?} and more) but has no \
             {TRACKING_TABLE}: Prisma refuses to deploy to it (P3005); baseline it by \
             resolving the migrations it already contains as applied"
        )));
    }
    tracking::ensure_table(provider)?;
    Ok(())
}

/// Deploy stops at an unresolved failure (P3009), and never applies a
/// migration twice.
fn refuse_what_deploy_refuses(provider: Provider, name: &str) -> Result<(), HandlerError> {
    let rows = history::rows_blocking(provider, name)?;
    if let Some(failed) = rows
        .iter()
        .find(|r| r.row.finished_at.is_none() && r.row.rolled_back_at.is_none())
    {
        return Err(HandlerError::Conflict(format!(
            "migration {} failed and is not resolved (P3009); resolve it before applying {name}",
            failed.row.name
        )));
    }
    if rows
        .iter()
        .any(|r| r.row.name == name && r.row.rolled_back_at.is_none())
    {
        return Err(HandlerError::Conflict(format!("{name} is already applied")));
    }
    Ok(())
}

/// The `logs` Prisma writes for a failed migration: the migration and the
/// database's error, with its code.
fn failure_logs(name: &str, error: &SqlError) -> String {
    let code = error.code.as_deref().unwrap_or("unknown");
    format!(
        "Migration name: {name}\n\nDatabase error code: {code}\n\nDatabase error:\n{}\n",
        error.message
    )
}
