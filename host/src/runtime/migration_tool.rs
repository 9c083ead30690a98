//! Calling a migration-tool handler (world `migration-tool-handler`), whatever
//! supported version of the contract it was built for.

use std::path::Path;

use wasmtime::Store;

use super::World;
use super::bindings::{self, LinkedMigrationTool, MigrationToolCalls};
use super::contract::{
    ApplyFailure, CreateRequest, HandlerError, HandlerInfo, InitializeOutcome, InitializeRequest,
    MigrationForm, MigrationLock, ProjectFile, ProjectReading, ProjectSettings, Provider,
    Resolution, TrackingRequest, TrackingRow, TrackingState,
};
use super::inspect::Shape;
use super::state::{Grant, HandlerState, PartlyRun, Scripts, SqlTally};
use super::{HandlerFailure, LoadedComponent, Runtime, project_files, untrusted};
use crate::db::Database;

type Answer<T> = wasmtime::Result<Result<T, HandlerError>>;

/// What the host takes back from a call, whatever its outcome: the database
/// it granted, and what became of the handler's statements.
pub struct Returned {
    pub database: Option<Database>,
    /// The session of its own the `migration-script` capability ran on.
    pub scripts: Option<Database>,
    /// A migration script that stopped part-way, what it did staying done.
    pub partly_run: Option<PartlyRun>,
    pub sql: SqlTally,
}

impl Returned {
    /// What a call refused before it started hands back.
    pub fn from_grant(grant: Grant) -> Returned {
        Returned::of(grant.database, grant.scripts, SqlTally::default())
    }

    fn from(state: Option<HandlerState>) -> Returned {
        match state {
            Some(state) => Returned::of(state.database, state.scripts, state.sql),
            None => Returned::of(None, None, SqlTally::default()),
        }
    }

    fn of(database: Option<Database>, scripts: Option<Scripts>, sql: SqlTally) -> Returned {
        let (scripts, partly_run) = scripts.map(Scripts::into_parts).unwrap_or_default();
        Returned {
            database,
            scripts,
            partly_run,
            sql,
        }
    }
}

/// A loaded migration-tool handler, linked and ready to instantiate per call.
pub struct MigrationTool {
    runtime: Runtime,
    component: LoadedComponent,
    shape: Shape,
    linked: Box<dyn LinkedMigrationTool>,
}

/// The contract version that brought the migration operations.
const MIGRATION_OPERATIONS_SINCE: &str = "0.3.0";
/// The contract version from which a migration's SQL comes from its file.
const SCRIPTS_SINCE: &str = "0.4.0";
/// The contract version that brought `read-project`.
const READ_PROJECT_SINCE: &str = "0.6.0";

/// Where `apply-migrations` stopped.
#[derive(Debug)]
pub struct Stopped {
    /// Rows of the migrations applied before the failure, in order.
    pub applied: Vec<TrackingRow>,
    /// The migration that failed, when the failure was in one.
    pub failed: Option<String>,
    pub failure: HandlerFailure,
}

impl MigrationTool {
    /// Links the capabilities of the migration-tool world (SQL and logging)
    /// for the contract version the component was built against; anything
    /// else it imports, or a missing export, is refused.
    pub fn new(runtime: &Runtime, component: LoadedComponent) -> Result<Self, HandlerFailure> {
        let (shape, linked) = runtime.link(
            &component,
            World::MigrationTool,
            bindings::link_migration_tool,
        )?;
        Ok(MigrationTool {
            runtime: runtime.clone(),
            component,
            shape,
            linked,
        })
    }

    pub fn component(&self) -> &LoadedComponent {
        &self.component
    }

    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    pub async fn info(&self) -> Result<HandlerInfo, HandlerFailure> {
        let (_, result) = self
            .call(Grant::default(), async |instance, store| {
                Ok(Ok(instance.info(store).await?))
            })
            .await;
        let info = result.and_then(|info| self.reported(info))?;
        super::check_info(&self.component, &self.shape, info)
    }

    /// Runs `initialize-schema`. The database comes back (also after a
    /// failure) so the caller can close it before any cleanup.
    pub async fn initialize_schema(
        &self,
        grant: Grant,
        request: &InitializeRequest,
    ) -> (Returned, Result<InitializeOutcome, HandlerFailure>) {
        let (returned, result) = self
            .call(grant, async |instance, store| {
                instance.initialize_schema(store, request).await
            })
            .await;
        (returned, result.and_then(|reported| self.accept(reported)))
    }

