//! The handler's operations, each as Drizzle does it.
//!
//! Drizzle's migrator keeps no lock, times, failures or names: a row is a
//! file's hash and its journal time, and every journal entry generated
//! after the last row's time is pending. So a row is named here by the
//! entry with its time, reported with one applied step and no times, and
//! a failed migration leaves no row. Each migration's statements and its
//! row are committed together (the migrator commits a whole run's at once:
//! either way a failure leaves no migration half applied or applied
//! without its row where the database can roll a schema change back, and
//! the migrator reads what faber-db leaves exactly as what it leaves
//! itself).

use crate::DrizzleHandler;
use crate::journal::{self, Entry, Journal};
use crate::migration::{self, CUSTOM_MIGRATION};
use crate::next_steps::next_steps;
use crate::project;
use crate::tracking_table::{Row, TrackingTable};
use faber_db_handler::clock;
use faber_db_handler::folder::Folder;
use faber_db_handler::log::{Level, log};
use faber_db_handler::migration_script::{self, Script};
use faber_db_handler::migration_tool::{
    ApplyFailure, CreateRequest, FolderMigration, InitializeOutcome, InitializeRequest,
    MigrationForm, MigrationLock, Resolution, TrackingRequest, TrackingRow, TrackingState,
};
use faber_db_handler::project::{Found, Project};
use faber_db_handler::script::{has_statements, migration_slug};
use faber_db_handler::sql::execute;
use faber_db_handler::tracking::{
    MigrationFailure, apply_each, in_transaction, resolve_untimed, tool_lock, untimed_applied_row,
};
use faber_db_handler::types::{HandlerError, Provider, SqlError};
use faber_db_handler::{ALL_PROVIDERS, MigrationTool};

impl MigrationTool for DrizzleHandler {
    const NAME: &'static str = "handler-db-drizzle";
    const DESCRIPTION: &'static str =
        "Drizzle: drizzle-kit's migrations folder and journal, recorded as Drizzle's migrator does";
    const PROVIDERS: &'static [Provider] = ALL_PROVIDERS;
    const TOOL_NAME: &'static str = "Drizzle";
    const MIGRATIONS_DIRECTORY: &'static str = project::DEFAULT_OUT;

    fn read_project(project: &Project) -> Option<Found> {
        project::read_project(project)
    }

