//! `faber-db migrate`, `resolve` and `generate-migration`: the rest of a
//! database's life after `init`, through the same environment model,
//! approval, operation log and confined handler session as `init`.
//!
//! The host owns the connection, the lock and the decisions; the
//! migration-tool handler reads the tracking state, applies one migration
//! at a time and records it exactly as the tool's own CLI would.
//!
//! Order of a `migrate` run: the environment and its connection; the
//! handler (refused if it predates the migration operations); the
//! database must exist; the tool's lock with the configured timeout (on
//! the host's own session; on SQLite, the file's, which the handler's
//! session takes as it opens); the handler's confined session; the state
//! (read under the lock, so a concurrent run's work is seen); refusal of an
//! unresolved failure; the plan and its lint; approval; one `apply` per
//! pending migration, each checked against the tracking table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::GUEST_MIGRATIONS_DIR;
use super::approval::{self, Stop};
use super::claims::{self, Claim};
use super::environment::{self, OpenProject, Project};
use super::lint::{self, Finding};
use super::migrations::MigrationsFolder;
use super::oplog;
use crate::components;
use crate::config::Config;
use crate::db::migration_lock::{self, Lock};
use crate::db::{
    Access, Check, Confinement, ConnectionString, Database, Expect, HandlerObject, HandlerSession,
    Server,
};
use crate::failure::{Failure, Outcome};
use crate::names;
use crate::provider::Provider;
use crate::report::output::Done;
use crate::report::{HandlerRef, Status};
use crate::runtime as wit;
use crate::runtime::{FolderMigration, Grant, ScriptSession, Scripts, SqlTally};
use crate::tracking::{self, State};

#[derive(Clone)]
pub struct Options {
    pub environment: String,
    pub cwd: Option<PathBuf>,
    pub approve: bool,
    pub dry_run: bool,
    /// One tenant of a fleet: the project settled once for all of them,
    /// and this tenant's database.
    pub tenant: Option<TenantTarget>,
}

#[derive(Clone)]
pub struct TenantTarget {
    pub key: String,
    pub project: Arc<Project>,
    pub target: ConnectionString,
}

impl Options {
    /// The tenant's database, for a fleet's tenant.
    fn target(&self) -> Option<&ConnectionString> {
        self.tenant.as_ref().map(|tenant| &tenant.target)
    }

    /// The environment as commands in next steps name it: a fleet's
    /// tenant with its `--tenant`.
    fn named(&self) -> String {
        match &self.tenant {
            Some(tenant) => format!("{} --tenant {}", self.environment, tenant.key),
            None => self.environment.clone(),
        }
    }
}

/// What `migrate` and `resolve` report in `result`.
#[derive(Debug, Default, Serialize)]
pub struct MigrateResult {
    pub environment: String,
    pub database_name: Option<String>,
    pub provider: Option<Provider>,
    /// The connection target, password masked.
    pub database_url: Option<String>,
    pub migrations_directory: Option<String>,
    pub tracking_table: Option<String>,
    /// Applied by this run, oldest first.
    pub applied: Vec<String>,
    /// Still pending after this run, oldest first.
    pub pending: Vec<String>,
    /// The migration that failed (in this run, or earlier and unresolved).
    pub failed: Option<String>,
    /// Applied migrations whose file changed since.
    pub modified: Vec<String>,
    /// Recorded in the database, gone from the folder.
    pub missing: Vec<String>,
    /// Destructive statements among the migrations this run applies (or
    /// would apply).
    pub lint: Vec<Finding>,
    /// `--dry-run`: what would run, with its SQL and findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Vec<PlanEntry>>,
    /// `resolve`: the row as the tool now records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Resolved>,
    pub dry_run: bool,
    /// How a protected environment's approval was given; null when none was needed.
    pub approval: Option<&'static str>,
    /// The lock taken, e.g. `pg_advisory_lock(72707369)`; null for a dry run.
    pub lock: Option<String>,
    pub handler: Option<HandlerRef>,
    pub handler_session: Option<Confinement>,
    /// What the handler created in the database during the run.
    pub handler_objects: Vec<HandlerObject>,
    pub handler_sql: SqlTally,
    pub warnings: Vec<String>,
    pub duration_ms: u64,
    /// The database's server could not be reached (a fleet counts it apart).
    #[serde(skip)]
    pub unreachable: bool,
    /// The database does not exist (a fleet counts it apart).
    #[serde(skip)]
    pub no_database: bool,
}