    /// True when the handler implements the migration operations (0.3.0).
    pub fn migrates(&self) -> bool {
        self.built_for_at_least(MIGRATION_OPERATIONS_SINCE)
    }

    /// True when the handler was built for contract `version` or later.
    fn built_for_at_least(&self, version: &str) -> bool {
        let parsed = |number: &str| semver::Version::parse(number).ok();
        parsed(&self.shape.wit_version) >= parsed(version)
    }

    /// The lock the tool takes; touches nothing.
    pub async fn migration_lock(
        &self,
        provider: Provider,
    ) -> Result<MigrationLock, HandlerFailure> {
        let (_, result) = self
            .operation(
                "migration-lock-for",
                Grant::default(),
                async |instance, store| {
                    Ok(Ok(instance.migration_lock_for(store, provider).await?))
                },
            )
            .await;
        let lock = result?;
        if let MigrationLock::MysqlNamed(name) = &lock {
            // GET_LOCK names are at most 64 characters; the host binds it as
            // a parameter, so only its length and visibility matter.
            if name.is_empty() || name.chars().count() > 64 || untrusted::clean(name) != *name {
                return Err(self.untruthful(format!(
                    "MySQL lock name {:?} is not 1 to 64 visible characters",
                    untrusted::clean(name)
                )));
            }
        }
        Ok(lock)
    }

    /// Reads the tracking table and the folder. The grant should be
    /// read-only where the provider allows; the handler promises to write
    /// nothing.
    pub async fn read_state(
        &self,
        grant: Grant,
        request: &TrackingRequest,
    ) -> (Returned, Result<TrackingState, HandlerFailure>) {
        let (returned, result) = self
            .operation("read-state", grant, async |instance, store| {
                instance.read_state(store, request).await
            })
            .await;
        let result = result.and_then(|state| {
            check_state(&state).map_err(|reason| self.untruthful(reason))?;
            Ok(state)
        });
        (returned, result)
    }

    /// `read-state` must name the table `tracking-table-for` named: the one
    /// whose rows its session keeps, and the only one the host writes a
    /// migration's rows into.
    pub fn check_tracking_table(
        &self,
        state: &TrackingState,
        kept: &str,
    ) -> Result<(), HandlerFailure> {
        if state.tracking_table == kept {
            return Ok(());
        }
        Err(self.untruthful(format!(
            "read-state names the tracking table {}, but tracking-table-for named {kept}",
            untrusted::clean(&state.tracking_table)
        )))
    }

    /// True when the handler runs migrations' SQL from their files through
    /// the host and applies many in one call (0.4.0).
    pub fn runs_scripts(&self) -> bool {
        self.built_for_at_least(SCRIPTS_SINCE)
    }

    /// Whether the tool's migrations are SQL files the host runs (0.4.0),
    /// or code the handler runs itself; touches nothing.
    async fn migration_form(&self, provider: Provider) -> Result<MigrationForm, HandlerFailure> {
        let (_, result) = self
            .operation(
                "migration-form-for",
                Grant::default(),
                async |instance, store| {
                    Ok(Ok(instance.migration_form_for(store, provider).await?))
                },
            )
            .await;
        result
    }

    /// The table the handler keeps its rows in (0.4.0); touches nothing.
    async fn tracking_table_for(
        &self,
        request: &TrackingRequest,
    ) -> Result<String, HandlerFailure> {
        let (_, result) = self
            .operation(
                "tracking-table-for",
                Grant::default(),
                async |instance, store| Ok(Ok(instance.tracking_table_for(store, request).await?)),
            )
            .await;
        let table = result?;
        untrusted::check_tracking_table(&table).map_err(|reason| self.untruthful(reason))?;
        Ok(table)
    }

    /// The table whose rows alone the handler's own session keeps while it
    /// reads, applies and resolves: for a handler whose migrations are SQL
    /// files the host runs (0.4.0). `None` for one whose migrations are code
    /// it runs itself, or one built before 0.4.0: its session writes.
    pub async fn rows_kept(
        &self,
        provider: Provider,
        request: &TrackingRequest,
    ) -> Result<Option<String>, HandlerFailure> {
        if !self.runs_scripts() || self.migration_form(provider).await? == MigrationForm::Code {
            return Ok(None);
        }
        self.tracking_table_for(request).await.map(Some)
    }

