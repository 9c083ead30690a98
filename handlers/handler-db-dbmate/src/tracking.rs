//! The tracking table in the database, through the host's `sql` interface.

use std::collections::HashSet;

use crate::migration::Migration;
use crate::tracking_table::TrackingTable;
use faber_db_handler::dialect::create_unless_exists;
use faber_db_handler::script::has_statements;
use faber_db_handler::sql::{SqlValue, execute, query};
use faber_db_handler::tracking::in_transaction;
use faber_db_handler::types::{HandlerError, Provider};

/// Creates the table unless it exists; true when this call created it.
/// `IF NOT EXISTS` stays in the DDL, as dbmate has it, in case another run
/// creates the table between the check and the statement.
pub fn ensure_table(provider: Provider, table: &TrackingTable) -> Result<bool, HandlerError> {
    create_unless_exists(provider, table.name(), &table.create(provider))
}

/// The versions the table records as applied.
pub fn recorded_versions(
    provider: Provider,
    table: &TrackingTable,
) -> Result<HashSet<String>, HandlerError> {
    let result = query(&table.select_versions(provider), &[])?;
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

/// Whether the table records `version` as applied.
pub fn is_recorded(
    provider: Provider,
    table: &TrackingTable,
    version: &str,
) -> Result<bool, HandlerError> {
    let result = query(
        &table.select_version(provider),
        &[SqlValue::Text(version.to_owned())],
    )?;
    Ok(!result.rows.is_empty())
}

/// Runs the migration's up section and records its version in one
/// transaction, so that a version is never recorded without its SQL having
/// run (`initialize-schema`'s baseline, which runs on `sql`).
pub fn apply(
    provider: Provider,
    table: &TrackingTable,
    migration: &Migration,
    up_sql: &str,
) -> Result<(), HandlerError> {
    in_transaction(&migration.name, || {
        run_and_record(provider, table, migration, up_sql)
    })
}

fn run_and_record(
    provider: Provider,
    table: &TrackingTable,
    migration: &Migration,
    up_sql: &str,
) -> Result<(), HandlerError> {
    if has_statements(up_sql) {
        execute(up_sql, &[])?;
    }
    record(provider, table, migration)
}

/// Records the migration's version as applied.
pub fn record(
    provider: Provider,
    table: &TrackingTable,
    migration: &Migration,
) -> Result<(), HandlerError> {
    execute(
        &table.insert_version(provider),
        &[SqlValue::Text(migration.version.clone())],
    )?;
    Ok(())
}
