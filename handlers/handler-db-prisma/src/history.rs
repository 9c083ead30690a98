//! The migration history as Prisma keeps it: the rows of `_prisma_migrations`
//! and the folder's migrations, read without writing anything.

use crate::dialect::{self, TRACKING_TABLE};
use crate::folder;
use crate::migration_sql;
use faber_db_handler::clock;
use faber_db_handler::dialect::{placeholder, table_exists};
use faber_db_handler::folder::Folder;
use faber_db_handler::migration_tool::{FolderMigration, TrackingRow};
use faber_db_handler::sql::{SqlValue, query};
use faber_db_handler::types::{HandlerError, Provider};

/// One row, with the id Prisma's own commands address it by.
pub struct Row {
    pub id: String,
    pub row: TrackingRow,
}

/// True when the tracking table exists.
pub fn initialized(provider: Provider) -> Result<bool, HandlerError> {
    table_exists(provider, TRACKING_TABLE)
}

/// Every row, oldest first (Prisma orders by `started_at`).
pub fn rows(provider: Provider) -> Result<Vec<Row>, HandlerError> {
    rows_matching(dialect::all_rows(provider), Vec::new())
}

/// The rows of one migration, oldest first.
pub fn rows_of(provider: Provider, name: &str) -> Result<Vec<Row>, HandlerError> {
    let condition = format!("migration_name = {}", placeholder(provider, 1));
    rows_matching(
        dialect::rows_where(provider, &condition),
        vec![SqlValue::Text(name.to_string())],
    )
}

/// The rows that stop `migrate deploy` from applying `name`: an unresolved
/// failure of any migration, or `name` itself already applied.
pub fn rows_blocking(provider: Provider, name: &str) -> Result<Vec<Row>, HandlerError> {
    let condition = format!(
        "rolled_back_at IS NULL AND (finished_at IS NULL OR migration_name = {})",
        placeholder(provider, 1)
    );
    rows_matching(
        dialect::rows_where(provider, &condition),
        vec![SqlValue::Text(name.to_string())],
    )
}

/// The row with this id, as it is now.
pub fn row_by_id(provider: Provider, id: &str) -> Result<TrackingRow, HandlerError> {
    let condition = format!("id = {}", placeholder(provider, 1));
    rows_matching(
        dialect::rows_where(provider, &condition),
        vec![SqlValue::Text(id.to_string())],
    )?
    .into_iter()
    .next()
    .map(|r| r.row)
    .ok_or_else(|| {
        HandlerError::Internal(format!(
            "the row {id} just written to {TRACKING_TABLE} is gone"
        ))
    })
}

fn rows_matching(statement: String, params: Vec<SqlValue>) -> Result<Vec<Row>, HandlerError> {
    let result = query(&statement, &params)?;
    result.rows.into_iter().map(row).collect()
}

/// The folder's migrations in Prisma's order, each with its SQL and the
/// checksum Prisma would record for it.
pub fn folder(folder: &Folder) -> Result<Vec<FolderMigration>, HandlerError> {
    folder::migrations(folder)?
        .into_iter()
        .map(|name| {
            let (sql, checksum) = script(folder, &name)?;
            Ok(FolderMigration {
                name,
                checksum: Some(checksum),
                sql,
            })
        })
        .collect()
}

/// A migration's SQL and its checksum, or `invalid-request` when the folder
/// has no such migration.
pub fn script(folder: &Folder, name: &str) -> Result<(String, String), HandlerError> {
    if !folder::has_migration(folder, name) {
        return Err(HandlerError::InvalidRequest(format!(
            "the migrations folder has no migration {name} (a directory with a migration.sql)"
        )));
    }
    let file = folder::migration_file(name);
    let bytes = folder.read(&file)?;
    let checksum = migration_sql::checksum(&bytes);
    let sql = String::from_utf8(bytes)
        .map_err(|e| HandlerError::Filesystem(format!("{file}: not UTF-8 text: {e}")))?;
    Ok((sql, checksum))
}

fn row(values: Vec<SqlValue>) -> Result<Row, HandlerError> {
    let [
        id,
        checksum,
        finished,
        name,
        logs,
        rolled_back,
        started,
        steps,
    ]: [SqlValue; 8] = values
        .try_into()
        .map_err(|_| HandlerError::Internal(format!("{TRACKING_TABLE}: expected 8 columns")))?;
    Ok(Row {
        id: text("id", id)?.unwrap_or_default(),
        row: TrackingRow {
            name: text("migration_name", name)?.unwrap_or_default(),
            checksum: text("checksum", checksum)?,
            started_at: time("started_at", started)?,
            finished_at: time("finished_at", finished)?,
            rolled_back_at: time("rolled_back_at", rolled_back)?,
            logs: text("logs", logs)?,
            applied_steps_count: match steps {
                SqlValue::Integer(n) => u32::try_from(n).unwrap_or(u32::MAX),
                SqlValue::Null => 0,
                other => return Err(unexpected("applied_steps_count", &other)),
            },
        },
    })
}

fn text(column: &str, value: SqlValue) -> Result<Option<String>, HandlerError> {
    match value {
        SqlValue::Null => Ok(None),
        SqlValue::Text(text) => Ok(Some(text)),
        other => Err(unexpected(column, &other)),
    }
}

/// A time as RFC 3339 in UTC, whichever way the provider stored it: the
/// host's capability already gives RFC 3339 for PostgreSQL and MySQL;
/// SQLite keeps what the writer wrote (`YYYY-MM-DD HH:MM:SS[.fff]` text,
/// with or without an offset, or milliseconds since the epoch).
fn time(column: &str, value: SqlValue) -> Result<Option<String>, HandlerError> {
    match value {
        SqlValue::Null => Ok(None),
        SqlValue::Integer(millis) => Ok(Some(clock::rfc3339_from_millis(millis))),
        SqlValue::Text(text) => Ok(Some(rfc3339(&text))),
        other => Err(unexpected(column, &other)),
    }
}

/// `2026-11-24 09:30:00.123` → `2026-11-24T09:30:00.123Z`; an offset, when
/// present, is kept.
pub fn rfc3339(text: &str) -> String {
    let mut out = text.trim().replacen(' ', "T", 1);
    let has_zone = out.ends_with('Z')
        || out
            .get(out.len().saturating_sub(6)..)
            .is_some_and(|tail| tail.starts_with(['+', '-']) && tail.as_bytes()[3] == b':');
    if !has_zone {
        out.push('Z');
    }
    out
}

fn unexpected(column: &str, value: &SqlValue) -> HandlerError {
    HandlerError::Internal(format!("{TRACKING_TABLE}.{column} came back as {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_times_become_rfc3339() {
        assert_eq!(rfc3339("2026-11-24 09:30:00"), "2026-11-24T09:30:00Z");
        assert_eq!(
            rfc3339("2026-11-24 09:30:00.123"),
            "2026-11-24T09:30:00.123Z"
        );
        assert_eq!(
            rfc3339("2026-11-24 09:30:00.123+00:00"),
            "2026-11-24T09:30:00.123+00:00"
        );
        assert_eq!(rfc3339("2026-11-24T09:30:00Z"), "2026-11-24T09:30:00Z");
    }
}