    /// Applies `names` in order, each recorded as the tool records it: in
    /// one call where the handler runs scripts (0.4.0), else one call per
    /// migration, the grant's database handed from call to call. Stops at
    /// the first failure, with the rows applied before it.
    pub async fn apply_migrations(
        &self,
        grant: Grant,
        request: &TrackingRequest,
        names: &[String],
    ) -> (Returned, Result<Vec<TrackingRow>, Stopped>) {
        if !self.runs_scripts() {
            return self.apply_one_by_one(grant, request, names).await;
        }
        let (returned, result) = self
            .operation("apply-migrations", grant, async |instance, store| {
                Ok(Ok(instance.apply_migrations(store, request, names).await?))
            })
            .await;
        let stopped = |applied, failed, failure| Stopped {
            applied,
            failed,
            failure,
        };
        let result = match result {
            Err(failure) => Err(stopped(Vec::new(), None, failure)),
            Ok(Ok(rows)) => match self.rows(rows, names) {
                Ok(rows) if rows.len() == names.len() => Ok(rows),
                Ok(rows) => {
                    let short = self.untruthful(format!(
                        "asked to apply {} migration(s), it answered with {} row(s) and no failure",
                        names.len(),
                        rows.len()
                    ));
                    Err(stopped(rows, None, short))
                }
                Err(failure) => Err(stopped(Vec::new(), None, failure)),
            },
            Ok(Err(ApplyFailure {
                applied,
                failed,
                error,
            })) => match self.rows(applied, names) {
                Ok(applied) => {
                    let failed = failed.map(|name| untrusted::clean(&name));
                    Err(stopped(applied, failed, self.failure(error)))
                }
                Err(failure) => Err(stopped(Vec::new(), None, failure)),
            },
        };
        (returned, result)
    }

    /// Before 0.4.0: one call per migration, its SQL sent by the handler.
    async fn apply_one_by_one(
        &self,
        grant: Grant,
        request: &TrackingRequest,
        names: &[String],
    ) -> (Returned, Result<Vec<TrackingRow>, Stopped>) {
        let directory = grant.directory.clone();
        let directory_read_only = grant.directory_read_only;
        let mut grant = grant;
        let mut applied = Vec::new();
        let mut tally = SqlTally::default();
        for name in names {
            let (mut returned, result) = self
                .operation("apply-migration", grant, async |instance, store| {
                    instance.apply_migration(store, request, name).await
                })
                .await;
            tally.add(returned.sql);
            returned.sql = tally;
            match result.and_then(|row| self.row(row, name)) {
                Ok(row) => applied.push(row),
                Err(failure) => {
                    let stopped = Stopped {
                        applied,
                        failed: Some(name.clone()),
                        failure,
                    };
                    return (returned, Err(stopped));
                }
            }
            grant = Grant {
                directory: directory.clone(),
                directory_read_only,
                database: returned.database,
                ..Grant::default()
            };
        }
        (Returned::of(grant.database, None, tally), Ok(applied))
    }

    /// Rows answered for `names`: each the row of the migration in the
    /// same place.
    fn rows(
        &self,
        rows: Vec<TrackingRow>,
        names: &[String],
    ) -> Result<Vec<TrackingRow>, HandlerFailure> {
        if rows.len() > names.len() {
            return Err(self.untruthful(format!(
                "asked to apply {} migration(s), it answered with {} row(s)",
                names.len(),
                rows.len()
            )));
        }
        rows.into_iter()
            .zip(names)
            .map(|(row, name)| self.row(row, name))
            .collect()
    }

    /// Marks a migration applied or rolled back, with the tool's meaning.
    pub async fn resolve_migration(
        &self,
        grant: Grant,
        request: &TrackingRequest,
        name: &str,
        resolution: Resolution,
    ) -> (Returned, Result<TrackingRow, HandlerFailure>) {
        let (returned, result) = self
            .operation("resolve-migration", grant, async |instance, store| {
                instance
                    .resolve_migration(store, request, name, resolution)
                    .await
            })
            .await;
        (returned, result.and_then(|row| self.row(row, name)))
    }