    /// Creates the tracking table as the migrator does before its first
    /// migration; an empty folder gets a custom migration and a journal,
    /// as `drizzle-kit generate --custom --name init` writes them. Nothing
    /// is applied: the migrator's first run applies every entry, so
    /// `migrate` does.
    fn initialize_schema(request: InitializeRequest) -> Result<InitializeOutcome, HandlerError> {
        let provider = request.provider;
        let table = TrackingTable::new(provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let mut files_written = Vec::new();
        let journal = match journal_if_any(&folder, provider)? {
            Some(journal) if !journal.entries().is_empty() => journal,
            _ => {
                let created = write_migration(&folder, provider, "init", CUSTOM_MIGRATION)?;
                log(Level::Info, &format!("wrote baseline migration {created}"));
                files_written.extend([created, journal::PATH.to_string()]);
                read_journal(&folder, provider)?
            }
        };
        let created = table.ensure()?;
        if created {
            log(
                Level::Info,
                &format!("created {} in {}", table.name(), request.database_name),
            );
        }
        let rows = table.rows()?;
        let pending: Vec<String> = journal
            .entries()
            .iter()
            .filter(|entry| !rows.iter().any(|row| row.created_at == entry.when))
            .map(|entry| entry.tag.clone())
            .collect();
        Ok(InitializeOutcome {
            tracking_table: table.name(),
            tracking_table_created: created,
            baseline_migration: journal.entries()[0].tag.clone(),
            baseline_created: !files_written.is_empty(),
            applied: Vec::new(),
            next_steps: next_steps(pending.len()),
            pending,
            files_written,
        })
    }

    /// On MySQL `-->` does not begin a comment, so a file runs only as the
    /// migrator runs it, statement by statement at the breakpoints: there
    /// the handler sends them (the contract's `code` form; a MySQL schema
    /// change commits on its own, so nothing holds a statement and its row
    /// together on either path). Elsewhere the host runs the file.
    fn migration_form_for(provider: Provider) -> MigrationForm {
        match provider {
            Provider::Mysql => MigrationForm::Code,
            Provider::Postgresql | Provider::Sqlite => MigrationForm::SqlFiles,
        }
    }

    /// Drizzle takes no lock, so faber-db's own runs serialize on these; a
    /// concurrent Drizzle migrator is not held back by them.
    fn migration_lock_for(provider: Provider) -> MigrationLock {
        // "drizzle" in ASCII, as a key no other tool is known to use.
        tool_lock(provider, 0x64_72_69_7a_7a_6c_65, "drizzle_migrate")
    }

    /// The configured table or Drizzle's default. A name that is not a
    /// plain identifier is returned as given: every call that would use it
    /// refuses it.
    fn tracking_table_for(request: TrackingRequest) -> String {
        TrackingTable::new(request.provider, request.tracking_table.as_deref())
            .map(|table| table.name())
            .unwrap_or_else(|_| request.tracking_table.unwrap_or_default())
    }

    fn read_state(request: TrackingRequest) -> Result<TrackingState, HandlerError> {
        let provider = request.provider;
        let table = TrackingTable::new(provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let journal = journal_if_any(&folder, provider)?.unwrap_or_else(|| Journal::new(provider));
        let initialized = table.exists()?;
        let rows = if initialized {
            table.rows()?
        } else {
            Vec::new()
        };
        let folder = journal
            .entries()
            .iter()
            .map(|entry| {
                let text = read_migration(&folder, entry)?;
                Ok(FolderMigration {
                    name: entry.tag.clone(),
                    checksum: Some(migration::hash(&text)),
                    sql: text,
                })
            })
            .collect::<Result<_, HandlerError>>()?;
        Ok(TrackingState {
            tracking_table: table.name(),
            initialized,
            rows: rows.iter().map(|row| tracking_row(&journal, row)).collect(),
            folder,
        })
    }

    /// The migrator's run, for the entries named: the table first if it is
    /// missing, then each migration's statements and its row. An entry
    /// generated before the last recorded one is refused: the migrator
    /// would never apply it.
    fn apply_migrations(
        request: TrackingRequest,
        names: Vec<String>,
    ) -> Result<Vec<TrackingRow>, ApplyFailure> {
        let provider = request.provider;
        let table = TrackingTable::new(provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let journal = read_journal(&folder, provider)?;
        table.ensure()?;
        let recorded = table.rows()?;
        // Read once, before the first migration, as the migrator reads it.
        let last = recorded.iter().map(|row| row.created_at).max();
        apply_each(names, |name| {
            let entry = find(&journal, name)?;
            if recorded.iter().any(|row| row.created_at == entry.when) {
                return Err(HandlerError::Conflict(format!("{name} is already applied")).into());
            }
            if let Some(last) = last.filter(|last| *last > entry.when) {
                return Err(not_after_the_last(&journal, entry, last).into());
            }
            let text = read_migration(&folder, entry)?;
            let row = Row {
                hash: migration::hash(&text),
                created_at: entry.when,
            };
            match Self::migration_form_for(provider) {
                MigrationForm::SqlFiles => run_script(&table, entry, &text, &row)?,
                MigrationForm::Code => send_statements(&table, name, &text, &row)?,
            }
            log(Level::Info, &format!("applied and recorded {name}"));
            Ok(tracking_row(&journal, &row))
        })
    }

    /// `applied` writes the row the migrator would have written; `rolled
    /// back` deletes it, for the last applied migration only: the migrator
    /// never applies one older than the last row again.
    fn resolve_migration(
        request: TrackingRequest,
        name: String,
        resolution: Resolution,
    ) -> Result<TrackingRow, HandlerError> {
        let provider = request.provider;
        let table = TrackingTable::new(provider, request.tracking_table.as_deref())?;
        let folder = Folder::new(&request.migrations_dir);
        let journal = read_journal(&folder, provider)?;
        let entry = find(&journal, &name)?;
        table.ensure()?;
        let rows = table.rows()?;
        let recorded = rows.iter().any(|row| row.created_at == entry.when);
        let record = || {
            let hash = migration::hash(&read_migration(&folder, entry)?);
            table.insert(&Row {
                hash,
                created_at: entry.when,
            })
        };
        let forget = || {
            let last = rows.iter().map(|row| row.created_at).max();
            if last != Some(entry.when) {
                return Err(HandlerError::Conflict(format!(
                    "{name} is not the last applied migration, and Drizzle's migrator \
                     applies only migrations generated after the last one it recorded: \
                     rolled back, {name} would never run again. Roll back the later \
                     migrations first"
                )));
            }
            table.delete(entry.when).map(drop)
        };
        resolve_untimed(name.clone(), resolution, recorded, record, forget)
    }

    /// `drizzle-kit generate --custom --name NAME`: the next `<idx>_<name>.sql`
    /// with the SQL given (drizzle-kit's default `prefix: "index"`), its
    /// journal entry, and a copy of the last snapshot (the schema is
    /// unchanged as far as drizzle-kit knows). Where there is no snapshot
    /// yet, none is written: drizzle-kit then diffs against an empty schema,
    /// as it would against the empty one `--custom` writes.
    fn create_migration(request: CreateRequest) -> Result<String, HandlerError> {
        let slug = migration_slug(&request.name)?;
        let folder = Folder::new(&request.migrations_dir);
        let sql = request.sql.trim_end();
        let body = if sql.is_empty() {
            CUSTOM_MIGRATION
        } else {
            sql
        };
        write_migration(&folder, request.provider, &slug, body)
    }
}

/// The file run by the host with its row, in one transaction.
fn run_script(
    table: &TrackingTable,
    entry: &Entry,
    text: &str,
    row: &Row,
) -> Result<(), MigrationFailure> {
    migration::check_statements_end(&entry.file(), text)?;
    let script = Script {
        path: entry.file(),
        after_line: None,
        before_line: None,
        in_transaction: true,
        bookkeeping: Some(table.record(row)),
    };
    migration_script::run(&script)
        .map(drop)
        .map_err(|error| failed(&entry.tag, error))
}

/// A migration's own SQL failed; the migrator records nothing for it.
fn failed(name: &str, error: SqlError) -> MigrationFailure {
    log(Level::Error, &format!("{name} failed: {}", error.message));
    MigrationFailure::Script(HandlerError::Sql(error))
}

/// The migrator's way: each statement between breakpoints, then the row,
/// in one transaction (which holds what the database lets it hold).
fn send_statements(
    table: &TrackingTable,
    name: &str,
    text: &str,
    row: &Row,
) -> Result<(), MigrationFailure> {
    let mut failed_statement = None;
    let result = in_transaction(name, || {
        for statement in text.split(migration::BREAKPOINT) {
            // A part of only comments is an empty query to MySQL.
            if has_statements(statement) {
                execute(statement, &[]).map_err(|error| {
                    failed_statement = Some(error.clone());
                    HandlerError::Sql(error)
                })?;
            }
        }
        table.insert(row)
    });
    match (result, failed_statement) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(error)) => Err(failed(name, error)),
        (Err(error), None) => Err(MigrationFailure::Other(error)),
    }
}

/// Writes the next migration, its snapshot and its journal entry (the
/// journal last: until it names the file, no tool sees the migration).
fn write_migration(
    folder: &Folder,
    provider: Provider,
    slug: &str,
    body: &str,
) -> Result<String, HandlerError> {
    let mut journal = Journal::read(folder, provider)?.unwrap_or_else(|| Journal::new(provider));
    let previous = journal.entries().last().cloned();
    let idx = previous.as_ref().map_or(0, |last| last.idx + 1);
    let entry = Entry {
        idx,
        tag: format!("{idx:04}_{slug}"),
        when: (clock::unix_now_millis() as i64)
            .max(previous.as_ref().map_or(0, |last| last.when + 1)),
    };
    let file = entry.file();
    if folder.is_file(&file) {
        return Err(HandlerError::Conflict(format!(
            "{file} already exists but the journal does not list it; add it to {} or move it \
             away",
            journal::PATH
        )));
    }
    folder.write_atomically(&file, body)?;
    if let Some(previous) = previous
        && let Some(snapshot) = folder.read_text_if_present(&previous.snapshot())?
    {
        let copied = crate::snapshot::next(&snapshot, &entry).map_err(|reason| {
            HandlerError::Conflict(format!("{}: {reason}", previous.snapshot()))
        })?;
        folder.write_atomically(&entry.snapshot(), &copied)?;
    }
    journal.push(entry);
    folder.write_atomically(journal::PATH, journal.to_text())?;
    Ok(file)
}

/// The journal, or none in a folder without migrations. A folder of SQL
/// files without one is refused, as the migrator refuses it: taken as
/// empty, it would look up to date.
fn journal_if_any(folder: &Folder, provider: Provider) -> Result<Option<Journal>, HandlerError> {
    let journal = Journal::read(folder, provider)?;
    if journal.is_none()
        && folder
            .file_names()?
            .iter()
            .any(|name| name.ends_with(".sql"))
    {
        return Err(missing_journal());
    }
    Ok(journal)
}

/// The journal, which every operation after `initialize-schema` needs.
fn read_journal(folder: &Folder, provider: Provider) -> Result<Journal, HandlerError> {
    Journal::read(folder, provider)?.ok_or_else(missing_journal)
}

fn missing_journal() -> HandlerError {
    HandlerError::InvalidRequest(format!(
        "the migrations folder has no {}: generate migrations with drizzle-kit generate \
         (its `out` folder is the one to configure as migrations.directory)",
        journal::PATH
    ))
}

fn find<'a>(journal: &'a Journal, name: &str) -> Result<&'a Entry, HandlerError> {
    journal.find(name).ok_or_else(|| {
        HandlerError::InvalidRequest(format!(
            "the journal ({}) lists no migration {name}",
            journal::PATH
        ))
    })
}