#[derive(Debug, Serialize)]
pub struct PlanEntry {
    pub name: String,
    pub sql: String,
    pub flagged: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct Resolved {
    pub migration: String,
    /// `applied` or `rolled-back`.
    pub resolution: &'static str,
    pub finished_at: Option<String>,
    pub rolled_back_at: Option<String>,
}

/// A finished run: the message and next steps of a success.
struct Finished {
    message: String,
    next_steps: Vec<String>,
}

/// What a run holds while it works, released in [`Run::finish`] whatever happened.
struct Run {
    command: &'static str,
    operation: &'static str,
    options: Options,
    started: Instant,
    result: MigrateResult,
    project: Option<PathBuf>,
    logs_plugin: Option<String>,
    server: Option<Server>,
    /// The host's own session: holds the lock, lends and takes back what the
    /// handler's account may own, checks what the handler reports.
    admin: Option<Database>,
    /// The handler's confined session, handed from call to call.
    handler: Option<HandlerSession>,
    /// The table `tracking-table-for` named, whose rows the handler's
    /// session keeps: the only one the host writes a migration's rows into.
    rows_table: Option<String>,
    /// The database's server, once opened.
    target: Option<ConnectionString>,
}

/// The migrations waiting to be applied, in the tool's order.
fn pending(judged: &[tracking::Migration]) -> Vec<&tracking::Migration> {
    judged
        .iter()
        .filter(|m| m.state == State::Pending)
        .collect()
}

/// The environment, settled.
struct Opened {
    project: Arc<Project>,
    target: ConnectionString,
    name: String,
    /// The server's lock; none on SQLite, where the handler's session
    /// holds the file's.
    lock: Option<Lock>,
}

pub async fn migrate(options: Options) -> Done<MigrateResult> {
    let mut run = Run::new("migrate", "migrate", options);
    let outcome = run.migrate().await;
    run.finish(outcome).await
}

pub async fn resolve(
    options: Options,
    migration: String,
    resolution: wit::Resolution,
) -> Done<MigrateResult> {
    let mut run = Run::new("resolve", "resolve-migration", options);
    let outcome = run.resolve(&migration, resolution).await;
    run.finish(outcome).await
}

impl Run {
    fn new(command: &'static str, operation: &'static str, options: Options) -> Run {
        let result = MigrateResult {
            environment: options.environment.clone(),
            dry_run: options.dry_run,
            ..MigrateResult::default()
        };
        Run {
            command,
            operation,
            options,
            started: Instant::now(),
            result,
            project: None,
            logs_plugin: None,
            server: None,
            admin: None,
            handler: None,
            rows_table: None,
            target: None,
        }
    }

