//! `initialize-schema`. The tracking table name is checked and the folder
//! settled before the database is touched, so a bad name or two migrations
//! sharing a version stop the run before any SQL runs.

use std::collections::HashSet;

use crate::migration::{self, Migration};
use crate::next_steps::next_steps;
use crate::tracking;
use crate::tracking_table::TrackingTable;
use faber_db_handler::clock;
use faber_db_handler::folder::Folder;
use faber_db_handler::log::{Level, log};
use faber_db_handler::migration_tool::{InitializeOutcome, InitializeRequest};
use faber_db_handler::tracking::{Baselined, Tracking};
use faber_db_handler::types::{HandlerError, Provider};

/// What `dbmate new` writes: both sections, nothing in them.
const EMPTY_MIGRATION: &str = "-- migrate:up\n\n-- migrate:down\n";

pub fn run(request: &InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
    let table = TrackingTable::new(request.tracking_table.as_deref())?;
    let folder = Folder::new(&request.migrations_dir);
    let file_names = folder.file_names()?;
    let found = migration::oldest_first(file_names.iter().map(String::as_str))?;
    let prepared = Baselined::new(found, Vec::new(), || {
        let baseline = write_baseline(&folder)?;
        let file = baseline.file_name();
        Ok((baseline, file))
    })?;

    let tracking_table_created = tracking::ensure_table(request.provider, &table)?;
    if tracking_table_created {
        log(
            Level::Info,
            &format!("created {} in {}", table.name(), request.database_name),
        );
    }
    let mut recorded = tracking::recorded_versions(request.provider, &table)?;
    let applied = apply_if_unrecorded(
        &folder,
        request.provider,
        &table,
        prepared.baseline(),
        &mut recorded,
    )?;
    let tracking = Tracking {
        table: table.name().to_string(),
        created: tracking_table_created,
        applied,
    };
    Ok(prepared.outcome(tracking, |m| recorded.contains(&m.version), next_steps))
}

/// Writes `<now>_init.sql`, as `dbmate new init` would.
fn write_baseline(folder: &Folder) -> Result<Migration, HandlerError> {
    let version = clock::timestamp_now();
    let baseline = Migration {
        name: format!("{version}_init"),
        version,
    };
    let file = baseline.file_name();
    folder.write_atomically(&file, EMPTY_MIGRATION)?;
    log(Level::Info, &format!("wrote baseline migration {file}"));
    Ok(baseline)
}

/// Applies the migration unless its version is recorded; returns the names
/// applied, for the outcome's `applied` list.
fn apply_if_unrecorded(
    folder: &Folder,
    provider: Provider,
    table: &TrackingTable,
    migration: &Migration,
    recorded: &mut HashSet<String>,
) -> Result<Vec<String>, HandlerError> {
    if recorded.contains(&migration.version) {
        log(
            Level::Info,
            &format!("{} is already applied", migration.name),
        );
        return Ok(Vec::new());
    }
    let file = migration.file_name();
    let text = folder.read_text(&file)?;
    let up_sql = migration::up_section(&text).ok_or_else(|| {
        HandlerError::Conflict(format!(
            "{file} has no `-- migrate:up` line, so dbmate would not know what to apply; \
             add one above the migration's SQL"
        ))
    })?;
    tracking::apply(provider, table, migration, up_sql)?;
    log(
        Level::Info,
        &format!("applied and recorded {}", migration.name),
    );
    recorded.insert(migration.version.clone());
    Ok(vec![migration.name.clone()])
}