fn read_migration(folder: &Folder, entry: &Entry) -> Result<String, HandlerError> {
    let file = entry.file();
    folder.read_text_if_present(&file)?.ok_or_else(|| {
        HandlerError::Conflict(format!(
            "the journal lists {} but the folder has no {file}; restore it, or run \
             drizzle-kit drop to remove the entry",
            entry.tag
        ))
    })
}

fn not_after_the_last(journal: &Journal, entry: &Entry, last: i64) -> HandlerError {
    let last = journal.generated_at(last).map_or_else(
        || format!("the migration recorded at {last}"),
        |e| e.tag.clone(),
    );
    HandlerError::Conflict(format!(
        "{} was generated before {last}, the last applied migration, and Drizzle's migrator \
         applies only migrations generated after that one: it would never run it. Generate \
         its change again as a new migration, or, if its changes are in the database already, \
         mark it applied with faber-db resolve",
        entry.tag
    ))
}

/// A row as the host reads it: named by the journal entry with its time.
fn tracking_row(journal: &Journal, row: &Row) -> TrackingRow {
    let name = journal.generated_at(row.created_at).map_or_else(
        || format!("created-at-{}", row.created_at),
        |e| e.tag.clone(),
    );
    TrackingRow {
        checksum: Some(row.hash.clone()),
        ..untimed_applied_row(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> Journal {
        let mut journal = Journal::new(Provider::Postgresql);
        for (idx, tag, when) in [(0, "0000_users", 10), (1, "0001_posts", 20)] {
            journal.push(Entry {
                idx,
                tag: tag.to_string(),
                when,
            });
        }
        journal
    }

    #[test]
    fn a_row_is_named_by_the_entry_with_its_time_or_by_its_time() {
        let row = |created_at| Row {
            hash: "ab".to_string(),
            created_at,
        };
        let named = tracking_row(&journal(), &row(20));
        assert_eq!(named.name, "0001_posts");
        assert_eq!(named.checksum.as_deref(), Some("ab"));
        assert_eq!(named.applied_steps_count, 1, "applied, with no times");
        assert_eq!(tracking_row(&journal(), &row(15)).name, "created-at-15");
    }

    #[test]
    fn an_entry_older_than_the_last_row_is_named_with_the_way_out() {
        let journal = journal();
        let message = match not_after_the_last(&journal, &journal.entries()[0], 20) {
            HandlerError::Conflict(message) => message,
            other => panic!("{other:?}"),
        };
        assert!(
            message.starts_with("0000_users was generated before 0001_posts"),
            "{message}"
        );
        assert!(message.contains("faber-db resolve"), "{message}");
    }
}