    async fn migrate(&mut self) -> Result<Finished, Stop> {
        let opened = self.open().await?;
        // A person may take minutes to answer: the tool's lock is taken only
        // once they have, and what is pending is read again under it.
        let approved = match self.asks_a_person(&opened.project.config) {
            true => Some(self.preview_and_approve(&opened).await?),
            false => None,
        };
        self.lock_and_open_session(&opened, self.options.dry_run)
            .await?;
        let state = self.read_state(&opened).await?;
        let judged = tracking::classify(&state);
        self.note_history(&judged);
        if let Some(failed) = judged.iter().find(|m| m.state == State::Failed) {
            return Err(unresolved(&self.options.named(), failed).into());
        }
        let pending = pending(&judged);
        let names = tracking::named(&judged, State::Pending);
        self.result.pending = names.clone();
        for migration in &pending {
            let sql = migration.sql.as_deref().unwrap_or_default();
            self.result.lint.extend(lint::check(&migration.name, sql));
            if !crate::sql_text::has_statements(sql) {
                self.result.warnings.push(format!(
                    "{} holds only comments: applying it records it without changing the database (SQL appended to a comment's line is part of the comment)",
                    migration.name
                ));
            }
        }
        let database = opened.name.clone();
        if self.options.dry_run {
            self.result.plan = Some(
                pending
                    .iter()
                    .map(|m| {
                        let sql = m.sql.clone().unwrap_or_default();
                        PlanEntry {
                            flagged: lint::check(&m.name, &sql),
                            name: m.name.clone(),
                            sql,
                        }
                    })
                    .collect(),
            );
            return Ok(Finished {
                message: format!(
                    "Dry run: {} migration(s) would be applied to {database}; nothing was changed",
                    names.len()
                ),
                next_steps: if names.is_empty() {
                    Vec::new()
                } else {
                    vec![format!(
                        "Apply them: faber-db migrate {}",
                        self.options.named()
                    )]
                },
            });
        }
        if names.is_empty() {
            return Ok(Finished {
                message: format!("Database {database} is up to date: no pending migrations"),
                next_steps: vec![format!(
                    "Create the next migration: faber-db generate-migration NAME"
                )],
            });
        }
        let approved_already =
            approved.is_some_and(|approved| names.iter().all(|name| approved.contains(name)));
        if !approved_already {
            let flagged: Vec<String> = self.result.lint.iter().map(Finding::line).collect();
            self.approve_migrations(&opened.project.config, &database, &names, &flagged)?;
        }
        if let Err(failure) = self.apply(&opened, &names).await {
            self.verify_applied(&opened.target, &state.folder).await?;
            return Err(failure.into());
        }
        self.verify_applied(&opened.target, &state.folder).await?;
        let count = self.result.applied.len();
        Ok(Finished {
            message: format!("Applied {count} migration(s) to {database}"),
            next_steps: vec![format!(
                "Check every environment: faber-db status (or apply to the next one: faber-db migrate ENVIRONMENT)"
            )],
        })
    }

    async fn resolve(
        &mut self,
        migration: &str,
        resolution: wit::Resolution,
    ) -> Result<Finished, Stop> {
        crate::runtime::untrusted::check_plain_name("migration", migration).map_err(|why| {
            Failure::new(format!("Invalid migration name {migration:?}"))
                .cause(why)
                .help("Name a migration as its folder or file in the migrations folder is named")
        })?;
        let opened = self.open().await?;
        let word = match resolution {
            wit::Resolution::Applied => "applied",
            wit::Resolution::RolledBack => "rolled-back",
        };
        if self.options.dry_run {
            return Ok(Finished {
                message: format!(
                    "Dry run: {migration} would be recorded as {word} in {}; nothing was changed",
                    opened.name
                ),
                next_steps: Vec::new(),
            });
        }
        self.approve(
            &opened.project.config,
            approval::Operation::Resolve {
                database: &opened.name,
                migration,
                resolution: word,
            },
        )?;
        self.lock_and_open_session(&opened, self.options.dry_run)
            .await?;
        let request = tracking_request(&opened);
        let grant = self.grant(&opened, false);
        let (returned, row) = opened
            .project
            .tool
            .resolve_migration(grant, &request, migration, resolution)
            .await;
        self.take_back(returned);
        let row = row.map_err(components::failure)?;
        self.result.resolved = Some(Resolved {
            migration: row.name.clone(),
            resolution: word,
            finished_at: row.finished_at,
            rolled_back_at: row.rolled_back_at,
        });
        let state = self.read_state(&opened).await?;
        let judged = tracking::classify(&state);
        self.note_history(&judged);
        self.result.pending = tracking::named(&judged, State::Pending);
        Ok(Finished {
            message: format!("{migration} is recorded as {word} in {}", opened.name),
            next_steps: vec![format!(
                "Apply what is pending: faber-db migrate {}",
                self.options.named()
            )],
        })
    }

