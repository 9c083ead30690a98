//! `faber-db init <environment>`: the initialize-database workflow.
//!
//! [`Init::execute`] reads top to bottom as the seventeen numbered steps; each
//! step is one method below it, in order, and hands what it settles to the
//! steps after it as values. A failure at any step stops the run, undoes what
//! this run created (never anything that existed before: the one record of
//! that is [`Undo`]), logs the operation and returns the report.

pub(crate) mod approval;
mod claims;
// One file with the SDK's, which reads the other tools' files the same way.
#[path = "../../../handlers/faber-db-handler/src/config_text.rs"]
mod config_text;
pub mod environment;
mod handler_files;
mod health;
mod infrastructure;
pub mod lifecycle;
pub mod lint;
pub(crate) mod migrations;
mod oplog;
pub mod prisma_schema;
mod respond;
pub mod steps;
#[cfg(test)]
mod tests;
pub mod tool_project;
mod undo;

use std::path::{Path, PathBuf};
use std::time::Instant;

use environment::OpenProject;
use infrastructure::{Cloud, Found};
use migrations::MigrationsFolder;
use steps::{Halt, Progress, Recorder, Step};
use undo::Undo;

use crate::components;
use crate::config::{self, CloudAuth, Config, HandlerPrivileges};
use crate::db::{Access, Check, ConnectionString, CreateError, Database, Expect, Server};
use crate::failure::{Failure, Outcome};
use crate::names;
use crate::report::{
    Connectivity, HandlerRef, HealthCheck, InfrastructureOrigin, InitReport, InitResult,
};
use crate::runtime as wit;
use crate::runtime::{Grant, MigrationTool};

/// The sandbox path at which a handler sees the migrations folder.
pub(crate) const GUEST_MIGRATIONS_DIR: &str = "/migrations";

/// A table that exists from schema initialization until the health check
/// passes: a database holding it was left by an interrupted run.
const IN_PROGRESS_MARKER: &str = "_faber_db_in_progress";

pub struct InitOptions {
    pub environment: String,
    pub database_name: Option<String>,
    pub cwd: Option<PathBuf>,
    pub approve: bool,
    pub dry_run: bool,
    /// Continue a database left unfinished by an interrupted run.
    pub resume: bool,
    /// Initialize an existing, empty database created outside faber-db.
    pub adopt: bool,
    /// Print each step as it completes (the human output).
    pub live: bool,
    /// A fleet's tenant: its database, in place of the environment's
    /// connection string.
    pub target: Option<ConnectionString>,
}

/// Runs the workflow and returns its report; never panics on bad input.
pub async fn init(options: InitOptions) -> InitReport {
    let mut run = Init::new(options);
    let outcome = run.execute().await;
    run.finish(outcome).await
}

/// Times a step, records its outcome and yields its value (or stops the run).
macro_rules! step {
    ($run:ident, $step:expr, $work:expr) => {{
        let started = Instant::now();
        let result = $work.map_err(Halt::from);
        $run.steps.record($step, started, result)?
    }};
}

struct Init {
    options: InitOptions,
    started: Instant,
    steps: Recorder,
    result: InitResult,
    /// The project folder, once step 2 found it (for the operation log).
    project: Option<PathBuf>,
    logs_plugin: Option<String>,
    /// What this run created, for cleanup.
    undo: Undo,
    /// What cleanup did, for the report.
    cleanup: Vec<String>,
}

/// How step 11 found the database, for steps 12 and 13.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Start {
    /// It does not exist: step 12 creates it.
    Create,
    /// Left by an interrupted run (`--resume`) or empty (`--adopt`): used as
    /// it is, and never dropped by this run.
    Resume,
}

/// What an existing database holds.
enum Contents {
    /// Nothing: made outside faber-db, or by a run killed right after
    /// creating it.
    Empty,
    /// faber-db's in-progress marker: a run that did not finish.
    Marked,
    /// Anything else: a database in use.
    Other,
}

/// What step 5 settles about the connection.
enum Connection {
    /// The environment's variable gives it.
    Given(ConnectionString),
    /// Cloud hosting without one: step 9 builds it from the infrastructure.
    FromInfrastructure,
}

impl Connection {
    fn given(self) -> Option<ConnectionString> {
        match self {
            Connection::Given(target) => Some(target),
            Connection::FromInfrastructure => None,
        }
    }
}

/// What step 9 leaves when the infrastructure was missing.
enum Provisioned {
    Available(wit::Infrastructure, String),
    /// A dry run: the plan, nothing created.
    Planned(String),
}

