//! The handler's operations; those after `initialize-schema` (in
//! [`initialize`]) as dbmate does them.
//!
//! dbmate records a version only once its up section ran (in a transaction
//! unless the up line says `transaction:false`), keeps no times, checksums
//! or failures, and takes no lock of its own. So its rows are reported with
//! one applied step and no times, a failed migration leaves no row, and
//! "rolled back" means the row is deleted, as `dbmate rollback` does.
//!
//! `apply-migrations` has the host run the up section from the file
//! (`migration-script`, between the up and down lines as written) and then
//! records the version on `sql`: the two are on different sessions, so the
//! version is written only once the section has committed.

use std::cmp::Ordering;

use crate::DbmateHandler;
use crate::initialize;
use crate::migration::{self, Migration, UpSection};
use crate::tracking;
use crate::tracking_table::TrackingTable;
use faber_db_handler::clock;
use faber_db_handler::dialect::table_exists;
use faber_db_handler::folder::Folder;
use faber_db_handler::log::{Level, log};
use faber_db_handler::migration_script::{self, Bookkeeping, Cell, ColumnValue, RowChange, Script};
use faber_db_handler::migration_tool::{
    ApplyFailure, CreateRequest, FolderMigration, InitializeOutcome, InitializeRequest,
    MigrationLock, Resolution, TrackingRequest, TrackingRow, TrackingState,
};
use faber_db_handler::script::migration_slug;
use faber_db_handler::sql::{SqlValue, execute};
use faber_db_handler::tracking::{
    MigrationFailure, apply_each, resolve_untimed, tool_lock, untimed_applied_row,
};
use faber_db_handler::types::{HandlerError, Provider};
use faber_db_handler::{ALL_PROVIDERS, MigrationTool};

impl MigrationTool for DbmateHandler {
    const NAME: &'static str = "handler-db-dbmate";
    const DESCRIPTION: &'static str =
        "dbmate: the schema_migrations table and a baseline <version>_init.sql";
    const PROVIDERS: &'static [Provider] = ALL_PROVIDERS;
    const TOOL_NAME: &'static str = "dbmate";
    const MIGRATIONS_DIRECTORY: &'static str = "db/migrations";

    fn initialize_schema(request: InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
        initialize::run(&request)
    }

    /// dbmate takes no lock, so faber-db's own runs serialize on these; a
    /// concurrent `dbmate up` is not held back by them.
    fn migration_lock_for(provider: Provider) -> MigrationLock {
        // "dbmate" in ASCII, as a key no other tool is known to use.
        tool_lock(provider, 0x64_62_6d_61_74_65, "dbmate_migrate")
    }

    /// The configured table or dbmate's default. A name that is not a plain
    /// identifier is returned as given: every call that would use it
    /// refuses it.
    fn tracking_table_for(request: TrackingRequest) -> String {
        request
            .tracking_table
            .unwrap_or_else(|| crate::tracking_table::DEFAULT_NAME.to_string())
    }