    /// The environment, its database and its handler, settled without
    /// changing anything.
    async fn open(&mut self) -> Result<Opened, Failure> {
        let environment = self.options.environment.clone();
        let project = match &self.options.tenant {
            Some(tenant) => tenant.project.clone(),
            None => Arc::new(
                Project::settle(
                    self.options.cwd.as_deref(),
                    &environment,
                    self.command,
                    self.options.dry_run,
                )
                .await?,
            ),
        };
        let (dir, config, tool) = (&project.dir, &project.config, &project.tool);
        self.project = Some(dir.clone());
        self.logs_plugin = config.integration.logs_plugin.clone();
        self.result.provider = Some(config.database.provider);
        self.result.migrations_directory = Some(config.migrations.directory().to_owned());
        self.result.handler = Some(project.handler.clone());
        let target = match self.options.target() {
            Some(target) => target.clone(),
            None => {
                let variable = environment::find(config, &environment)?
                    .connection_string_env
                    .clone();
                environment::connection_string(dir, config, variable.as_deref())?.ok_or_else(
                    || {
                        environment::no_connection_string(
                            dir,
                            config,
                            &environment,
                            variable.as_deref(),
                        )
                        .help(format!(
                            "{} needs the environment's connection string, also on cloud hosting (faber-db init prints it)",
                            self.command
                        ))
                    },
                )?
            }
        };
        self.result.database_url = Some(target.masked());
        let (name, _) = environment::database_name(dir, &environment, None, Some(&target));
        names::validate(&name)?;
        self.result.database_name = Some(name.clone());
        let provider = config.database.provider;
        // Runs on a server serialize only on a lock the server holds: a
        // handler that names none, or another server's kind, is refused.
        let lock = match (
            provider,
            tool.migration_lock(provider)
                .await
                .map_err(components::failure)?,
        ) {
            (Provider::Postgresql, wit::MigrationLock::PostgresAdvisory(key)) => {
                Some(Lock::PostgresAdvisory(key))
            }
            (Provider::Mysql, wit::MigrationLock::MysqlNamed(name)) => Some(Lock::MysqlNamed(name)),
            (Provider::Sqlite, _) => None,
            (provider, named) => {
                let handler = self
                    .result
                    .handler
                    .as_ref()
                    .map(|handler| handler.name.clone());
                return Err(Failure::new(format!(
                    "Handler {} names no {provider} lock for its migrations",
                    handler.unwrap_or_default()
                ))
                .cause(format!(
                    "it answered {named:?}; without a lock on the server, concurrent runs could apply a migration twice"
                ))
                .help("Report it to the handler's author"));
            }
        };
        let mut server = Server::connect(&target).await.inspect_err(|_| {
            self.result.unreachable = true;
        })?;
        let exists = server.database_exists(&name).await.map_err(|err| {
            self.result.unreachable = true;
            Failure::new(format!("Cannot check whether database {name} exists")).cause(err.message)
        })?;
        if !exists {
            self.result.no_database = true;
            return Err(Failure::new(format!("Database {name} does not exist"))
                .cause(format!("environment '{environment}' points at it"))
                .help(format!(
                    "Create and initialize it first: faber-db init {}",
                    self.options.named()
                )));
        }
        self.admin = Some(server.open(&target, &name).await?);
        self.target = Some(target.clone());
        self.server = Some(server);
        Ok(Opened {
            project,
            target,
            name,
            lock,
        })
    }

    /// The tool's lock, then the handler's session. On a server the lock is
    /// on the host's own session, taken first (so the schema Prisma's deploy
    /// would create is created under it too); on SQLite the handler's
    /// session takes the file's lock as it opens. A dry run takes none: its
    /// handler reads through the session `status` uses, which the database
    /// itself keeps from changing anything.
    async fn lock_and_open_session(
        &mut self,
        opened: &Opened,
        reading: bool,
    ) -> Result<(), Failure> {
        let handler = self.result.handler.as_ref().expect("open() loaded it");
        let policy = environment::session_policy(
            &opened.project.dir,
            &opened.project.config,
            &self.options.environment,
            handler,
        )?;
        // One session serves every call of the run; its account must
        // outlive them all (each is capped at the sandbox timeout).
        let calls =
            std::fs::read_dir(&opened.project.migrations_dir).map_or(0, Iterator::count) + 3;
        let lifetime = opened.project.config.sandbox.limits().timeout * calls as u32;
        let lock_timeout = opened.project.config.migrations.lock_timeout();
        let server = self.server.as_mut().expect("open() connected");
        let admin = self.admin.as_mut().expect("open() connected");
        let (target, name) = (&opened.target, opened.name.as_str());
        let access = if reading {
            Access::Read
        } else {
            if let Some(lock) = &opened.lock {
                migration_lock::take(admin, lock, lock_timeout, name).await?;
            }
            admin
                .create_schema(target)
                .await
                .map_err(|err| super::schema_failure(target, err))?;
            Access::Migrate { lock_timeout }
        };
        let mut session = server
            .open_handler_session(admin, target, name, &policy, lifetime, access)
            .await?;
        // A handler whose migrations' SQL the host runs keeps only its
        // tracking table's rows; one whose migrations are code it runs
        // itself changes the schema, which the report says.
        if !reading {
            let tool = &opened.project.tool;
            let kept = tool
                .rows_kept(
                    opened.project.config.database.provider,
                    &tracking_request(opened),
                )
                .await
                .map_err(components::failure)?;
            match kept {
                Some(table) => {
                    session
                        .keep_to_rows(server, admin, target, name, &table, lifetime)
                        .await?;
                    self.rows_table = Some(table);
                }
                None if tool.runs_scripts() => self.result.warnings.push(format!(
                    "{} runs its migrations as code: its session may change the schema while it applies them (what it leaves is checked afterwards)",
                    tool.component().name
                )),
                None => {}
            }
        }
        if !reading {
            let lock = opened
                .lock
                .as_ref()
                .map_or_else(|| migration_lock::SQLITE_FILE.to_owned(), Lock::describe);
            self.result.lock = Some(lock);
        }
        let confinement = session.confinement();
        if let Some(warning) = &confinement.warning {
            self.result.warnings.push(warning.clone());
        }
        self.result.handler_session = Some(confinement.clone());
        self.handler = Some(session);
        Ok(())
    }