    /// Writes a new migration into the granted folder; returns its path
    /// relative to the folder.
    pub async fn create_migration(
        &self,
        grant: Grant,
        request: &CreateRequest,
    ) -> Result<String, HandlerFailure> {
        let (_, result) = self
            .operation("create-migration", grant, async |instance, store| {
                instance.create_migration(store, request).await
            })
            .await;
        let path = result?;
        untrusted::check_relative_path("migration written", &path)
            .map_err(|reason| self.untruthful(reason))?;
        Ok(path)
    }

    /// What the tool's own files in `project` say, read call by call: each
    /// call names the paths it needs next, and the host reads them (see
    /// [`project_files`]) for the following one. `None` from a handler
    /// built for a contract without `read-project`.
    pub async fn read_project(
        &self,
        project: &Path,
    ) -> Result<Option<ProjectSettings>, HandlerFailure> {
        if !self.built_for_at_least(READ_PROJECT_SINCE) {
            return Ok(None);
        }
        let mut files: Vec<ProjectFile> = Vec::new();
        for _ in 0..project_files::MOST_ROUNDS {
            let (_, result) = self
                .call(Grant::default(), async |instance, store| {
                    Ok(Ok(instance.read_project(store, &files).await?))
                })
                .await;
            let paths = match result.and_then(|reading| self.reported(reading))? {
                ProjectReading::Settings(settings) => {
                    return project_files::checked(settings)
                        .map(Some)
                        .map_err(|reason| self.untruthful(reason));
                }
                ProjectReading::Read(paths) => paths,
            };
            let mut new: Vec<String> = paths
                .into_iter()
                .filter(|path| files.iter().all(|file| &file.path != path))
                .collect();
            new.sort();
            new.dedup();
            if new.is_empty() || new.len() > project_files::MOST_NEW_PATHS {
                return Err(self.untruthful(format!(
                    "read-project asked for {} new paths (it may ask for 1 to {} a call)",
                    new.len(),
                    project_files::MOST_NEW_PATHS
                )));
            }
            files.extend(new.into_iter().map(|path| ProjectFile {
                entry: project_files::read(project, &path),
                path,
            }));
        }
        Err(self.untruthful(format!(
            "read-project still asked for files after {} calls",
            project_files::MOST_ROUNDS
        )))
    }

    /// One of the migration operations: refused before anything runs (the
    /// grant handed back untouched) when the handler was built for a contract
    /// without it, else called, with the handler's own error as a failure.
    async fn operation<T>(
        &self,
        operation: &'static str,
        grant: Grant,
        body: impl AsyncFnOnce(&dyn MigrationToolCalls, &mut Store<HandlerState>) -> Answer<T>,
    ) -> (Returned, Result<T, HandlerFailure>) {
        if !self.migrates() {
            let outdated = HandlerFailure::Outdated {
                handler: self.component.name.clone(),
                built_for: self.shape.wit_version.clone(),
                operation,
                needed: MIGRATION_OPERATIONS_SINCE,
            };
            return (Returned::from_grant(grant), Err(outdated));
        }
        let (returned, result) = self.call(grant, body).await;
        (
            returned,
            result.and_then(|reported| self.reported(reported)),
        )
    }

    /// One call on a fresh instance of whichever version was linked.
    async fn call<T>(
        &self,
        grant: Grant,
        body: impl AsyncFnOnce(&dyn MigrationToolCalls, &mut Store<HandlerState>) -> Answer<T>,
    ) -> (Returned, Result<Result<T, HandlerError>, HandlerFailure>) {
        let (state, result) = self
            .runtime
            .call(
                &self.component,
                grant,
                async |store| self.linked.instantiate(store).await,
                async |instance, store| body(instance.as_ref(), store).await,
            )
            .await;
        (Returned::from(state), result)
    }

    fn reported<T>(&self, reported: Result<T, HandlerError>) -> Result<T, HandlerFailure> {
        reported.map_err(|error| self.failure(error))
    }

    fn failure(&self, error: HandlerError) -> HandlerFailure {
        HandlerFailure::Reported {
            handler: self.component.name.clone(),
            error,
        }
    }

