//! `initialize-schema`. The tracking table name is checked and the folder
//! settled before the database is touched, so a bad name or two migrations
//! sharing a version stop the run before any SQL runs.

use std::collections::HashSet;

use crate::clock;
use crate::exports::faber::db::migration_tool::{InitializeOutcome, InitializeRequest};
use crate::faber::db::log::{Level, log};
use crate::faber::db::types::{HandlerError, Provider};
use crate::folder::MigrationsFolder;
use crate::migration::{self, Migration};
use crate::next_steps::next_steps;
use crate::tracking;
use crate::tracking_table::TrackingTable;

/// What `dbmate new` writes: both sections, nothing in them.
const EMPTY_MIGRATION: &str = "-- migrate:up\n\n-- migrate:down\n";

pub fn run(request: &InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
    let table = TrackingTable::new(request.tracking_table.as_deref())?;
    let folder = MigrationsFolder::new(&request.migrations_dir);
    let prepared = prepare_folder(&folder)?;
    // Never empty: prepare_folder writes a baseline into an empty folder.
    let baseline = &prepared.migrations[0];

    let tracking_table_created = tracking::ensure_table(request.provider, &table)?;
    if tracking_table_created {
        log(
            Level::Info,
            &format!("created {} in {}", table.name(), request.database_name),
        );
    }
    let mut recorded = tracking::recorded_versions(request.provider, &table)?;
    let applied = apply_if_unrecorded(&folder, request.provider, &table, baseline, &mut recorded)?;
    let pending: Vec<String> = prepared
        .migrations
        .iter()
        .filter(|m| !recorded.contains(&m.version))
        .map(|m| m.name.clone())
        .collect();
    let next_steps = next_steps(pending.len());

    Ok(InitializeOutcome {
        tracking_table: table.name().to_string(),
        tracking_table_created,
        baseline_migration: baseline.name.clone(),
        baseline_created: prepared.baseline_created,
        applied,
        pending,
        files_written: prepared.files_written,
        next_steps,
    })
}

/// The folder once it holds at least one migration.
struct PreparedFolder {
    /// Oldest first.
    migrations: Vec<Migration>,
    baseline_created: bool,
    files_written: Vec<String>,
}

fn prepare_folder(folder: &MigrationsFolder) -> Result<PreparedFolder, HandlerError> {
    let file_names = folder.file_names()?;
    let mut migrations = migration::oldest_first(file_names.iter().map(String::as_str))?;
    let baseline_created = migrations.is_empty();
    let mut files_written = Vec::new();
    if baseline_created {
        let baseline = write_baseline(folder)?;
        files_written.push(baseline.file_name());
        migrations.push(baseline);
    }
    Ok(PreparedFolder {
        migrations,
        baseline_created,
        files_written,
    })
}

/// Writes `<now>_init.sql`, as `dbmate new init` would.
fn write_baseline(folder: &MigrationsFolder) -> Result<Migration, HandlerError> {
    let version = clock::version_now();
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
    folder: &MigrationsFolder,
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