impl Init {
    fn new(options: InitOptions) -> Init {
        let observer: Box<dyn FnMut(&crate::report::StepRecord)> = if options.live {
            Box::new(crate::report::human::print_step)
        } else {
            Box::new(|_| {})
        };
        let result = InitResult {
            environment: options.environment.clone(),
            dry_run: options.dry_run,
            ..InitResult::default()
        };
        Init {
            options,
            started: Instant::now(),
            steps: Recorder::new(observer),
            result,
            project: None,
            logs_plugin: None,
            undo: Undo::default(),
            cleanup: Vec::new(),
        }
    }

    /// Steps 1 to 15; yields the handler's next steps for the report.
    async fn execute(&mut self) -> Result<Vec<String>, Halt> {
        step!(self, Step::ValidateParameters, self.validate_parameters());
        let dir = step!(self, Step::WorkingDirectory, self.working_directory());
        let project = step!(self, Step::LoadConfiguration, self.load_configuration(dir));
        let connection_env = step!(self, Step::Environment, self.environment(&project.config));
        let connection = step!(
            self,
            Step::ConnectionString,
            self.connection_string(&project, connection_env.as_deref())
        );
        let name = self.database_name(&project.dir, &connection);
        step!(self, Step::Approval, self.approval(&project.config, &name));
        step!(self, Step::HostingType, self.hosting_type(&project.config));
        let cloud = step!(
            self,
            Step::InfrastructureCheck,
            self.infrastructure_check(&project).await
        );
        let target = step!(
            self,
            Step::Provisioning,
            self.provisioning(&project, cloud, connection).await
        );
        let name = step!(self, Step::DatabaseName, self.determine_database_name(name));
        let Some(target) = target else {
            self.skip(
                &[
                    Step::ExistenceCheck,
                    Step::CreateDatabase,
                    Step::InitializeSchema,
                    Step::VerifyConnectivity,
                    Step::HealthCheck,
                ],
                "dry run: nothing to connect to until the infrastructure exists",
            );
            return Ok(Vec::new());
        };
        let (mut server, start) = step!(
            self,
            Step::ExistenceCheck,
            self.existence_check(&project.dir, &target, &name).await
        );
        let outcome = self
            .on_server(&project, &target, &name, &mut server, start)
            .await;
        if let Err(Halt {
            stop: approval::Stop::Failed(_),
            ..
        }) = outcome
        {
            let cleanup = self.undo.run(&mut server, &target, &name).await;
            self.result.database_created &= !cleanup.dropped_database;
            self.cleanup = cleanup.done;
        }
        server.close().await;
        outcome
    }

    /// Steps 12 to 15, on the server step 11 connected to.
    async fn on_server(
        &mut self,
        project: &OpenProject,
        target: &ConnectionString,
        name: &str,
        server: &mut Server,
        start: Start,
    ) -> Result<Vec<String>, Halt> {
        let (tool, handler, session) = step!(
            self,
            Step::CreateDatabase,
            self.create_database(project, target, name, server, start)
                .await
        );
        let initialized = step!(
            self,
            Step::InitializeSchema,
            self.initialize_schema(
                project,
                target,
                name,
                server,
                start,
                (tool, handler),
                session
            )
            .await
        );
        let Some(Initialized {
            mut session,
            tracking_table,
            next_steps,
        }) = initialized
        else {
            self.skip(&[Step::VerifyConnectivity, Step::HealthCheck], "dry run");
            return Ok(Vec::new());
        };
        // The host's session is closed whatever happens: a session left
        // open would keep cleanup from dropping the database.
        let checked = async {
            step!(
                self,
                Step::VerifyConnectivity,
                self.verify_connectivity(name, target, &mut session, &tracking_table)
                    .await
            );
            step!(
                self,
                Step::HealthCheck,
                self.health_check(server, target, &mut session, &tracking_table)
                    .await
            );
            Ok::<(), Halt>(())
        }
        .await;
        session.close().await;
        checked.map(|()| next_steps)
    }

    // Step 1.
    fn validate_parameters(&self) -> Outcome<Progress<()>> {
        let environment = &self.options.environment;
        environment::check_name(environment, "init")?;
        let name = match &self.options.database_name {
            Some(name) => format!(", database name {}", names::validate(name)?),
            None => String::new(),
        };
        Ok(Progress::Done(
            (),
            format!("environment {environment}{name}"),
        ))
    }

    // Step 2.
    fn working_directory(&mut self) -> Outcome<Progress<PathBuf>> {
        let (dir, source) = crate::workdir::resolve(self.options.cwd.as_deref())?;
        self.project = Some(dir.clone());
        let detail = format!("{} ({source})", dir.display());
        Ok(Progress::Done(dir, detail))
    }