    /// The folder is read-only to these calls: the committed migrations
    /// are the project's, and only `generate-migration` adds to them. A
    /// call that applies them, by a handler whose migrations' SQL the host
    /// runs, gets the scripts too.
    fn grant(&mut self, opened: &Opened, applies: bool) -> Grant {
        let session = self
            .handler
            .as_mut()
            .expect("lock_and_open_session() opened it");
        let scripts = (applies && opened.project.tool.runs_scripts()).then(|| {
            Scripts::new(
                opened.project.migrations_dir.clone(),
                self.rows_table.clone(),
                ScriptSession::of(session.lend_writer(), session.rows_only()),
            )
        });
        Grant {
            directory: Some((
                opened.project.migrations_dir.clone(),
                GUEST_MIGRATIONS_DIR.to_owned(),
            )),
            directory_read_only: true,
            database: session.lend(),
            scripts,
            ..Grant::default()
        }
    }

    fn take_back(&mut self, returned: crate::runtime::Returned) {
        if let Some(session) = self.handler.as_mut() {
            session.take_back(returned.database);
            session.take_back_writer(returned.scripts);
        }
        self.result.handler_sql.add(returned.sql);
    }

    async fn read_state(&mut self, opened: &Opened) -> Result<wit::TrackingState, Failure> {
        if !opened.project.migrations_dir.is_dir() {
            return Err(Failure::new(format!(
                "The migrations folder {} does not exist",
                opened.project.config.migrations.directory()
            ))
            .help(format!(
                "Initialize the project first (faber-db init {}), or set migrations.directory",
                self.options.environment
            )));
        }
        let request = tracking_request(opened);
        let grant = self.grant(opened, false);
        let (returned, state) = opened.project.tool.read_state(grant, &request).await;
        self.take_back(returned);
        let state = state.map_err(components::failure)?;
        if let Some(kept) = &self.rows_table {
            opened
                .project
                .tool
                .check_tracking_table(&state, kept)
                .map_err(components::failure)?;
        }
        self.result.tracking_table = Some(state.tracking_table.clone());
        Ok(state)
    }

    /// Modified and missing migrations are reported, not refused: the
    /// database already holds what they did.
    fn note_history(&mut self, judged: &[tracking::Migration]) {
        self.result.modified = tracking::named(judged, State::Modified);
        self.result.missing = tracking::named(judged, State::Missing);
        for name in &self.result.modified {
            self.result.warnings.push(format!(
                "{name} was applied, and its file has changed since (its checksum differs): the database holds the old version"
            ));
        }
        for name in &self.result.missing {
            self.result.warnings.push(format!(
                "{name} is recorded in the database but is not in the migrations folder"
            ));
        }
    }

