//! The migration operations after `initialize-schema`, as dbmate does them.
//!
//! dbmate records a version only once its up section ran (one transaction
//! where the database allows), keeps no times, checksums or failures, and
//! takes no lock of its own. So its rows are reported with one applied step
//! and no times, a failed migration leaves no row, and "rolled back" means
//! the row is deleted, as `dbmate rollback` does.

use std::cmp::Ordering;

use crate::clock;
use crate::exports::faber::db::migration_tool::{
    CreateRequest, FolderMigration, MigrationLock, Resolution, TrackingRequest, TrackingRow,
    TrackingState,
};
use crate::faber::db::sql::{SqlValue, execute, query};
use crate::faber::db::types::{HandlerError, Provider};
use crate::folder::MigrationsFolder;
use crate::migration::{self, Migration};
use crate::tracking;
use crate::tracking_table::{self, TrackingTable};

/// dbmate takes no lock, so faber-db's own runs serialize on these; a
/// concurrent `dbmate up` is not held back by them.
pub fn lock(provider: Provider) -> MigrationLock {
    match provider {
        // "dbmate" in ASCII, as a key no other tool is known to use.
        Provider::Postgresql => MigrationLock::PostgresAdvisory(0x0064_626d_6174_65),
        Provider::Mysql => MigrationLock::MysqlNamed("dbmate_migrate".to_string()),
        Provider::Sqlite => MigrationLock::None,
    }
}

pub fn read_state(request: &TrackingRequest) -> Result<TrackingState, HandlerError> {
    let table = TrackingTable::new(request.tracking_table.as_deref())?;
    let folder = MigrationsFolder::new(&request.migrations_dir);
    let migrations = migrations(&folder)?;
    let initialized = exists(request.provider, &table)?;
    let rows = if initialized {
        let mut versions: Vec<String> = tracking::recorded_versions(request.provider, &table)?
            .into_iter()
            .collect();
        versions.sort_by(|a, b| migration::compare_versions(a, b));
        versions
            .iter()
            .map(|version| applied_row(name_of(&migrations, version)))
            .collect()
    } else {
        Vec::new()
    };
    let folder = migrations
        .iter()
        .map(|m| {
            Ok(FolderMigration {
                name: m.name.clone(),
                checksum: None,
                sql: up_sql(&folder, m).unwrap_or_default(),
            })
        })
        .collect::<Result<_, HandlerError>>()?;
    Ok(TrackingState {
        tracking_table: table.name().to_string(),
        initialized,
        rows,
        folder,
    })
}

pub fn apply(request: &TrackingRequest, name: &str) -> Result<TrackingRow, HandlerError> {
    let table = TrackingTable::new(request.tracking_table.as_deref())?;
    let folder = MigrationsFolder::new(&request.migrations_dir);
    let migration = find(&folder, name)?;
    let sql = up_sql(&folder, &migration)?;
    tracking::ensure_table(request.provider, &table)?;
    if tracking::recorded_versions(request.provider, &table)?.contains(&migration.version) {
        return Err(HandlerError::Conflict(format!("{name} is already applied")));
    }
    tracking::apply(request.provider, &table, &migration, &sql)?;
    Ok(applied_row(name.to_string()))
}

pub fn resolve(
    request: &TrackingRequest,
    name: &str,
    resolution: Resolution,
) -> Result<TrackingRow, HandlerError> {
    let table = TrackingTable::new(request.tracking_table.as_deref())?;
    let folder = MigrationsFolder::new(&request.migrations_dir);
    let migration = find(&folder, name)?;
    tracking::ensure_table(request.provider, &table)?;
    let recorded =
        tracking::recorded_versions(request.provider, &table)?.contains(&migration.version);
    let version = [SqlValue::Text(migration.version.clone())];
    match (resolution, recorded) {
        (Resolution::Applied, false) => {
            execute(&table.insert_version(request.provider), &version)
                .map_err(HandlerError::Sql)?;
            Ok(applied_row(name.to_string()))
        }
        (Resolution::Applied, true) => Err(HandlerError::Conflict(format!(
            "{name} is already recorded as applied"
        ))),
        (Resolution::RolledBack, true) => {
            execute(&table.delete_version(request.provider), &version)
                .map_err(HandlerError::Sql)?;
            Ok(TrackingRow {
                applied_steps_count: 0,
                ..applied_row(name.to_string())
            })
        }
        (Resolution::RolledBack, false) => Err(HandlerError::Conflict(format!(
            "{name} cannot be rolled back because it is not applied"
        ))),
    }
}