    // Step 3.
    fn load_configuration(&mut self, dir: PathBuf) -> Outcome<Progress<OpenProject>> {
        let project = OpenProject::read(dir, |_| Ok(()))?;
        let (dir, config) = (&project.dir, &project.config);
        self.logs_plugin = config.integration.logs_plugin.clone();
        self.result.provider = Some(config.database.provider);
        self.result.hosting = Some(config.database.hosting);
        self.result.migrations_directory = Some(config.migrations.directory().to_owned());
        let detail = format!(
            "{} ({}, {}, {})",
            config::config_path(dir)
                .strip_prefix(dir)
                .unwrap_or(Path::new(config::CONFIG_FILE))
                .display(),
            config.database.provider,
            config.database.hosting,
            config.database.migration_tool
        );
        Ok(Progress::Done(project, detail))
    }

    // Step 4.
    fn environment(&self, config: &Config) -> Outcome<Progress<Option<String>>> {
        let name = &self.options.environment;
        let environment = environment::find(config, name)?;
        let connection = match &environment.connection_string_env {
            Some(variable) => format!("connection string in ${variable}"),
            None => "no connection string: reached through its infrastructure".to_owned(),
        };
        let detail = format!(
            "'{name}' found ({connection}{})",
            if environment.require_approval {
                ", approval required"
            } else {
                ""
            }
        );
        Ok(Progress::Done(
            environment.connection_string_env.clone(),
            detail,
        ))
    }

    // Step 5. A variable that is set always wins; a cloud environment
    // without one is reached through its infrastructure after step 9.
    fn connection_string(
        &mut self,
        project: &OpenProject,
        variable: Option<&str>,
    ) -> Outcome<Progress<Connection>> {
        let config = &project.config;
        if let Some(target) = &self.options.target {
            self.result.database_url = Some(target.masked());
            let detail = format!("the tenant's database ({})", target.masked());
            return Ok(Progress::Done(Connection::Given(target.clone()), detail));
        }
        let Some(target) = environment::connection_string(&project.dir, config, variable)? else {
            return self.no_connection_string(&project.dir, config, variable);
        };
        let variable = variable.unwrap_or_default();
        self.result.database_url = Some(target.masked());
        let detail = format!("${variable} is set ({})", target.masked());
        Ok(Progress::Done(Connection::Given(target), detail))
    }

    /// Step 5 without a connection string: fine for cloud hosting, which
    /// connects to its infrastructure; an error for a local server.
    fn no_connection_string(
        &self,
        dir: &Path,
        config: &Config,
        variable: Option<&str>,
    ) -> Outcome<Progress<Connection>> {
        let environment = &self.options.environment;
        if config.database.hosting.is_aws() {
            let login = match config.environments[environment].connect.auth {
                CloudAuth::ManagedSecret => "the RDS-managed master secret",
                CloudAuth::Iam => "an IAM token",
            };
            let unset = match variable {
                Some(variable) => format!("${variable} is not set"),
                None => "no connection variable".to_owned(),
            };
            let detail = format!(
                "{unset}: after step 9 the connection is built from the infrastructure (endpoint from RDS, login with {login})"
            );
            return Ok(Progress::Skipped(Connection::FromInfrastructure, detail));
        }
        Err(environment::no_connection_string(
            dir,
            config,
            environment,
            variable,
        ))
    }

    /// The name step 10 settles on; the approval prompt of step 6 shows it.
    fn database_name(&self, project: &Path, connection: &Connection) -> (String, &'static str) {
        let target = match connection {
            Connection::Given(target) => Some(target),
            Connection::FromInfrastructure => None,
        };
        environment::database_name(
            project,
            &self.options.environment,
            self.options.database_name.as_deref(),
            target,
        )
    }

    // Step 6.
    fn approval(&self, config: &Config, name: &(String, &str)) -> Result<Progress<()>, Halt> {
        let environment = &self.options.environment;
        let operation = approval::Operation::CreateDatabase {
            database: &name.0,
            unconfined_handlers: config
                .environments
                .get(environment)
                .is_some_and(|env| env.handler_privileges == HandlerPrivileges::Connection),
        };
        match self.ask_approval(config, operation, Step::Approval)? {
            None => Ok(Progress::Skipped(
                (),
                format!("{environment} is not a protected environment"),
            )),
            Some(how) => Ok(Progress::Done((), format!("{environment}: {how}"))),
        }
    }

