//! `initialize-schema`. The folder is settled before the database is touched,
//! so a lock file for another provider stops the run before any SQL runs.

use std::collections::HashSet;

use crate::dialect::{self, TRACKING_TABLE};
use crate::folder;
use crate::lock_file;
use crate::migration_sql;
use crate::next_steps::next_steps;
use crate::tracking;
use faber_db_handler::clock;
use faber_db_handler::folder::Folder;
use faber_db_handler::log::{Level, log};
use faber_db_handler::migration_tool::{InitializeOutcome, InitializeRequest};
use faber_db_handler::tracking::{Baselined, Tracking};
use faber_db_handler::types::{HandlerError, Provider};

/// Prisma's own body for a migration with nothing in it.
pub const EMPTY_MIGRATION: &str = "-- This is an empty migration.";

pub fn run(request: &InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
    check_tracking_table(request.tracking_table.as_deref())?;
    let folder = Folder::new(&request.migrations_dir);
    let lock_file_written = ensure_lock_file(&folder, request.provider)?;
    let prepared = Baselined::new(
        folder::migrations(&folder)?,
        lock_file_written.into_iter().collect(),
        || write_baseline(&folder),
    )?;
    let baseline = prepared.baseline().clone();

    let tracking_table_created = ensure_tracking_table(request)?;
    let mut recorded = tracking::applied_migrations()?;
    let applied = apply_if_unrecorded(&folder, request.provider, &baseline, &mut recorded)?;
    let provider = dialect::prisma_name(request.provider);
    let tracking = Tracking {
        table: TRACKING_TABLE.to_string(),
        created: tracking_table_created,
        applied,
    };
    Ok(prepared.outcome(
        tracking,
        |name| recorded.contains(name),
        |pending| next_steps(provider, pending),
    ))
}

fn ensure_tracking_table(request: &InitializeRequest) -> Result<bool, HandlerError> {
    let created = tracking::ensure_table(request.provider)?;
    if created {
        log(
            Level::Info,
            &format!("created {TRACKING_TABLE} in {}", request.database_name),
        );
    }
    Ok(created)
}

pub fn check_tracking_table(configured: Option<&str>) -> Result<(), HandlerError> {
    match configured {
        Some(table) if table != TRACKING_TABLE => Err(HandlerError::InvalidRequest(format!(
            "tracking-table: Prisma always records migrations in {TRACKING_TABLE} and \
             cannot use {table}; remove migrations.table or set it to {TRACKING_TABLE}"
        ))),
        _ => Ok(()),
    }
}

/// Writes the lock file unless one for the same provider is there already;
/// returns its relative path when it was written.
pub fn ensure_lock_file(
    folder: &Folder,
    provider: Provider,
) -> Result<Option<String>, HandlerError> {
    let wanted = dialect::prisma_name(provider);
    let Some(existing) = folder.read_text_if_present(lock_file::FILE_NAME)? else {
        folder.write_atomically(lock_file::FILE_NAME, &lock_file::render(wanted))?;
        return Ok(Some(lock_file::FILE_NAME.to_string()));
    };
    match lock_file::provider_of(&existing) {
        Some(found) if found == wanted => Ok(None),
        Some(found) => Err(HandlerError::Conflict(format!(
            "{} says the migrations were written for provider \"{found}\", but the \
             database is \"{wanted}\"; Prisma will not apply them to it",
            lock_file::FILE_NAME
        ))),
        None => Err(HandlerError::Conflict(format!(
            "{} exists but names no provider (expected provider = \"{wanted}\")",
            lock_file::FILE_NAME
        ))),
    }
}

/// Writes `<now>_init/migration.sql`; returns the migration name and the file.
fn write_baseline(folder: &Folder) -> Result<(String, String), HandlerError> {
    let name = format!("{}_init", clock::timestamp_now());
    let file = folder::migration_file(&name);
    folder.write_atomically(&file, EMPTY_MIGRATION)?;
    log(Level::Info, &format!("wrote baseline migration {file}"));
    Ok((name, file))
}

/// Applies the migration unless the table already records it; returns the
/// names applied, for the outcome's `applied` list.
fn apply_if_unrecorded(
    folder: &Folder,
    provider: Provider,
    migration: &str,
    recorded: &mut HashSet<String>,
) -> Result<Vec<String>, HandlerError> {
    if recorded.contains(migration) {
        log(Level::Info, &format!("{migration} is already applied"));
        return Ok(Vec::new());
    }
    let file = folder::migration_file(migration);
    let bytes = folder.read(&file)?;
    let sql = std::str::from_utf8(&bytes)
        .map_err(|e| HandlerError::Filesystem(format!("{file}: not UTF-8 text: {e}")))?;
    tracking::apply(provider, migration, sql, migration_sql::checksum(&bytes))?;
    log(Level::Info, &format!("applied and recorded {migration}"));
    recorded.insert(migration.to_string());
    Ok(vec![migration.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_prismas_table_or_none() {
        assert!(check_tracking_table(None).is_ok());
        assert!(check_tracking_table(Some("_prisma_migrations")).is_ok());
    }

    #[test]
    fn refuses_any_other_table_naming_both() {
        match check_tracking_table(Some("schema_migrations")) {
            Err(HandlerError::InvalidRequest(message)) => {
                assert!(message.contains("schema_migrations"), "{message}");
                assert!(message.contains(TRACKING_TABLE), "{message}");
            }
            other => panic!("expected invalid-request, got {other:?}"),
        }
    }
}
