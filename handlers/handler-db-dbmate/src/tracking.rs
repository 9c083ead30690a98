//! The tracking table in the database, through the host's `sql` interface.

use std::collections::HashSet;

use crate::faber::db::log::{Level, log};
use crate::faber::db::sql::{SqlValue, execute, query};
use crate::faber::db::types::{HandlerError, Provider};
use crate::migration::{self, Migration};
use crate::tracking_table::{self, TrackingTable};

/// Creates the table unless it exists; true when this call created it.
/// `IF NOT EXISTS` stays in the DDL, as dbmate has it, in case another run
/// creates the table between the check and the statement.
pub fn ensure_table(provider: Provider, table: &TrackingTable) -> Result<bool, HandlerError> {
    let existing = query(
        tracking_table::exists_query(provider),
        &[SqlValue::Text(table.name().to_string())],
    )
    .map_err(HandlerError::Sql)?;
    if !existing.rows.is_empty() {
        return Ok(false);
    }
    execute(&table.create(provider), &[]).map_err(HandlerError::Sql)?;
    Ok(true)
}

/// The versions the table records as applied.
pub fn recorded_versions(
    provider: Provider,
    table: &TrackingTable,
) -> Result<HashSet<String>, HandlerError> {
    let result = query(&table.select_versions(provider), &[]).map_err(HandlerError::Sql)?;
    result
        .rows
        .into_iter()
        .map(|row| match row.into_iter().next() {
            Some(SqlValue::Text(version)) => Ok(version),
            // A table created by hand or by another tool may hold numbers.
            Some(SqlValue::Integer(version)) => Ok(version.to_string()),
            other => Err(HandlerError::Internal(format!(
                "{}.version came back as {other:?}, not text",
                table.name()
            ))),
        })
        .collect()
}

/// Runs the migration's up section and records its version in one
/// transaction, so that a version is never recorded without its SQL having
/// run. (MySQL commits DDL implicitly; there a failed record after DDL
/// leaves the DDL in place, as it would under dbmate.)
pub fn apply(
    provider: Provider,
    table: &TrackingTable,
    migration: &Migration,
    up_sql: &str,
) -> Result<(), HandlerError> {
    execute("BEGIN", &[]).map_err(HandlerError::Sql)?;
    let applied = run_and_record(provider, table, migration, up_sql);
    let finish = if applied.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let finished = execute(finish, &[]).map(drop).map_err(HandlerError::Sql);
    match (applied, finished) {
        (Ok(()), finished) => finished,
        (Err(error), Ok(())) => Err(error),
        (Err(error), Err(rollback)) => {
            // The migration's own failure is what the user must act on.
            log(
                Level::Warn,
                &format!("rolling back {} failed too: {rollback:?}", migration.name),
            );
            Err(error)
        }
    }
}

fn run_and_record(
    provider: Provider,
    table: &TrackingTable,
    migration: &Migration,
    up_sql: &str,
) -> Result<(), HandlerError> {
    if migration::has_statements(up_sql) {
        execute(up_sql, &[]).map_err(HandlerError::Sql)?;
    }
    execute(
        &table.insert_version(provider),
        &[SqlValue::Text(migration.version.clone())],
    )
    .map_err(HandlerError::Sql)?;
    Ok(())
}