    /// Approval for `operation` on a protected environment: how it was
    /// given, or `None` when none is needed; declined cancels the run at `step`.
    fn ask_approval(
        &self,
        config: &Config,
        operation: approval::Operation<'_>,
        step: Step,
    ) -> Result<Option<&'static str>, Halt> {
        let environment = &self.options.environment;
        let request = approval::Request {
            command: "init",
            environment,
            operation,
            protected: config.is_protected(environment),
            approved_by_flag: self.options.approve,
            dry_run: self.options.dry_run,
        };
        approval::require(&request).map_err(|stop| Halt { step, stop })
    }

    // Step 7.
    fn hosting_type(&self, config: &Config) -> Outcome<Progress<()>> {
        let hosting = config.database.hosting;
        let kind = if hosting.is_cloud() {
            "cloud hosting: infrastructure is checked and provisioned through a handler"
        } else {
            "local hosting: the server is expected to be running"
        };
        Ok(Progress::Done((), format!("{hosting} ({kind})")))
    }

    // Step 8.
    async fn infrastructure_check(
        &mut self,
        project: &OpenProject,
    ) -> Outcome<Progress<Option<(Cloud, Found)>>> {
        if !project.config.database.hosting.is_cloud() {
            self.result.infrastructure = Some(InfrastructureOrigin::Existing);
            return Ok(Progress::Skipped(None, "local hosting".to_owned()));
        }
        let cloud = Cloud::open(
            &project.dir,
            &project.config,
            &self.options.environment,
            self.options.dry_run,
        )
        .await?;
        let found = cloud.find().await?;
        let detail = match &found {
            Found::Ready(infrastructure) => {
                self.result.infrastructure = Some(InfrastructureOrigin::Existing);
                self.result.endpoint = infrastructure.endpoint.clone();
                format!(
                    "Infrastructure already exists: {} ({})",
                    infrastructure.identifier,
                    infrastructure
                        .endpoint
                        .as_deref()
                        .unwrap_or("no endpoint yet")
                )
            }
            Found::Incomplete(infrastructure) => format!(
                "{} exists but is {}: provisioning will resume",
                infrastructure.identifier, infrastructure.status
            ),
            Found::Missing => format!(
                "no infrastructure for {} yet (asked {})",
                self.options.environment,
                cloud.handler()
            ),
        };
        Ok(Progress::Done(Some((cloud, found)), detail))
    }

    // Step 9. Ends with the infrastructure available and, for an
    // environment without a connection string, reachable from here: the
    // connection to it is built and checked (see `crate::cloud`). Yields the
    // connection steps 11-15 use; none in a dry run before anything exists.
    async fn provisioning(
        &mut self,
        project: &OpenProject,
        cloud: Option<(Cloud, Found)>,
        connection: Connection,
    ) -> Result<Progress<Option<ConnectionString>>, Halt> {
        let Some((cloud, found)) = cloud else {
            return Ok(Progress::Skipped(
                connection.given(),
                "local hosting".to_owned(),
            ));
        };
        let (infrastructure, detail, created) = match found {
            Found::Ready(infrastructure) => (
                infrastructure,
                "infrastructure already exists".to_owned(),
                false,
            ),
            found => match self.provision(&project.config, &cloud, found).await? {
                Provisioned::Available(infrastructure, detail) => (infrastructure, detail, true),
                Provisioned::Planned(detail) => {
                    return Ok(Progress::Skipped(connection.given(), detail));
                }
            },
        };
        let Connection::FromInfrastructure = connection else {
            let target = connection.given();
            return Ok(if created {
                Progress::Done(target, detail)
            } else {
                Progress::Skipped(target, detail)
            });
        };
        let reached = cloud
            .connect(&project.dir, &project.config, &infrastructure)
            .await
            .map_err(|failure| {
                failure.help(format!(
                    "{} is kept: run the same command again once this is fixed; it finds it and connects",
                    infrastructure.identifier
                ))
            })?;
        self.result.database_url = Some(reached.target.masked());
        self.result.connection = Some(reached.connection);
        Ok(Progress::Done(
            Some(reached.target),
            format!("{detail}; {}", reached.detail),
        ))
    }

    /// Step 9's provisioning. The handler's `provision` runs twice: a
    /// rehearsal that creates nothing gives the plan (shown, and approved on
    /// a protected environment), then the real run may create only what the
    /// plan lists.
    async fn provision(
        &mut self,
        config: &Config,
        cloud: &Cloud,
        found: Found,
    ) -> Result<Provisioned, Halt> {
        cloud.check_may_provision(&found)?;
        let plan = cloud.rehearse().await?;
        let lines: Vec<String> = plan.iter().map(ToString::to_string).collect();
        if self.options.dry_run {
            let detail = if lines.is_empty() {
                "dry run: nothing to create; would wait for what exists".to_owned()
            } else {
                format!("dry run: would create {}", lines.join("; "))
            };
            return Ok(Provisioned::Planned(detail));
        }
        if !lines.is_empty() {
            let operation = approval::Operation::Provision { plan: &lines };
            self.ask_approval(config, operation, Step::Provisioning)?;
        }
        let started = Instant::now();
        let mut created = Vec::new();
        let provisioned = cloud.provision(plan, &mut created).await;
        self.result.created_resources = created.iter().map(Into::into).collect();
        let infrastructure = provisioned?;
        self.result.infrastructure = Some(InfrastructureOrigin::Provisioned);
        self.result.endpoint = infrastructure.endpoint.clone();
        let created = match created.len() {
            0 => format!("waited for {}", infrastructure.resources.join(", ")),
            _ => format!(
                "created {}",
                created
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        let detail = format!(
            "{created} in {}s; endpoint {}:{}",
            started.elapsed().as_secs(),
            infrastructure.endpoint.as_deref().unwrap_or_default(),
            infrastructure
                .port
                .map(|port| port.to_string())
                .unwrap_or_default()
        );
        Ok(Provisioned::Available(infrastructure, detail))
    }

    /// Steps a dry run has nothing to do in, with the reason.
    fn skip(&mut self, steps: &[Step], detail: &str) {
        for step in steps {
            self.steps.push(
                *step,
                crate::report::StepStatus::Skipped,
                detail.to_owned(),
                Instant::now(),
            );
        }
    }

    // Step 10.
    fn determine_database_name(
        &mut self,
        (name, source): (String, &str),
    ) -> Outcome<Progress<String>> {
        names::validate(&name)?;
        self.result.database_name = Some(name.clone());
        let detail = format!("{name} ({source})");
        Ok(Progress::Done(name, detail))
    }

    // Step 11. Connects to the server the later steps work on.
    async fn existence_check(
        &mut self,
        dir: &Path,
        target: &ConnectionString,
        name: &str,
    ) -> Outcome<Progress<(Server, Start)>> {
        let mut server = Server::connect(target).await?;
        let (start, detail) = self.find_database(&mut server, dir, target, name).await?;
        Ok(Progress::Done((server, start), detail))
    }

    /// Whether database `name` is there, and if so whether this run may use it.
    async fn find_database(
        &mut self,
        server: &mut Server,
        dir: &Path,
        target: &ConnectionString,
        name: &str,
    ) -> Outcome<(Start, String)> {
        let absent = || (Start::Create, format!("{name} does not exist yet"));
        if !database_exists(server, name).await? {
            return Ok(absent());
        }
        // A run of this project may be creating it right now: it holds the
        // project lock from creation to cleanup. Once the lock is ours, what
        // the database holds is final.
        let waited_for_lock = self.undo.hold_lock(dir)?;
        if !database_exists(server, name).await? {
            return Ok(absent());
        }
        let environment = &self.options.environment;
        let waited = if waited_for_lock {
            " (after waiting for another run of this project)"
        } else {
            ""
        };
        match (contents(server, target, name).await?, &self.options) {
            (Contents::Marked, InitOptions { resume: true, .. }) => Ok((
                Start::Resume,
                format!("{name} was left by an interrupted run: resuming it"),
            )),
            (Contents::Empty, InitOptions { adopt: true, .. }) => Ok((
                Start::Resume,
                format!("{name} exists and is empty: adopting it{waited}"),
            )),
            (Contents::Marked, _) => Err(Failure::new(format!(
                "Database {name} was left unfinished by an interrupted run"
            ))
            .cause(format!(
                "it holds faber-db's in-progress marker, and no run of this project is working on it{waited}; nothing was changed"
            ))
            .help(format!("Resume it: faber-db init {environment} --resume"))
            .help(format!("Or drop {name} yourself and run init again"))),
            (Contents::Empty, _) => Err(Failure::new(format!(
                "Database {name} exists and is empty"
            ))
            .cause(format!(
                "nothing shows that faber-db created it (no in-progress marker), and no run of this project is working on it{waited}; nothing was changed"
            ))
            .help(format!(
                "If it was made for this environment (by a DBA, a cloud console), initialize it: faber-db init {environment} --adopt"
            ))
            .help(format!("Otherwise pass another name: faber-db init {environment} --database-name NAME"))),
            (Contents::Other, options) => {
                let mut failure = already_exists(name, environment);
                if waited_for_lock {
                    failure = failure
                        .cause("another run of this project created it while this one waited");
                }
                Err(if options.resume || options.adopt {
                    failure.cause("--resume and --adopt apply only to a database that is empty or holds faber-db's in-progress marker")
                } else {
                    failure
                })
            }
        }
    }

    // Step 12. The handler is loaded first, so a missing or broken handler
    // stops the run before anything is created. Yields the host's session in
    // the new database, which serves step 13 too.
    async fn create_database(
        &mut self,
        project: &OpenProject,
        target: &ConnectionString,
        name: &str,
        server: &mut Server,
        start: Start,
    ) -> Outcome<Progress<(MigrationTool, HandlerRef, Option<Database>)>> {
        let (tool, handler) =
            environment::load_tool(&project.dir, &project.config, self.options.dry_run).await?;
        self.result.handler = Some(handler.clone());
        let mut label = format!("{} {}", handler.name, handler.version);
        let compile = crate::report::HandlerCompile::from(tool.component());
        // A compilation long enough to notice is named where the time went.
        if !compile.from_cache && compile.duration_ms >= 1000 {
            label.push_str(&format!(
                ", compiled for this machine first in {:.1} s",
                compile.duration_ms as f64 / 1000.0
            ));
        }
        self.result.handler_compile = Some(compile);
        if self.options.dry_run {
            let detail = format!("dry run: would create {name} and initialize it with {label}");
            return Ok(Progress::Skipped((tool, handler, None), detail));
        }
        if start == Start::Resume {
            self.undo.resumed_database = true;
            let detail =
                format!("{name} exists; resuming with {label} (it is never dropped by this run)");
            return Ok(Progress::Skipped((tool, handler, None), detail));
        }
        self.undo.hold_lock(&project.dir)?;
        match server.create_database(target, name).await {
            Ok(()) => {}
            Err(CreateError::AlreadyExists) => {
                return Err(already_exists(name, &self.options.environment)
                    .cause("another run created it a moment ago"));
            }
            Err(CreateError::Failed(err)) => {
                return Err(Failure::new(format!("Cannot create database {name}"))
                    .cause(err.message)
                    .help("Check that the user in the connection string may create databases (CREATEDB on PostgreSQL, CREATE on MySQL)"));
            }
        }
        self.undo.created_database = true;
        self.result.database_created = true;
        // At once, so that a run killed from here on leaves proof that
        // faber-db made this database and did not finish it.
        let mut session = server.open(target, name).await?;
        session
            .create_schema(target)
            .await
            .map_err(|err| schema_failure(target, err))?;
        mark_in_progress(&mut session, target, name).await?;
        Ok(Progress::Done(
            (tool, handler, Some(session)),
            format!("{name} created (schema by {label})"),
        ))
    }

    // Step 13. Yields the host's session in the database for steps 14 and
    // 15; none in a dry run.
    #[allow(clippy::too_many_arguments)]
    async fn initialize_schema(
        &mut self,
        project: &OpenProject,
        target: &ConnectionString,
        name: &str,
        server: &mut Server,
        start: Start,
        (tool, handler): (MigrationTool, HandlerRef),
        session: Option<Database>,
    ) -> Outcome<Progress<Option<Initialized>>> {
        let shown_dir = project.config.migrations.directory().to_owned();
        if self.options.dry_run {
            let detail = format!("dry run: would initialize migration tracking and {shown_dir}");
            return Ok(Progress::Skipped(None, detail));
        }
        // The host's own session: it writes the marker, grants the handler's
        // account its database, afterwards checks what the handler says, and
        // serves steps 14 and 15.
        let mut admin = match session {
            Some(session) => session,
            None => server.open(target, name).await?,
        };
        let call = Call {
            project,
            target,
            name,
            tool: &tool,
            handler: &handler,
            start,
        };
        let outcome = self.run_handler(call, server, &mut admin).await?;

        self.result.schema_initialized = true;
        self.result.migration_table_created = outcome.tracking_table_created;
        self.result.migration_name = Some(outcome.baseline_migration.clone());
        self.result.pending_migrations = outcome.pending.clone();
        let baseline = if outcome.baseline_created {
            format!(
                "baseline {} written to {shown_dir}",
                outcome.baseline_migration
            )
        } else {
            format!(
                "existing baseline {} in {shown_dir}",
                outcome.baseline_migration
            )
        };
        let session = self
            .result
            .handler_session
            .as_ref()
            .map(|session| match &session.account {
                Some(account) => format!("{} {account}", session.kind),
                None => session.kind.to_owned(),
            })
            .unwrap_or_default();
        let refused = self
            .result
            .handler_sql
            .map_or(0, |sql| sql.refused + sql.denied);
        let detail = format!(
            "{}; {} applied{}; session: {session}{}",
            baseline,
            outcome.applied.len(),
            match outcome.pending.len() {
                0 => String::new(),
                n => format!(", {n} pending"),
            },
            match refused {
                0 => String::new(),
                n => format!("; {n} statement(s) refused or denied"),
            }
        );
        let initialized = Initialized {
            session: admin,
            tracking_table: outcome.tracking_table,
            next_steps: outcome.next_steps,
        };
        Ok(Progress::Done(Some(initialized), detail))
    }

    /// Step 13's work on the host's session: the folder, the marker, the
    /// handler's confined session, the call, and the checks of what it
    /// reports against the database and the disk.
    async fn run_handler(
        &mut self,
        call: Call<'_>,
        server: &mut Server,
        admin: &mut Database,
    ) -> Outcome<wit::InitializeOutcome> {
        self.undo.hold_lock(&call.project.dir)?;
        let folder = MigrationsFolder::prepare(&call.project.migrations_dir)?;
        let outcome = self.call_handler(call, &folder, server, admin).await;
        // Recorded whatever the outcome: cleanup removes what it created.
        self.undo.folder = Some(folder);
        outcome
    }

    /// The handler's call in `folder`, on a session confined as the
    /// environment allows, and the checks of what it reports.
    async fn call_handler(
        &mut self,
        call: Call<'_>,
        folder: &MigrationsFolder,
        server: &mut Server,
        admin: &mut Database,
    ) -> Outcome<wit::InitializeOutcome> {
        let Call {
            project,
            target,
            name,
            tool,
            handler,
            start,
        } = call;
        let policy = environment::session_policy(
            &project.dir,
            &project.config,
            &self.options.environment,
            handler,
        )?;
        // An adopted or resumed database gets its schema and marker here (a
        // created one has them since step 12).
        if start == Start::Resume {
            admin
                .create_schema(target)
                .await
                .map_err(|err| schema_failure(target, err))?;
            mark_in_progress(admin, target, name).await?;
        }
        let lifetime = project.config.sandbox.limits().timeout;
        let mut session = server
            .open_handler_session(admin, target, name, &policy, lifetime, Access::Write)
            .await?;
        let confinement = session.confinement().clone();
        if let Some(warning) = &confinement.warning {
            self.result.warnings.push(warning.clone());
        }
        self.result.handler_session = Some(confinement);
        let database = session.lend();
        self.undo.handler = Some(session);

        let request = wit::InitializeRequest {
            provider: project.config.database.provider,
            database_name: name.to_owned(),
            migrations_dir: GUEST_MIGRATIONS_DIR.to_owned(),
            tracking_table: project.config.migrations.table.clone(),
        };
        let grant = Grant {
            directory: Some((folder.path.clone(), GUEST_MIGRATIONS_DIR.to_owned())),
            database,
            ..Grant::default()
        };
        let (returned, outcome) = tool.initialize_schema(grant, &request).await;
        self.result.handler_sql = Some(returned.sql);
        // After a failure the session may be mid-statement: leave it to the
        // server to end (see `Undo::run`) rather than wait on it here.
        let outcome = outcome.map_err(components::failure)?;
        let session = self.undo.handler.as_mut().expect("opened above");
        session.take_back(returned.database);
        let removed_links = folder.audit()?;
        for written in &outcome.files_written {
            handler_files::holds_only(&folder.path, written, "")?;
        }
        self.result.handler_files = outcome.files_written.clone();
        // The disk and the server work at the same time: the files are
        // synced while the account is removed and the claims are checked.
        let durable = folder.persist(&outcome.files_written);
        self.result.warnings.extend(removed_links);
        if let Some(session) = self.undo.handler.take() {
            let check = Check {
                target,
                table: &outcome.tracking_table,
                expect: Expect::Initialized,
            };
            self.result.handler_objects = session.close(server, Some(admin), Some(check)).await?;
        }
        claims::verify(admin, target, folder, &outcome).await?;
        durable.await.map_err(|err| {
            Failure::new("Cannot write the migration files to disk")
                .cause(err)
                .help("Check that the disk holding the project is writable and not full")
        })?;
        Ok(outcome)
    }

    // Step 14, on the host's session in the database: it was opened with
    // the application's connection string, so this proves the database
    // reachable, and the tracking table readable, the way the application
    // will reach them (the handler wrote the table under its own account).
    async fn verify_connectivity(
        &mut self,
        name: &str,
        target: &ConnectionString,
        database: &mut Database,
        table: &str,
    ) -> Outcome<Progress<()>> {
        self.result.connectivity = Connectivity::Failed;
        let rows = health::verify_connectivity(database, target, table).await;
        let rows = rows.map_err(|err| {
            Failure::new(format!("Cannot read {table} in {name}"))
                .cause(err.message)
                .help("Check that the database user may read the tables it creates")
        })?;
        self.result.connectivity = Connectivity::Verified;
        Ok(Progress::Done(
            (),
            format!("SELECT 1 ok; {table} readable ({rows} row(s))"),
        ))
    }

    // Step 15.
    async fn health_check(
        &mut self,
        server: &mut Server,
        target: &ConnectionString,
        database: &mut Database,
        table: &str,
    ) -> Outcome<Progress<()>> {
        let data_dir = server.data_directory(target).await;
        let health = health::check(database, target, table, data_dir.as_deref()).await;
        let passed = health::passed(&health);
        self.result.health_check = if passed {
            HealthCheck::Passed
        } else {
            HealthCheck::Failed
        };
        let detail = format!(
            "connectivity {}, schema {}, permissions {}, disk {}",
            health.connectivity, health.schema, health.permissions, health.disk_space.status
        );
        self.result.health = Some(health);
        if !passed {
            return Err(Failure::new("Health check failed").cause(detail).help(
                "Check the database user's privileges: it must create, write, read and drop tables",
            ));
        }
        // The database is complete: it no longer looks like an interrupted run's.
        let marker = database.unflushed(&format!(
            "DROP TABLE {}",
            target.qualify(IN_PROGRESS_MARKER)
        ));
        database.execute(&marker, &[]).await.map_err(|err| {
            Failure::new("Cannot remove the in-progress marker").cause(err.message)
        })?;
        Ok(Progress::Done((), detail))
    }
}

/// What step 13 hands to steps 14 and 15, and the report.
struct Initialized {
    /// The host's session in the database.
    session: Database,
    tracking_table: String,
    /// The handler's advice for the report.
    next_steps: Vec<String>,
}

/// What step 13's handler call works with.
#[derive(Clone, Copy)]
struct Call<'a> {
    project: &'a OpenProject,
    target: &'a ConnectionString,
    name: &'a str,
    tool: &'a MigrationTool,
    handler: &'a HandlerRef,
    start: Start,
}

