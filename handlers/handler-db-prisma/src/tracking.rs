//! The `_prisma_migrations` table: creating it and recording migrations in it,
//! through the host's `sql` interface.

use std::collections::HashSet;

use crate::dialect::{self, TRACKING_TABLE};
use faber_db_handler::dialect::table_exists;
use faber_db_handler::ids::uuid_v4;
use faber_db_handler::script;
use faber_db_handler::sql::{SqlValue, execute, query};
use faber_db_handler::tracking::in_transaction;
use faber_db_handler::types::{HandlerError, Provider};

/// Creates the table unless it exists; true when this call created it.
pub fn ensure_table(provider: Provider) -> Result<bool, HandlerError> {
    if table_exists(provider, TRACKING_TABLE)? {
        return Ok(false);
    }
    execute(dialect::create_tracking_table(provider), &[])?;
    Ok(true)
}

/// Migrations that finished and were not rolled back, as Prisma judges them.
pub fn applied_migrations() -> Result<HashSet<String>, HandlerError> {
    let result = query(dialect::APPLIED_MIGRATIONS, &[])?;
    result
        .rows
        .into_iter()
        .map(|row| match row.into_iter().next() {
            Some(SqlValue::Text(name)) => Ok(name),
            other => Err(HandlerError::Internal(format!(
                "{TRACKING_TABLE}.migration_name came back as {other:?}, not text"
            ))),
        })
        .collect()
}

/// Runs a migration's SQL and records it, in one transaction where the
/// provider allows: a migration must never be recorded without having run.
pub fn apply(
    provider: Provider,
    migration: &str,
    sql: &str,
    checksum: String,
) -> Result<(), HandlerError> {
    in_transaction(migration, || {
        run_and_record(provider, migration, sql, checksum)
    })
}

fn run_and_record(
    provider: Provider,
    migration: &str,
    sql: &str,
    checksum: String,
) -> Result<(), HandlerError> {
    if script::has_statements(sql) {
        execute(sql, &[])?;
    }
    let params = [
        SqlValue::Text(new_record_id()?),
        SqlValue::Text(checksum),
        SqlValue::Text(migration.to_string()),
    ];
    execute(&dialect::record_applied(provider), &params)?;
    Ok(())
}

pub fn new_record_id() -> Result<String, HandlerError> {
    let mut bytes = [0; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| HandlerError::Internal(format!("no randomness for a record id: {e}")))?;
    Ok(uuid_v4(bytes))
}