    /// Applies `names` in order (one handler call where the handler runs
    /// scripts, one per migration before that), up to the first failure.
    async fn apply(&mut self, opened: &Opened, names: &[String]) -> Result<(), Failure> {
        let request = tracking_request(opened);
        let grant = self.grant(opened, true);
        let (mut returned, outcome) = opened
            .project
            .tool
            .apply_migrations(grant, &request, names)
            .await;
        let partly_run = returned.partly_run.take();
        self.take_back(returned);
        let (applied, stopped) = match outcome {
            Ok(rows) => (rows, None),
            Err(stopped) => (stopped.applied.clone(), Some(stopped)),
        };
        for row in applied {
            self.result.pending.retain(|pending| *pending != row.name);
            self.result.applied.push(row.name);
        }
        let Some(stopped) = stopped else {
            return Ok(());
        };
        let environment = &self.options.named();
        let Some(name) = stopped.failed else {
            return Err(Failure::new("The handler stopped before applying every migration")
                .cause(stopped.failure)
                .help(format!(
                    "Migrations applied before it stay applied; see what is pending: faber-db status {environment}"
                )));
        };
        self.result.failed = Some(name.clone());
        self.result.pending.retain(|pending| *pending != name);
        let failure = Failure::new(format!("Migration {name} failed")).cause(stopped.failure);
        let failure = match partly_run {
            Some(partly) => stopped_part_way(failure, environment, &name, &partly),
            None => failure.help(format!(
                "Fix the database by hand if the migration left part of its work, then record the outcome: faber-db resolve {environment} --rolled-back {name} (to run it again once fixed) or --applied {name} (if you completed it)"
            )),
        };
        Err(failure.help("Migrations applied before it stay applied"))
    }

    /// Every migration the handler reported as applied has its row, read
    /// once for the whole run on the host's own session (once per
    /// migration, the reads would grow with the square of the folder).
    /// `folder` is the folder as read before applying, for the checksums.
    async fn verify_applied(
        &mut self,
        target: &ConnectionString,
        folder: &[FolderMigration],
    ) -> Result<(), Failure> {
        // The handler's work is done, and what it left is judged before the
        // host reads the tracking table. (On SQLite the handler's session
        // also holds the file's lock, which would lock out the host's own.)
        self.end_session().await?;
        if self.result.applied.is_empty() {
            return Ok(());
        }
        let table = self.result.tracking_table.clone().unwrap_or_default();
        let admin = self.admin.as_mut().expect("open() connected");
        let checksums: HashMap<&str, &str> = folder
            .iter()
            .filter_map(|m| Some((m.name.as_str(), m.checksum.as_deref()?)))
            .collect();
        let applied: Vec<Claim> = self
            .result
            .applied
            .iter()
            .map(|name| Claim {
                name,
                checksum: checksums.get(name.as_str()).copied(),
            })
            .collect();
        claims::verify_recorded(admin, target, &table, &applied)
            .await
            .map_err(|claim| {
                claim.unwrap_or_else(|untrue| {
                    Failure::new("The handler reported work it did not do")
                        .cause(untrue)
                        .help("Report it to the handler's author")
                })
            })
    }

    /// Ends the handler's session, if it is still open: what the handler
    /// left is checked against the catalog and its account removed.
    async fn end_session(&mut self) -> Result<(), Failure> {
        let (Some(session), Some(server), Some(target)) = (
            self.handler.take(),
            self.server.as_mut(),
            self.target.as_ref(),
        ) else {
            return Ok(());
        };
        let table = self.result.tracking_table.clone().unwrap_or_default();
        let check = Check {
            target,
            table: &table,
            expect: Expect::Migrated,
        };
        self.result.handler_objects = session
            .close(server, self.admin.as_mut(), Some(check))
            .await?;
        Ok(())
    }

    /// Whether this run's approval is a question to a person at a terminal.
    fn asks_a_person(&self, config: &Config) -> bool {
        config.is_protected(&self.options.environment)
            && !self.options.approve
            && !self.options.dry_run
    }

    /// What is pending, read on a session that takes no lock, approved
    /// before any lock is held; the names approved. (Nothing pending asks
    /// nothing.)
    async fn preview_and_approve(&mut self, opened: &Opened) -> Result<Vec<String>, Stop> {
        self.lock_and_open_session(opened, true).await?;
        let state = self.read_state(opened).await;
        self.end_session().await?;
        let judged = tracking::classify(&state?);
        let names = tracking::named(&judged, State::Pending);
        if names.is_empty() {
            return Ok(names);
        }
        let flagged: Vec<String> = pending(&judged)
            .iter()
            .flat_map(|m| lint::check(&m.name, m.sql.as_deref().unwrap_or_default()))
            .map(|finding| finding.line())
            .collect();
        self.approve_migrations(&opened.project.config, &opened.name, &names, &flagged)?;
        Ok(names)
    }