async fn database_exists(server: &mut Server, name: &str) -> Outcome<bool> {
    server.database_exists(name).await.map_err(|err| {
        Failure::new(format!("Cannot check whether database {name} exists"))
            .cause(err.message)
            .help("Check that the user in the connection string may read the server's catalog")
    })
}

/// What an existing database holds, as far as step 11 needs to know.
async fn contents(server: &Server, target: &ConnectionString, name: &str) -> Outcome<Contents> {
    let mut database = server.open(target, name).await?;
    let tables = database.relation_names().await;
    database.close().await;
    let tables = tables.map_err(|err| {
        Failure::new(format!("Cannot list the tables of {name}")).cause(err.message)
    })?;
    Ok(if tables.iter().any(|table| table == IN_PROGRESS_MARKER) {
        Contents::Marked
    } else if tables.is_empty() {
        Contents::Empty
    } else {
        Contents::Other
    })
}

/// The in-progress marker: from creation (or adoption) until the health
/// check passes, it tells a later run that this database is faber-db's and
/// unfinished. Neither its creation nor its removal waits for the disk: a
/// marker lost in a server crash only turns `--resume` into `--adopt`, and
/// a lost removal makes a finished database look interrupted, which
/// `--resume` then completes.
async fn mark_in_progress(
    database: &mut Database,
    target: &ConnectionString,
    name: &str,
) -> Outcome<()> {
    let marker = database.unflushed(&format!(
        "CREATE TABLE IF NOT EXISTS {} (pid INTEGER)",
        target.qualify(IN_PROGRESS_MARKER)
    ));
    database.execute(&marker, &[]).await.map_err(|err| {
        Failure::new(format!("Cannot write to {name}"))
            .cause(err.message)
            .help("Check that the database user may create tables")
    })?;
    Ok(())
}

pub(crate) fn schema_failure(target: &ConnectionString, err: crate::db::SqlError) -> Failure {
    Failure::new(format!(
        "Cannot create schema {}",
        target.schema().unwrap_or_default()
    ))
    .cause(err.message)
    .help("Check that the database user may create schemas in the database (CREATE on it)")
}

fn already_exists(name: &str, environment: &str) -> Failure {
    Failure::new("Database already exists")
        .cause(format!("database {name} is already on the server; nothing was changed"))
        .help(format!(
            "See whether it is initialized and what it holds: faber-db status {environment}"
        ))
        .help(format!(
            "If it is already initialized, there is nothing to do: apply migrations to it with faber-db migrate {environment}"
        ))
        .help(format!(
            "To create another database, pass a different name: faber-db init {environment} --database-name NAME"
        ))
        .help(format!("To start over, drop {name} yourself and run init again"))
}
