//! `faber-db handler test`: what every handler must do, checked against the
//! real runtime and a real database: a SQLite file by default, or a scratch
//! database on the PostgreSQL or MySQL/MariaDB server a connection string
//! names (created for the run and dropped after it), so dialect bugs show
//! before users meet them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::db::{
    Access, ConnectionString, CreateError, Database, Expect, HandlerSession, Server, SessionPolicy,
    SqlError,
};
use crate::runtime::{
    CloudProvider, Grant, Limits, LoadedComponent, MigrationTool, Runtime, ScriptSession, Scripts,
    Shape, World,
};
use crate::runtime::{
    CreateRequest, HandlerInfo, InfrastructureRequest, InitializeOutcome, InitializeRequest,
    Provider, Resolution, TrackingRequest, TrackingState,
};
use crate::tracking::{self, State};

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

fn check(name: &'static str, result: Result<String, String>) -> Check {
    match result {
        Ok(detail) => Check {
            name,
            passed: true,
            detail,
        },
        Err(detail) => Check {
            name,
            passed: false,
            detail,
        },
    }
}

/// Runs every check that applies to the component at `path`; stops at the
/// first check that later ones depend on. A migration tool's database
/// checks run on `server` (a connection string to a server, whose database
/// part is ignored), else on a SQLite file.
pub async fn run(path: &Path, server: Option<&ConnectionString>) -> Vec<Check> {
    let mut checks = Vec::new();
    let runtime = match Runtime::new(Limits::default()) {
        Ok(runtime) => runtime,
        Err(failure) => {
            let help: String = failure
                .suggestions
                .iter()
                .map(|help| format!("; help: {help}"))
                .collect();
            checks.push(check("runtime", Err(format!("{failure}{help}"))));
            return checks;
        }
    };
    let name = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let loaded = runtime.load(&name, path).map_err(|err| err.to_string());
    checks.push(check(
        "loads as a component",
        loaded
            .as_ref()
            .map(|c| {
                let how = if c.from_cache {
                    "from the compile cache or this build"
                } else {
                    "compiled for this machine"
                };
                format!(
                    "sha256 {}; {how} in {:.1} s ({})",
                    c.sha256,
                    c.load_time.as_secs_f64(),
                    c.compiler.as_str()
                )
            })
            .map_err(Clone::clone),
    ));
    let Ok(component) = loaded else { return checks };
    let shape = runtime.inspect(&component).map_err(|err| err.to_string());
    checks.push(check(
        "built for a supported contract",
        shape
            .as_ref()
            .map(|s| format!("{} world, faber:db@{}", s.world.as_str(), s.wit_version))
            .map_err(Clone::clone),
    ));
    let Ok(shape) = shape else { return checks };
    match shape.world {
        World::MigrationTool => {
            migration_tool(&runtime, component, &shape, server, &mut checks).await
        }
        World::CloudProvider => cloud_provider(&runtime, component, &shape, &mut checks).await,
    }
    checks
}