    /// Asks to apply `names` to `database`, with the lines of their
    /// destructive statements.
    fn approve_migrations(
        &mut self,
        config: &Config,
        database: &str,
        names: &[String],
        flagged: &[String],
    ) -> Result<(), Stop> {
        let operation = approval::Operation::Migrate {
            database,
            migrations: names,
            flagged,
        };
        self.approve(config, operation)
    }

    fn approve(&mut self, config: &Config, operation: approval::Operation<'_>) -> Result<(), Stop> {
        let environment = &self.options.environment;
        let request = approval::Request {
            command: self.command,
            environment,
            operation,
            protected: config.is_protected(environment),
            approved_by_flag: self.options.approve,
            dry_run: self.options.dry_run,
        };
        if let Some(how) = approval::require(&request)? {
            self.result.approval = Some(how);
        }
        Ok(())
    }

    /// Releases what the run holds (the handler's session ends and what
    /// it left is checked; closing the host's session releases the lock),
    /// logs the operation and builds the report.
    async fn finish(mut self, outcome: Result<Finished, Stop>) -> Done<MigrateResult> {
        let mut outcome = outcome;
        if let Err(failure) = self.end_session().await
            && outcome.is_ok()
        {
            // The first failure is the one to report: a later one follows
            // from it.
            outcome = Err(Stop::Failed(failure));
        }
        if let Some(admin) = self.admin.take() {
            admin.close().await;
        }
        if let Some(server) = self.server.take() {
            server.close().await;
        }
        self.result.duration_ms = self.started.elapsed().as_millis() as u64;
        let status = outcome
            .as_ref()
            .map_or_else(Stop::status, |_| Status::Success);
        let error = match &outcome {
            Err(Stop::Failed(failure)) => Some(failure.error.clone()),
            _ => None,
        };
        self.log(status, error.as_deref());
        match outcome {
            Ok(finished) => {
                let mut done = Done::ok(self.result, finished.message);
                done.next_steps = finished.next_steps;
                done
            }
            Err(Stop::Failed(failure)) => Done::failed(self.result, failure),
            Err(Stop::Cancelled(reason)) => {
                Done::cancelled(self.result, format!("Operation cancelled: {reason}"))
            }
        }
    }