/// `dbmate new NAME`: `<version>_<name>.sql` with both sections.
pub fn create(request: &CreateRequest) -> Result<String, HandlerError> {
    let slug = slug(&request.name);
    if slug.is_empty() {
        return Err(HandlerError::InvalidRequest(format!(
            "name: {:?} has no letters or digits to name a migration after",
            request.name
        )));
    }
    let folder = MigrationsFolder::new(&request.migrations_dir);
    let version = free_version(&migrations(&folder)?);
    let migration = Migration {
        name: format!("{version}_{slug}"),
        version,
    };
    let file = migration.file_name();
    let sql = request.sql.trim_end();
    let body = if sql.is_empty() {
        "-- migrate:up\n\n\n-- migrate:down\n\n".to_string()
    } else {
        format!("-- migrate:up\n{sql}\n\n-- migrate:down\n\n")
    };
    folder.write_atomically(&file, &body)?;
    Ok(file)
}

/// Now as a version, or the first second after it that sorts after every
/// migration of the folder: a version is a row's key, so it must be free,
/// and a new migration must run last.
fn free_version(existing: &[Migration]) -> String {
    let mut at = clock::unix_now();
    loop {
        let version = clock::version_at(at);
        if existing
            .iter()
            .all(|m| migration::compare_versions(&m.version, &version) == Ordering::Less)
        {
            return version;
        }
        at += 1;
    }
}

fn migrations(folder: &MigrationsFolder) -> Result<Vec<Migration>, HandlerError> {
    let names = folder.file_names()?;
    migration::oldest_first(names.iter().map(String::as_str))
}

fn find(folder: &MigrationsFolder, name: &str) -> Result<Migration, HandlerError> {
    migrations(folder)?
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| {
            HandlerError::InvalidRequest(format!(
                "the migrations folder has no migration {name} (a <version>_<name>.sql file)"
            ))
        })
}

fn up_sql(folder: &MigrationsFolder, migration: &Migration) -> Result<String, HandlerError> {
    let file = migration.file_name();
    let text = folder.read_text(&file)?;
    migration::up_section(&text)
        .map(str::to_string)
        .ok_or_else(|| {
            HandlerError::Conflict(format!(
                "{file} has no `-- migrate:up` line, so dbmate would not know what to apply"
            ))
        })
}

fn exists(provider: Provider, table: &TrackingTable) -> Result<bool, HandlerError> {
    let found = query(
        tracking_table::exists_query(provider),
        &[SqlValue::Text(table.name().to_string())],
    )
    .map_err(HandlerError::Sql)?;
    Ok(!found.rows.is_empty())
}

/// The folder's name for a recorded version, or the bare version when no
/// file has it any more.
fn name_of(migrations: &[Migration], version: &str) -> String {
    migrations
        .iter()
        .find(|m| migration::compare_versions(&m.version, version) == Ordering::Equal)
        .map_or_else(|| version.to_string(), |m| m.name.clone())
}

fn applied_row(name: String) -> TrackingRow {
    TrackingRow {
        name,
        checksum: None,
        started_at: None,
        finished_at: None,
        rolled_back_at: None,
        logs: None,
        applied_steps_count: 1,
    }
}

fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
    }
    slug.trim_end_matches('_').to_string()
}