fn info_is_valid(info: &HandlerInfo, shape: &Shape) -> Result<String, String> {
    let name_ok = !info.name.is_empty()
        && info
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let version_ok = {
        let parts: Vec<&str> = info
            .version
            .split(['-', '+'])
            .next()
            .unwrap_or_default()
            .split('.')
            .collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    let problems: Vec<String> = [
        (!name_ok).then(|| format!("name {:?} is not lower-case kebab-case", info.name)),
        (!version_ok).then(|| format!("version {:?} is not semver", info.version)),
        (info.wit_version != shape.wit_version).then(|| {
            format!(
                "wit-version says {:?} but the component exports faber:db@{}",
                info.wit_version, shape.wit_version
            )
        }),
        info.description
            .trim()
            .is_empty()
            .then(|| "description is empty".to_owned()),
        info.providers
            .is_empty()
            .then(|| "providers is empty".to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if problems.is_empty() {
        Ok(format!(
            "{} {} for faber:db@{}",
            info.name, info.version, info.wit_version
        ))
    } else {
        Err(problems.join("; "))
    }
}

async fn migration_tool(
    runtime: &Runtime,
    component: LoadedComponent,
    shape: &Shape,
    server: Option<&ConnectionString>,
    checks: &mut Vec<Check>,
) {
    let tool = match MigrationTool::new(runtime, component) {
        Ok(tool) => tool,
        Err(err) => return checks.push(check("links", Err(err.to_string()))),
    };
    let info = tool.info().await.map_err(|err| err.to_string());
    checks.push(check(
        "info is valid",
        info.as_ref()
            .map_err(Clone::clone)
            .and_then(|info| info_is_valid(info, shape)),
    ));
    let Ok(info) = info else { return };
    checks.push(check("read-project", reads_an_empty_project(&tool).await));
    let provider = server.map_or(Provider::Sqlite, |target| target.provider());
    if !info.providers.contains(&provider) {
        return checks.push(check(
            "initialize-schema",
            Ok(format!(
                "skipped: the handler does not support {}",
                provider_name(provider)
            )),
        ));
    }
    let scratch = match Scratch::new(server, provider).await {
        Ok(scratch) => scratch,
        Err(err) => return checks.push(check("scratch database", Err(err))),
    };
    checks.push(check("scratch database", Ok(scratch.describe())));
    on_database(&tool, &scratch, checks).await;
    if let Err(err) = scratch.remove().await {
        checks.push(check("scratch database removed", Err(err)));
    }
}

/// On a project without the tool's files, `read-project` answers with the
/// tool's conventions, in the shapes the host takes.
async fn reads_an_empty_project(tool: &MigrationTool) -> Result<String, String> {
    let project = tempfile::tempdir().map_err(|err| err.to_string())?;
    match tool.read_project(project.path()).await {
        Ok(None) => Ok(format!(
            "skipped: faber:db@{} has no read-project",
            tool.shape().wit_version
        )),
        Ok(Some(settings)) if settings.read_from.is_empty() => Ok(format!(
            "{}: migrations in {} by convention",
            settings.tool_name, settings.migrations_directory
        )),
        Ok(Some(settings)) => Err(format!(
            "an empty project was read as holding {}",
            settings.read_from.join(", ")
        )),
        Err(err) => Err(err.to_string()),
    }
}

fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Postgresql => "PostgreSQL",
        Provider::Mysql => "MySQL",
        Provider::Sqlite => "SQLite",
    }
}

/// The checks that need the scratch database.
async fn on_database(tool: &MigrationTool, scratch: &Scratch, checks: &mut Vec<Check>) {
    let first = scratch.initialize(tool).await;
    checks.push(check(
        "initialize-schema succeeds on a fresh database",
        first
            .as_ref()
            .map(|o| format!("baseline {}", o.baseline_migration))
            .map_err(Clone::clone),
    ));
    let Ok(first) = first else { return };
    let rows = scratch.tracking_rows(&first.tracking_table).await;
    checks.push(check(
        "the reported tracking table exists",
        rows.clone()
            .map(|n| format!("{} holds {n} row(s)", first.tracking_table)),
    ));
    checks.push(check(
        "files are written where reported",
        scratch.files_exist(&first.files_written),
    ));
    checks.push(check(
        "applied migrations are recorded",
        match &rows {
            Ok(n) if (*n as usize) >= first.applied.len() => {
                Ok(format!("{} applied, {n} recorded", first.applied.len()))
            }
            Ok(n) => Err(format!(
                "{} reported applied, {n} row(s) recorded",
                first.applied.len()
            )),
            Err(err) => Err(err.clone()),
        },
    ));
    let second = scratch.initialize(tool).await;
    let again = rows.clone().ok();
    let after = scratch.tracking_rows(&first.tracking_table).await.ok();
    checks.push(check(
        "a second call changes nothing",
        match second {
            Err(err) => Err(format!("the second call failed: {err}")),
            Ok(o)
                if o.tracking_table_created
                    || o.baseline_created
                    || !o.files_written.is_empty()
                    || !o.applied.is_empty() =>
            {
                Err(format!("the second call created or applied again: {o:?}"))
            }
            Ok(_) if again != after => Err(format!("rows changed from {again:?} to {after:?}")),
            Ok(_) => Ok("nothing created, written or applied".to_owned()),
        },
    ));
    if tool.migrates() {
        lifecycle(tool, scratch, checks).await;
    }
    checks.push(check("stays inside its grant", scratch.nothing_outside()));
}

/// The 0.3.0 operations on the initialized scratch database: a migration
/// created, seen pending, applied once, a broken one failing without being
/// recorded as applied, and resolved.
async fn lifecycle(tool: &MigrationTool, scratch: &Scratch, checks: &mut Vec<Check>) {
    let created = scratch
        .create_and_find(
            tool,
            "conformance table",
            "CREATE TABLE conformance_t (id INTEGER);",
        )
        .await;
    checks.push(check(
        "create-migration writes the file it reports",
        created.clone().and_then(|(file, _)| {
            scratch.files_exist(std::slice::from_ref(&file))?;
            Ok(file)
        }),
    ));
    let Ok((file, found)) = created else { return };
    let Some(name) = found else {
        return checks.push(check(
            "read-state lists the new migration as pending",
            Err(format!("no migration of the folder is written at {file}")),
        ));
    };
    checks.push(check(
        "read-state lists the new migration as pending",
        scratch.state_of(tool, &name, State::Pending).await,
    ));
    let applied = scratch.apply(tool, &name).await;
    checks.push(check(
        "apply-migration runs it and records it",
        match applied {
            Err(err) => Err(err),
            Ok(()) => match scratch.table_exists("conformance_t").await {
                Ok(true) => scratch.state_of(tool, &name, State::Applied).await,
                Ok(false) => Err("the migration's table was not created".to_owned()),
                Err(err) => Err(err),
            },
        },
    ));
    checks.push(check(
        "apply-migration refuses to apply it twice",
        match scratch.apply(tool, &name).await {
            Ok(()) => Err("applied a second time".to_owned()),
            Err(_) => Ok("refused".to_owned()),
        },
    ));
    let broken = match scratch
        .create_and_find(tool, "broken", "THIS IS NOT SQL;")
        .await
    {
        Ok((_, found)) => found,
        Err(_) => None,
    };
    let Some(broken) = broken else {
        return checks.push(check(
            "a failing migration is not recorded as applied",
            Err("could not create a second migration".to_owned()),
        ));
    };
    checks.push(check(
        "a failing migration is not recorded as applied",
        match scratch.apply(tool, &broken).await {
            Ok(()) => Err("invalid SQL was reported applied".to_owned()),
            Err(_) => match scratch.read(tool).await.map(|s| judged(&s, &broken)) {
                Ok(Some(State::Applied)) => Err("it is recorded as applied".to_owned()),
                Ok(state) => Ok(format!("{:?}", state.map(State::as_str))),
                Err(err) => Err(err),
            },
        },
    ));
    checks.push(check(
        "resolve-migration --applied records it as applied",
        match scratch.resolve(tool, &broken, Resolution::Applied).await {
            Err(err) => Err(err),
            Ok(()) => scratch.state_of(tool, &broken, State::Applied).await,
        },
    ));
}

fn judged(state: &TrackingState, name: &str) -> Option<State> {
    tracking::classify(state)
        .into_iter()
        .find(|m| m.name == name)
        .map(|m| m.state)
}

async fn cloud_provider(
    runtime: &Runtime,
    component: LoadedComponent,
    shape: &Shape,
    checks: &mut Vec<Check>,
) {
    let provider = match CloudProvider::new(runtime, component) {
        Ok(provider) => provider,
        Err(err) => return checks.push(check("links", Err(err.to_string()))),
    };
    let info = provider.info().await.map_err(|err| err.to_string());
    checks.push(check(
        "info is valid",
        info.as_ref()
            .map_err(Clone::clone)
            .and_then(|info| info_is_valid(info, shape)),
    ));
    let hostings = provider.hostings().await.map_err(|err| err.to_string());
    checks.push(check(
        "hostings are named",
        match &hostings {
            Ok(list) if !list.is_empty() => Ok(list.join(", ")),
            Ok(_) => Err("hostings is empty".to_owned()),
            Err(err) => Err(err.clone()),
        },
    ));
    let (Ok(info), Ok(hostings)) = (info, hostings) else {
        return;
    };
    let request = InfrastructureRequest {
        project: "conformance".to_owned(),
        environment: "dev".to_owned(),
        hosting: hostings[0].clone(),
        provider: info
            .providers
            .first()
            .copied()
            .unwrap_or(Provider::Postgresql),
        settings: "{}".to_owned(),
    };
    checks.push(check(
        "plan describes what it would create",
        match provider.plan(&request).await {
            Ok(lines) if !lines.is_empty() => Ok(lines.join("; ")),
            Ok(_) => Err("the plan is empty".to_owned()),
            Err(err) => Err(err.to_string()),
        },
    ));
}

/// A throwaway project: a migrations folder, and a scratch database (a
/// SQLite file beside the folder, or a database made on the given server).
struct Scratch {
    _dir: tempfile::TempDir,
    project: PathBuf,
    /// Where the scratch database lives, at server level.
    target: ConnectionString,
    name: String,
    provider: Provider,
}

/// A handler's confined session in the scratch database, ended after the
/// call as `init` ends it.
struct Session {
    server: Server,
    admin: Database,
    handler: HandlerSession,
    target: ConnectionString,
}

impl Session {
    /// The call's result, once the session it was granted is gone; what
    /// the handler left is checked as `init` checks it when `initialized`
    /// names the tracking table the call reported.
    async fn finish<T>(
        mut self,
        returned: crate::runtime::Returned,
        result: Result<T, String>,
        initialized: impl FnOnce(&T) -> Option<String>,
    ) -> Result<T, String> {
        self.handler.take_back(returned.database);
        let table = result.as_ref().ok().and_then(initialized);
        let check = table.as_deref().map(|table| crate::db::Check {
            target: &self.target,
            table,
            expect: Expect::Initialized,
        });
        // Closing also ends a session a failed call lost.
        let closed = self
            .handler
            .close(&mut self.server, Some(&mut self.admin), check)
            .await;
        self.admin.close().await;
        self.server.close().await;
        let value = result?;
        closed.map_err(|failure| failure.to_string())?;
        Ok(value)
    }
}

impl Scratch {
    async fn new(server: Option<&ConnectionString>, provider: Provider) -> Result<Scratch, String> {
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let project = dir.path().join("project");
        std::fs::create_dir_all(project.join("migrations")).map_err(|err| err.to_string())?;
        let (target, name) = match server {
            Some(target) => (
                target.clone(),
                format!("faber_conformance_{}", crate::db::random_hex(6)),
            ),
            None => (
                ConnectionString::File {
                    dir: project.clone(),
                    file: None,
                },
                "conformance".to_owned(),
            ),
        };
        let mut connection = Server::connect(&target).await.map_err(|f| f.to_string())?;
        match connection.create_database(&target, &name).await {
            Ok(()) => {}
            Err(CreateError::AlreadyExists) => {
                return Err(format!("the scratch database {name} already exists"));
            }
            Err(CreateError::Failed(err)) => {
                return Err(format!(
                    "cannot create the scratch database {name} on {}: {}",
                    target.masked(),
                    err.message
                ));
            }
        }
        Ok(Scratch {
            _dir: dir,
            project,
            target,
            name,
            provider,
        })
    }

    /// Which database the checks ran on (its server masked).
    fn describe(&self) -> String {
        format!(
            "{} database {} on {}",
            provider_name(self.provider),
            self.name,
            self.target.masked()
        )
    }

    /// Drops the scratch database; every session in it is closed by now.
    async fn remove(self) -> Result<(), String> {
        let mut server = Server::connect(&self.target)
            .await
            .map_err(|f| f.to_string())?;
        let dropped = server.drop_database(&self.target, &self.name).await;
        server.close().await;
        dropped.map_err(|err| {
            format!(
                "the scratch database {} could not be dropped ({}): drop it by hand",
                self.name, err.message
            )
        })
    }

    fn migrations(&self) -> PathBuf {
        self.project.join("migrations")
    }

    async fn initialize(&self, tool: &MigrationTool) -> Result<InitializeOutcome, String> {
        let request = InitializeRequest {
            provider: self.provider,
            database_name: self.name.clone(),
            migrations_dir: "/migrations".to_owned(),
            tracking_table: None,
        };
        let (grant, session) = self.grant().await?;
        let (returned, outcome) = tool.initialize_schema(grant, &request).await;
        let table = |outcome: &InitializeOutcome| Some(outcome.tracking_table.clone());
        session
            .finish(returned, outcome.map_err(|err| err.to_string()), table)
            .await
    }

    fn tracking_request(&self) -> TrackingRequest {
        TrackingRequest {
            provider: self.provider,
            database_name: self.name.clone(),
            migrations_dir: "/migrations".to_owned(),
            tracking_table: None,
        }
    }

    async fn read(&self, tool: &MigrationTool) -> Result<TrackingState, String> {
        let (grant, session) = self.grant().await?;
        let (returned, state) = tool.read_state(grant, &self.tracking_request()).await;
        session
            .finish(returned, state.map_err(|err| err.to_string()), |_| None)
            .await
    }

    /// One migration applied as `migrate` applies it: by a handler whose
    /// migrations' SQL the host runs, on a session kept to its tracking
    /// table's rows, its scripts run by the host.
    async fn apply(&self, tool: &MigrationTool, name: &str) -> Result<(), String> {
        let (mut grant, mut session) = self.grant().await?;
        let mut table = None;
        let kept = match tool
            .rows_kept(self.provider, &self.tracking_request())
            .await
        {
            Ok(Some(kept)) => {
                let table = table.insert(kept);
                session.handler.take_back(grant.database.take());
                let kept = session
                    .handler
                    .keep_to_rows(
                        &mut session.server,
                        &mut session.admin,
                        &self.target,
                        &self.name,
                        table,
                        Duration::from_secs(60),
                    )
                    .await;
                grant.database = session.handler.lend();
                kept.map_err(|failure| failure.to_string())
            }
            Ok(None) => Ok(()),
            Err(failure) => Err(failure.to_string()),
        };
        if let Err(failure) = kept {
            let returned = crate::runtime::Returned::from_grant(grant);
            return session.finish(returned, Err(failure), |_| None).await;
        }
        grant.scripts = Some(Scripts::new(
            self.migrations(),
            table,
            ScriptSession::of(session.handler.lend_writer(), session.handler.rows_only()),
        ));
        let names = [name.to_owned()];
        let (returned, applied) = tool
            .apply_migrations(grant, &self.tracking_request(), &names)
            .await;
        let applied = applied
            .map(drop)
            .map_err(|stopped| stopped.failure.to_string());
        session.finish(returned, applied, |_| None).await
    }

    async fn resolve(
        &self,
        tool: &MigrationTool,
        name: &str,
        resolution: Resolution,
    ) -> Result<(), String> {
        let (grant, session) = self.grant().await?;
        let (returned, row) = tool
            .resolve_migration(grant, &self.tracking_request(), name, resolution)
            .await;
        session
            .finish(
                returned,
                row.map(drop).map_err(|err| err.to_string()),
                |_| None,
            )
            .await
    }

    async fn create(&self, tool: &MigrationTool, name: &str, sql: &str) -> Result<String, String> {
        let grant = Grant {
            directory: Some((self.migrations(), "/migrations".to_owned())),
            ..Grant::default()
        };
        let request = CreateRequest {
            provider: self.provider,
            migrations_dir: "/migrations".to_owned(),
            name: name.to_owned(),
            sql: sql.to_owned(),
        };
        tool.create_migration(grant, &request)
            .await
            .map_err(|err| err.to_string())
    }

    /// Creates a migration; its file, and its name as read-state gives it:
    /// the one migration of the folder that was not there before (a tool
    /// may name a migration otherwise than its file, as TypeORM names it
    /// by its class).
    async fn create_and_find(
        &self,
        tool: &MigrationTool,
        name: &str,
        sql: &str,
    ) -> Result<(String, Option<String>), String> {
        let before = self.folder_names(tool).await;
        let file = self.create(tool, name, sql).await?;
        let found = self
            .folder_names(tool)
            .await
            .into_iter()
            .find(|name| !before.contains(name));
        Ok((file, found))
    }

    async fn folder_names(&self, tool: &MigrationTool) -> Vec<String> {
        self.read(tool).await.map_or_else(
            |_| Vec::new(),
            |state| state.folder.into_iter().map(|m| m.name).collect(),
        )
    }

    async fn state_of(
        &self,
        tool: &MigrationTool,
        name: &str,
        want: State,
    ) -> Result<String, String> {
        let state = self.read(tool).await?;
        match judged(&state, name) {
            Some(found) if found == want => Ok(format!("{name} is {}", want.as_str())),
            found => Err(format!(
                "{name} is {}, expected {}",
                found.map_or("absent", State::as_str),
                want.as_str()
            )),
        }
    }

    /// The host's own session in the scratch database.
    async fn admin(&self) -> Result<(Server, Database), String> {
        let server = Server::connect(&self.target)
            .await
            .map_err(|f| f.to_string())?;
        let database = server
            .open(&self.target, &self.name)
            .await
            .map_err(|f| f.to_string())?;
        Ok((server, database))
    }

    /// Whether `table` exists as a plain table (not a view, not under row
    /// security), read on a session of the host's own.
    async fn table_exists(&self, table: &str) -> Result<bool, String> {
        self.on_admin(async |database| database.is_plain_table(&self.target, table).await)
            .await
    }

    /// `work` on a session of the host's own, closed (with its server
    /// connection) whatever `work` returned.
    async fn on_admin<T>(
        &self,
        work: impl AsyncFnOnce(&mut Database) -> Result<T, SqlError>,
    ) -> Result<T, String> {
        let (server, mut database) = self.admin().await?;
        let result = work(&mut database).await.map_err(|err| err.message);
        database.close().await;
        server.close().await;
        result
    }

    /// The folder and the same confined session `init` gives a handler.
    async fn grant(&self) -> Result<(Grant, Session), String> {
        let (mut server, mut admin) = self.admin().await?;
        let opened = server
            .open_handler_session(
                &mut admin,
                &self.target,
                &self.name,
                &SessionPolicy::LeastPrivilege { fallback: false },
                Duration::from_secs(60),
                Access::Write,
            )
            .await;
        let mut handler = opened.map_err(|failure| failure.to_string())?;
        let grant = Grant {
            directory: Some((self.migrations(), "/migrations".to_owned())),
            database: handler.lend(),
            ..Grant::default()
        };
        let session = Session {
            server,
            admin,
            handler,
            target: self.target.clone(),
        };
        Ok((grant, session))
    }

    /// Rows in `table`, read on a session of the host's own.
    async fn tracking_rows(&self, table: &str) -> Result<i64, String> {
        if !self.table_exists(table).await? {
            return Err(format!("no table {table:?} in the database"));
        }
        self.on_admin(async |database| database.count_rows(&self.target, table).await)
            .await
    }

    fn files_exist(&self, files: &[String]) -> Result<String, String> {
        for file in files {
            let relative = Path::new(file);
            if relative.is_absolute()
                || relative
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(format!(
                    "{file:?} is not a path inside the migrations folder"
                ));
            }
            if !self.migrations().join(relative).is_file() {
                return Err(format!("{file:?} was reported written but is not there"));
            }
        }
        Ok(format!("{} file(s)", files.len()))
    }

    fn nothing_outside(&self) -> Result<String, String> {
        let unexpected: Vec<String> = std::fs::read_dir(&self.project)
            .map_err(|err| err.to_string())?
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name != "migrations" && !name.starts_with("conformance.db"))
            .collect();
        if unexpected.is_empty() {
            Ok("only the migrations folder and the database changed".to_owned())
        } else {
            Err(format!(
                "unexpected entries next to the grant: {}",
                unexpected.join(", ")
            ))
        }
    }
}