    fn log(&mut self, status: Status, error: Option<&str>) {
        let (Some(plugin), Some(project)) = (self.logs_plugin.as_deref(), self.project.as_deref())
        else {
            return;
        };
        let migrations = match &self.result.plan {
            Some(plan) => plan.iter().map(|entry| entry.name.clone()).collect(),
            None => self.result.applied.clone(),
        };
        let record = oplog::Record {
            database_name: self.result.database_name.as_deref(),
            error,
            handler_sql: Some(self.result.handler_sql),
            dry_run: self.options.dry_run,
            migrations: &migrations,
            ..oplog::Record::new(
                self.operation,
                &self.options.environment,
                status,
                self.started,
                plugin,
            )
            .session(self.result.handler_session.as_ref())
        };
        if let Err(err) = oplog::append(project, &record) {
            self.result
                .warnings
                .push(format!("could not write the operation log: {err}"));
        }
    }
}

fn tracking_request(opened: &Opened) -> wit::TrackingRequest {
    wit::TrackingRequest {
        provider: opened.project.config.database.provider,
        database_name: opened.name.clone(),
        migrations_dir: GUEST_MIGRATIONS_DIR.to_owned(),
        tracking_table: opened.project.config.migrations.table.clone(),
    }
}

/// A migration whose script stopped part-way, on a server that keeps each
/// statement: what ran is named, so that it can be undone (then the
/// migration, fixed, runs again whole) or the rest done by hand.
fn stopped_part_way(
    failure: Failure,
    environment: &str,
    name: &str,
    partly: &crate::runtime::PartlyRun,
) -> Failure {
    let numbered = |statements: &[String]| {
        statements
            .iter()
            .enumerate()
            .map(|(index, statement)| format!("({}) {statement}", index + 1))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let ran = partly.completed.len();
    let mut failure = failure.cause(format!(
        "{} stopped at statement {}; the {ran} before it ran and stay in the database: {}",
        partly.path,
        ran + 1,
        numbered(&partly.completed)
    ));
    if let Some(statement) = &partly.failed {
        failure = failure.cause(format!("the statement that failed: {statement}"));
    }
    failure
        .help(format!(
            "To run it again: undo what those {ran} statement(s) did, fix {}, then: faber-db resolve {environment} --rolled-back {name} && faber-db migrate {environment}",
            partly.path
        ))
        .help(format!(
            "Or finish its remaining statements by hand, then: faber-db resolve {environment} --applied {name}"
        ))
}

/// An earlier migration failed and nobody said what became of it: the tool
/// applies nothing after it (Prisma: P3009), and neither does faber-db.
fn unresolved(environment: &str, failed: &tracking::Migration) -> Failure {
    let name = &failed.name;
    let mut failure = Failure::new(format!(
        "Migration {name} failed earlier and is not resolved"
    ))
    .cause("no migration is applied after a failed one until it is resolved; nothing was changed");
    if let Some(logs) = failed
        .row
        .as_ref()
        .and_then(|row| row.logs.as_deref())
        .map(str::trim)
        .filter(|logs| !logs.is_empty())
    {
        failure = failure.cause(crate::runtime::untrusted::clean(logs));
    }
    failure
        .help(format!(
            "If you rolled back what it did (or it did nothing), mark it so and migrate again: faber-db resolve {environment} --rolled-back {name}"
        ))
        .help(format!(
            "If you completed it by hand, mark it applied: faber-db resolve {environment} --applied {name}"
        ))
}

/// `generate-migration`: a new migration in the tool's layout.
#[derive(Debug, Serialize)]
pub struct Generated {
    pub path: String,
    pub migration: String,
    pub handler: HandlerRef,
}

pub async fn generate(cwd: Option<&Path>, name: &str, sql: String) -> Outcome<Done<Generated>> {
    let Project {
        dir,
        config,
        migrations_dir,
        tool,
        handler,
    } = OpenProject::open(cwd, |_| Ok(()))?.load_tool(false).await?;
    let folder = MigrationsFolder::prepare(&migrations_dir)?;
    let request = wit::CreateRequest {
        provider: config.database.provider,
        migrations_dir: GUEST_MIGRATIONS_DIR.to_owned(),
        name: name.to_owned(),
        sql,
    };
    let grant = Grant {
        directory: Some((migrations_dir.clone(), GUEST_MIGRATIONS_DIR.to_owned())),
        ..Grant::default()
    };
    let written = tool
        .create_migration(grant, &request)
        .await
        .map_err(components::failure)?;
    // Links out of the folder go first, so the written file is judged by
    // where it really is.
    for removed in folder.audit()? {
        crate::logging::emit(crate::logging::Level::Warn, "faber-db", &removed);
    }
    let inside = migrations_dir
        .join(&written)
        .canonicalize()
        .is_ok_and(|real| {
            real.is_file()
                && migrations_dir
                    .canonicalize()
                    .is_ok_and(|root| real.starts_with(root))
        });
    if !inside {
        return Err(Failure::new("The handler reported work it did not do")
            .cause(format!("{written} is not a file in the migrations folder"))
            .help("Report it to the handler's author"));
    }
    if let Err(failure) = super::handler_files::holds_only(&migrations_dir, &written, &request.sql)
    {
        folder.undo();
        return Err(failure);
    }
    folder
        .persist(std::slice::from_ref(&written))
        .await
        .map_err(|err| Failure::new("Cannot write the migration to disk").cause(err))?;
    let migration = written
        .split(['/', '.'])
        .next()
        .unwrap_or(&written)
        .to_owned();
    let path = format!(
        "{}/{written}",
        config.migrations.directory().trim_end_matches('/')
    );
    let mut done = Done::ok(
        Generated {
            path: path.clone(),
            migration: migration.clone(),
            handler,
        },
        format!("Wrote {path}"),
    );
    if request.sql.trim().is_empty() {
        if config.uses_prisma() {
            let migrations = config.migrations.directory();
            for step in super::prisma_schema::fill_with_diff(&dir, migrations, &path) {
                done = done.next(step);
            }
        } else {
            done = done.next(format!("Write the migration's SQL in {path}"));
        }
    }
    Ok(done.next("Apply it: faber-db migrate dev (then staging, production)"))
}