    fn untruthful(&self, reason: String) -> HandlerFailure {
        HandlerFailure::Untruthful {
            handler: self.component.name.clone(),
            reason,
        }
    }

    /// A row returned for `name` must be that migration's row.
    fn row(&self, row: TrackingRow, name: &str) -> Result<TrackingRow, HandlerFailure> {
        if row.name != name {
            return Err(self.untruthful(format!(
                "asked about migration {name}, it answered with the row of {}",
                untrusted::clean(&row.name)
            )));
        }
        check_row(&row).map_err(|reason| self.untruthful(reason))?;
        Ok(row)
    }

    fn accept(
        &self,
        reported: Result<InitializeOutcome, HandlerError>,
    ) -> Result<InitializeOutcome, HandlerFailure> {
        let handler = self.component.name.clone();
        let outcome = self.reported(reported)?;
        check_outcome_size(&outcome).map_err(|reason| HandlerFailure::Oversized {
            handler: handler.clone(),
            reason,
        })?;
        check_outcome_names(&outcome)
            .map_err(|reason| HandlerFailure::Untruthful { handler, reason })?;
        Ok(InitializeOutcome {
            next_steps: outcome
                .next_steps
                .iter()
                .map(|s| untrusted::clean(s))
                .collect(),
            ..outcome
        })
    }
}

/// Every name the host will use in SQL, paths or output is a plain name.
fn check_outcome_names(outcome: &InitializeOutcome) -> Result<(), String> {
    untrusted::check_tracking_table(&outcome.tracking_table)?;
    untrusted::check_plain_name("baseline migration", &outcome.baseline_migration)?;
    for name in outcome.applied.iter().chain(&outcome.pending) {
        untrusted::check_plain_name("migration", name)?;
    }
    for file in &outcome.files_written {
        untrusted::check_relative_path("file written", file)?;
    }
    Ok(())
}

/// A report is a handful of names; anything near this size is a broken or
/// hostile handler, and is refused before it reaches output or logs.
const MAX_OUTCOME_BYTES: usize = 1 << 20;

fn check_outcome_size(outcome: &InitializeOutcome) -> Result<(), String> {
    let lists = [
        &outcome.applied,
        &outcome.pending,
        &outcome.files_written,
        &outcome.next_steps,
    ];
    let size: usize = lists
        .iter()
        .flat_map(|list| list.iter())
        .map(String::len)
        .sum::<usize>()
        + outcome.tracking_table.len()
        + outcome.baseline_migration.len();
    if size > MAX_OUTCOME_BYTES {
        return Err(format!(
            "{size} bytes of names, the limit is {MAX_OUTCOME_BYTES}"
        ));
    }
    Ok(())
}

/// Everything in a tracking state the host shows or uses as a name is plain,
/// and the whole stays within what a folder of migrations can hold.
fn check_state(state: &TrackingState) -> Result<(), String> {
    untrusted::check_tracking_table(&state.tracking_table)?;
    let mut size = 0;
    for row in &state.rows {
        check_row(row)?;
        size += row.logs.as_ref().map_or(0, String::len);
    }
    for migration in &state.folder {
        untrusted::check_plain_name("migration", &migration.name)?;
        size += migration.sql.len();
    }
    if size > MAX_STATE_BYTES {
        return Err(format!(
            "{size} bytes of SQL and logs, the limit is {MAX_STATE_BYTES}"
        ));
    }
    Ok(())
}

/// The folder a handler may grow in one call is capped at 64 MiB; its
/// whole history may be larger, but not without bound.
const MAX_STATE_BYTES: usize = 256 << 20;

fn check_row(row: &TrackingRow) -> Result<(), String> {
    untrusted::check_plain_name("migration", &row.name)?;
    for time in [&row.started_at, &row.finished_at, &row.rolled_back_at]
        .into_iter()
        .flatten()
    {
        if time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
            .is_err()
        {
            return Err(format!(
                "migration {} has a time that is not RFC 3339: {:?}",
                row.name,
                untrusted::clean(time)
            ));
        }
    }
    if let Some(checksum) = &row.checksum
        && untrusted::clean(checksum) != *checksum
    {
        return Err(format!(
            "migration {} has an unprintable checksum",
            row.name
        ));
    }
    Ok(())
}