    fn read_state(request: TrackingRequest) -> Result<TrackingState, HandlerError> {
        let table = TrackingTable::new(request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let migrations = migrations(&folder)?;
        let initialized = table_exists(request.provider, table.name())?;
        let rows = if initialized {
            let mut versions: Vec<String> = tracking::recorded_versions(request.provider, &table)?
                .into_iter()
                .collect();
            versions.sort_by(|a, b| migration::compare_versions(a, b));
            versions
                .iter()
                .map(|version| untimed_applied_row(name_of(&migrations, version)))
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

    /// `dbmate up`, for the versions named: the table first if it is
    /// missing, then each migration's up section and its version.
    fn apply_migrations(
        request: TrackingRequest,
        names: Vec<String>,
    ) -> Result<Vec<TrackingRow>, ApplyFailure> {
        let table = TrackingTable::new(request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        tracking::ensure_table(request.provider, &table)?;
        apply_each(names, |name| {
            let migration = find(&folder, name)?;
            let file = migration.file_name();
            let text = folder.read_text(&file)?;
            let section = runnable_up_section(&file, &text)?;
            if tracking::is_recorded(request.provider, &table, &migration.version)? {
                return Err(HandlerError::Conflict(format!("{name} is already applied")).into());
            }
            // dbmate inserts the version after the up section, in its
            // transaction when it has one: the host writes it so, with the
            // section, in one transaction wherever the database allows.
            let script = Script {
                path: file,
                after_line: Some(section.up_line.to_string()),
                before_line: section.down_line.map(str::to_string),
                in_transaction: section.in_transaction,
                bookkeeping: Some(Bookkeeping {
                    before: Vec::new(),
                    after: vec![RowChange::Insert(vec![ColumnValue {
                        column: "version".to_string(),
                        value: Cell::Text(migration.version.clone()),
                    }])],
                }),
            };
            if let Err(error) = migration_script::run(&script) {
                // dbmate records nothing for a failed migration.
                log(Level::Error, &format!("{name} failed: {}", error.message));
                return Err(MigrationFailure::Script(HandlerError::Sql(error)));
            }
            log(Level::Info, &format!("applied and recorded {name}"));
            Ok(untimed_applied_row(name.to_string()))
        })
    }

    fn resolve_migration(
        request: TrackingRequest,
        name: String,
        resolution: Resolution,
    ) -> Result<TrackingRow, HandlerError> {
        let table = TrackingTable::new(request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let migration = find(&folder, &name)?;
        tracking::ensure_table(request.provider, &table)?;
        let recorded = tracking::is_recorded(request.provider, &table, &migration.version)?;
        let version = [SqlValue::Text(migration.version.clone())];
        let record = || {
            execute(&table.insert_version(request.provider), &version)?;
            Ok(())
        };
        let forget = || {
            execute(&table.delete_version(request.provider), &version)?;
            Ok(())
        };
        resolve_untimed(name, resolution, recorded, record, forget)
    }

    /// `dbmate new NAME`: `<version>_<name>.sql` with both sections.
    fn create_migration(request: CreateRequest) -> Result<String, HandlerError> {
        let slug = migration_slug(&request.name)?;
        let folder = Folder::new(&request.migrations_dir);
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
}

/// Now as a version, or the first second after it that sorts after every
/// migration of the folder: a version is a row's key, so it must be free,
/// and a new migration must run last.
fn free_version(existing: &[Migration]) -> String {
    let mut at = clock::unix_now();
    loop {
        let version = clock::timestamp_at(at);
        if existing
            .iter()
            .all(|m| migration::compare_versions(&m.version, &version) == Ordering::Less)
        {
            return version;
        }
        at += 1;
    }
}

fn migrations(folder: &Folder) -> Result<Vec<Migration>, HandlerError> {
    let names = folder.file_names()?;
    migration::oldest_first(names.iter().map(String::as_str))
}

/// The migration `name` denotes, when its file is in the folder: one
/// look-up, not a listing, as the host asks for each migration in turn.
fn find(folder: &Folder, name: &str) -> Result<Migration, HandlerError> {
    Migration::from_file_name(&format!("{name}.sql"))
        .filter(|migration| !name.contains('/') && folder.is_file(&migration.file_name()))
        .ok_or_else(|| {
            HandlerError::InvalidRequest(format!(
                "the migrations folder has no migration {name} (a <version>_<name>.sql file)"
            ))
        })
}

fn up_sql(folder: &Folder, migration: &Migration) -> Result<String, HandlerError> {
    let file = migration.file_name();
    let text = folder.read_text(&file)?;
    up_section(&file, &text).map(|section| section.sql.to_string())
}

fn up_section<'a>(file: &str, text: &'a str) -> Result<UpSection<'a>, HandlerError> {
    UpSection::of(text).ok_or_else(|| {
        HandlerError::Conflict(format!(
            "{file} has no `-- migrate:up` line, so dbmate would not know what to apply"
        ))
    })
}

/// The up section, when the host finds the same one by its marker lines
/// (see [`UpSection::is_found_by_markers`]): what runs is then exactly
/// what dbmate would run.
fn runnable_up_section<'a>(file: &str, text: &'a str) -> Result<UpSection<'a>, HandlerError> {
    let section = up_section(file, text)?;
    if !section.is_found_by_markers(text) {
        let down = section
            .down_line
            .map_or(String::new(), |down| format!(" or `{down}`"));
        return Err(HandlerError::Conflict(format!(
            "{file}: another line begins like `{}`{down} without being that directive, so \
             the up section cannot be told apart from it; reword that line",
            section.up_line
        )));
    }
    Ok(section)
}

/// The folder's name for a recorded version, or the bare version when no
/// file has it any more.
fn name_of(migrations: &[Migration], version: &str) -> String {
    migrations
        .iter()
        .find(|m| migration::compare_versions(&m.version, version) == Ordering::Equal)
        .map_or_else(|| version.to_string(), |m| m.name.clone())
}
