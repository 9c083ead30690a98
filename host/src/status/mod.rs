//! `faber-db status [ENVIRONMENT...]`: every environment of the project side
//! by side, read through the migration-tool handler and compared with the
//! migrations folder; optionally with schema drift.
//!
//! Read-only on every database: the host's own session only reads, and the
//! handler's runs on a read-only, confined session (see
//! [`Access::Read`]). Environments are checked concurrently;
//! reaching each one's server has its own timeout, so one that cannot be
//! reached holds up nobody.

pub mod drift;
pub mod fleet;
pub mod matrix;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde::Serialize;

use crate::components;
use crate::config::{self, Config};
use crate::db::handler_session::ReadingAccounts;
use crate::db::{Confinement, ConnectIn, ConnectionString, InDatabase, Server, SessionPolicy};
use crate::failure::{Failure, Outcome};
use crate::names;
use crate::provider::Provider;
use crate::report::HandlerRef;
use crate::runtime as wit;
use crate::runtime::Grant;
use crate::tracking::{self, State};
use crate::workflow::environment::{self, OpenProject, Project};

/// Where a handler sees the migrations folder (as in `init`).
pub const GUEST_MIGRATIONS_DIR: &str = "/migrations";

pub struct StatusOptions {
    /// The environments to look at; none: every configured one.
    pub environments: Vec<String>,
    pub cwd: Option<PathBuf>,
    /// Compare each environment's live schema with a replay of its migrations.
    pub drift: bool,
    /// How long reaching one environment's server may take.
    pub timeout: Duration,
    /// The tenants of fleet environments to read.
    pub fleet: crate::fleet::Chosen,
}

/// `result` of the JSON report.
#[derive(Debug, Serialize)]
pub struct StatusResult {
    pub provider: Provider,
    pub migrations_directory: String,
    /// The folder's migrations, in the order the tool applies them.
    pub migrations: Vec<String>,
    pub environments: Vec<EnvironmentStatus>,
    /// The handler that read the states, as `init` reports it.
    pub handler: HandlerRef,
}

/// One environment, as `status` found it.
#[derive(Debug, Serialize)]
pub struct EnvironmentStatus {
    pub name: String,
    pub state: EnvironmentState,
    pub database_name: Option<String>,
    /// The connection target, password masked.
    pub database_url: Option<String>,
    /// Why the environment is in its state, when that is not plain.
    pub detail: Option<String>,
    pub tracking_table: Option<String>,
    /// Every migration by name: the folder's, and any applied that the
    /// folder no longer has.
    pub migrations: BTreeMap<String, &'static str>,
    /// How the handler's session was confined.
    pub handler_session: Option<Confinement>,
    /// Schema drift, with `--drift` on an environment that could be read.
    pub drift: Option<drift::Drift>,
    /// A fleet environment's tenants, summed up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<fleet::FleetStatus>,
    pub duration_ms: u64,
}

/// An environment's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvironmentState {
    UpToDate,
    Pending,
    Failed,
    /// Applied migrations edited or gone from the folder, or a schema that
    /// differs from what its migrations produce.
    Drift,
    Unreachable,
    NotConfigured,
    NotInitialized,
    /// Reached, but its state could not be read (the handler failed).
    Error,
}

impl EnvironmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentState::UpToDate => "up-to-date",
            EnvironmentState::Pending => "pending",
            EnvironmentState::Failed => "failed",
            EnvironmentState::Drift => "drift",
            EnvironmentState::Unreachable => "unreachable",
            EnvironmentState::NotConfigured => "not-configured",
            EnvironmentState::NotInitialized => "not-initialized",
            EnvironmentState::Error => "error",
        }
    }
}

/// Exit codes beyond the common ones (0 success, 1 error, 2 usage).
pub mod exit {
    /// Some environment has migrations to apply, and nothing worse.
    pub const PENDING: i32 = 4;
    /// Some environment has a failed migration, drift, or could not be read.
    pub const PROBLEM: i32 = 5;
    /// Some environment could not be looked at: unreachable, not
    /// configured on this machine, or not initialized.
    pub const NOT_CHECKED: i32 = 6;
}

impl StatusResult {
    pub fn all_up_to_date(&self) -> bool {
        self.environments
            .iter()
            .all(|env| env.state == EnvironmentState::UpToDate)
    }

    /// 0 only when every environment looked at is up to date.
    pub fn exit_code(&self) -> i32 {
        use EnvironmentState as S;
        let any = |states: &[S]| {
            self.environments
                .iter()
                .any(|env| states.contains(&env.state))
        };
        if any(&[S::Failed, S::Drift, S::Error]) {
            exit::PROBLEM
        } else if any(&[S::Unreachable, S::NotConfigured, S::NotInitialized])
            // Drift asked for and not measured is not a clean bill.
            || self.environments.iter().any(|env| {
                env.drift
                    .as_ref()
                    .is_some_and(|drift| drift.status == "unknown")
            })
        {
            exit::NOT_CHECKED
        } else if any(&[S::Pending]) {
            exit::PENDING
        } else {
            0
        }
    }
}

/// What every environment's check shares.
struct Context {
    project: Project,
    drift: bool,
    timeout: Duration,
    lifetime: Duration,
    fleet: crate::fleet::Chosen,
    /// The handler's reading roles, one per PostgreSQL server.
    readers: ReadingAccounts,
}

pub async fn status(options: StatusOptions) -> Outcome<StatusResult> {
    let mut environments = Vec::new();
    let opened = OpenProject::open(options.cwd.as_deref(), |config| {
        environments = chosen_environments(config, options.environments)?;
        Ok(())
    })?;
    let lifetime = opened.config.sandbox.limits().timeout;
    // As a dry run would: a handler not pinned yet is not pinned by a
    // command that changes nothing.
    let project = opened.load_tool(true).await?;
    if !project.migrations_dir.is_dir() {
        return Err(Failure::new(format!(
            "The migrations folder {} does not exist",
            project.config.migrations.directory()
        ))
        .help("Initialize an environment first, e.g. faber-db init dev")
        .help("Or set migrations.directory in the configuration to the project's folder"));
    }
    let (fleets, singles): (Vec<String>, Vec<String>) = environments
        .into_iter()
        .partition(|name| project.config.environments[name].fleet.is_some());
    let at_once = singles.len() + fleets.len() * options.fleet.most_at_once();
    let context = Context {
        lifetime,
        project,
        drift: options.drift,
        timeout: options.timeout,
        fleet: options.fleet,
        readers: ReadingAccounts::new(at_once),
    };
    let singles = join_all(
        singles
            .iter()
            .map(|name| check_environment(&context, name, None)),
    );
    let fleets = join_all(fleets.iter().map(|name| check_fleet(&context, name)));
    let (singles, fleets) = futures_util::future::join(singles, fleets).await;
    for (account, err) in context.readers.remove().await {
        not_removed(&account, &err.message);
    }
    let mut checked: Vec<(EnvironmentStatus, Option<Folder>)> =
        singles.into_iter().chain(fleets).collect();
    let folder = checked
        .iter()
        .find_map(|(_, folder)| folder.clone())
        .unwrap_or_default();
    let order: Vec<&String> = context.project.config.environments.keys().collect();
    checked.sort_by_key(|(env, _)| order.iter().position(|name| **name == env.name));
    let environments = checked
        .into_iter()
        .map(|(mut env, _)| {
            for name in &folder {
                env.migrations
                    .entry(name.clone())
                    .or_insert(match env.state {
                        EnvironmentState::NotInitialized => "pending",
                        _ => "unknown",
                    });
            }
            env
        })
        .collect();
    Ok(StatusResult {
        provider: context.project.config.database.provider,
        migrations_directory: context.project.config.migrations.directory().to_owned(),
        migrations: folder,
        environments,
        handler: context.project.handler,
    })
}

/// The environments named (each must be configured), or all of them.
fn chosen_environments(config: &Config, named: Vec<String>) -> Outcome<Vec<String>> {
    if named.is_empty() {
        if config.environments.is_empty() {
            return Err(Failure::new("No environments are configured").help(format!(
                "Add one under \"environments\" in {}/{}",
                config::CONFIG_DIR,
                config::CONFIG_FILE
            )));
        }
        return Ok(config.environments.keys().cloned().collect());
    }
    let mut chosen: Vec<String> = Vec::new();
    for name in named {
        environment::check_name(&name, "status")?;
        environment::find(config, &name)?;
        if !chosen.contains(&name) {
            chosen.push(name);
        }
    }
    Ok(chosen)
}

/// The migrations of the folder by name, in the order the tool applies
/// them, as the handler read them with an environment's tracking state.
type Folder = Vec<String>;

/// A fleet environment's status, its tenants summed up, and the
/// migrations folder as its tenants' handler read it.
async fn check_fleet(context: &Context, name: &str) -> (EnvironmentStatus, Option<Folder>) {
    let started = Instant::now();
    let mut env = blank(name);
    let fleet = context.project.config.environments[name]
        .fleet
        .clone()
        .expect("a fleet environment");
    let folder = match fleet::check(context, &mut env, &fleet, &context.fleet).await {
        Ok(folder) => folder,
        Err(failure) => {
            env.state = EnvironmentState::NotConfigured;
            env.detail = Some(failure.to_string());
            None
        }
    };
    env.duration_ms = started.elapsed().as_millis() as u64;
    (env, folder)
}

fn blank(name: &str) -> EnvironmentStatus {
    EnvironmentStatus {
        name: name.to_owned(),
        state: EnvironmentState::Error,
        database_name: None,
        database_url: None,
        detail: None,
        tracking_table: None,
        migrations: BTreeMap::new(),
        handler_session: None,
        drift: None,
        fleet: None,
        duration_ms: 0,
    }
}

/// One environment's status (a fleet's tenant: at `target`), and the
/// migrations folder as the handler read it with its tracking state.
async fn check_environment(
    context: &Context,
    name: &str,
    target: Option<Outcome<ConnectionString>>,
) -> (EnvironmentStatus, Option<Folder>) {
    let started = Instant::now();
    let mut env = blank(name);
    let tracking = match read_environment(context, &mut env, target).await {
        Ok(tracking) => tracking,
        Err((state, failure)) => {
            env.state = state;
            env.detail = Some(failure.to_string());
            None
        }
    };
    env.duration_ms = started.elapsed().as_millis() as u64;
    crate::logging::info(&format!(
        "status: {name} is {} ({} ms)",
        env.state.as_str(),
        env.duration_ms
    ));
    let folder = tracking.map(|tracking| tracking.folder.into_iter().map(|m| m.name).collect());
    (env, folder)
}

type Stop = (EnvironmentState, Failure);

/// Reaches the environment and reads its tracking state into `env`.
async fn read_environment(
    context: &Context,
    env: &mut EnvironmentStatus,
    target: Option<Outcome<ConnectionString>>,
) -> Result<Option<wit::TrackingState>, Stop> {
    let not_configured = |failure: Failure| (EnvironmentState::NotConfigured, failure);
    let target = target
        .unwrap_or_else(|| connection(context, &env.name))
        .map_err(not_configured)?;
    env.database_url = Some(target.masked());
    let database = database_name(context, &env.name, &target).map_err(not_configured)?;
    env.database_name = Some(database.clone());
    let policy = policy(context, &env.name).map_err(not_configured)?;

    let mut reached = match tokio::time::timeout(context.timeout, reach(&target, &database)).await {
        Ok(reached) => reached?,
        Err(_) => {
            return Err((
                EnvironmentState::Unreachable,
                Failure::new(format!(
                    "no answer from {} within {} s",
                    target.masked(),
                    context.timeout.as_secs_f64()
                )),
            ));
        }
    };
    let read = read_reached(context, &policy, &mut reached, &target, env).await;
    // Kept to remove the run's shared reading role on, once all are read.
    context.readers.park(&target, reached.server).await;
    read
}

/// Reads the tracking state of the database `reached`, and its drift.
async fn read_reached(
    context: &Context,
    policy: &SessionPolicy,
    reached: &mut InDatabase,
    target: &ConnectionString,
    env: &mut EnvironmentStatus,
) -> Result<Option<wit::TrackingState>, Stop> {
    let tracking = read_tracking(context, policy, reached, target, env).await?;
    if !tracking.initialized {
        // Its folder still counts: it names the migrations to show.
        env.state = EnvironmentState::NotInitialized;
        env.detail = Some(format!(
            "database {} has no tracking table ({}) yet",
            reached.name, tracking.tracking_table
        ));
        return Ok(Some(tracking));
    }
    env.tracking_table = Some(tracking.tracking_table.clone());
    let judged = tracking::classify(&tracking);
    for migration in &judged {
        env.migrations
            .insert(migration.name.clone(), migration.state.as_str());
    }
    if context.drift {
        let replay = drift::Replay {
            tool: &context.project.tool,
            config: &context.project.config,
            migrations_dir: &context.project.migrations_dir,
            policy,
            lifetime: context.lifetime,
        };
        env.drift = Some(drift::check(&replay, reached, target, &tracking, &judged).await);
    }
    env.state = summary(judged.iter().map(|m| m.state), env.drift.as_ref());
    Ok(Some(tracking))
}

/// The environment's connection string, from its variable.
fn connection(context: &Context, name: &str) -> Outcome<ConnectionString> {
    let config = &context.project.config;
    let variable = config.environments[name].connection_string_env.as_deref();
    environment::connection_string(&context.project.dir, config, variable)?.ok_or_else(|| {
        environment::no_connection_string(&context.project.dir, config, name, variable)
    })
}

/// As `init` names it: the connection string's, else `<project>_<environment>`.
fn database_name(context: &Context, name: &str, target: &ConnectionString) -> Outcome<String> {
    let (database, _) = environment::database_name(&context.project.dir, name, None, Some(target));
    names::validate(&database)?;
    Ok(database)
}

/// A server session in the database (which only reads there): a database
/// that does not exist is not initialized, which the login itself says.
async fn reach(target: &ConnectionString, name: &str) -> Result<InDatabase, Stop> {
    Server::connect_in(target, name)
        .await
        .map_err(|refused| match refused {
            ConnectIn::NoDatabase => (
                EnvironmentState::NotInitialized,
                Failure::new(format!("database {name} does not exist yet")),
            ),
            ConnectIn::Failed(failure) => (EnvironmentState::Unreachable, failure),
        })
}

fn policy(context: &Context, name: &str) -> Outcome<SessionPolicy> {
    environment::session_policy(
        &context.project.dir,
        &context.project.config,
        name,
        &context.project.handler,
    )
}

/// The handler's `read-state` on a read-only, confined session.
async fn read_tracking(
    context: &Context,
    policy: &SessionPolicy,
    reached: &mut InDatabase,
    target: &ConnectionString,
    env: &mut EnvironmentStatus,
) -> Result<wit::TrackingState, Stop> {
    let error = |failure: Failure| (EnvironmentState::Error, failure);
    let mut session = reached
        .open_reading_session(target, policy, context.lifetime, &context.readers)
        .await
        .map_err(error)?;
    env.handler_session = Some(session.confinement().clone());
    let account = session.confinement().account.clone().unwrap_or_default();
    let request = tracking_request(&context.project.config, &reached.name);
    let grant = Grant {
        directory: Some((
            context.project.migrations_dir.clone(),
            GUEST_MIGRATIONS_DIR.to_owned(),
        )),
        directory_read_only: true,
        database: session.lend(),
        ..Grant::default()
    };
    let (returned, outcome) = context.project.tool.read_state(grant, &request).await;
    session.take_back(returned.database);
    // Through the session in the database: the account's grants there are
    // revoked with it.
    if let Err(failure) = session.close(&mut reached.server, None, None).await {
        not_removed(&account, &failure.error);
    }
    outcome.map_err(|failure| error(components::failure(failure)))
}

fn not_removed(account: &str, error: &str) {
    crate::logging::emit(
        crate::logging::Level::Warn,
        "faber-db",
        &format!(
            "the handler's read-only account {account} was not removed ({error}); a later run removes it once it expires"
        ),
    );
}

/// Where the tracking of database `name` lives, for the handler.
pub fn tracking_request(config: &Config, name: &str) -> wit::TrackingRequest {
    wit::TrackingRequest {
        provider: config.database.provider,
        database_name: name.to_owned(),
        migrations_dir: GUEST_MIGRATIONS_DIR.to_owned(),
        tracking_table: config.migrations.table.clone(),
    }
}

/// An environment's summary from its migrations' states and its drift.
/// A migration rolled back and gone from the folder is settled: the tool
/// will not apply it again.
fn summary(states: impl Iterator<Item = State>, drift: Option<&drift::Drift>) -> EnvironmentState {
    let mut summary = EnvironmentState::UpToDate;
    for state in states {
        let this = match state {
            State::Failed => EnvironmentState::Failed,
            State::Modified | State::Missing => EnvironmentState::Drift,
            State::Pending => EnvironmentState::Pending,
            State::Applied | State::RolledBack => EnvironmentState::UpToDate,
        };
        summary = worse(summary, this);
    }
    if drift.is_some_and(|drift| drift.status == "found") {
        summary = worse(summary, EnvironmentState::Drift);
    }
    summary
}

fn worse(a: EnvironmentState, b: EnvironmentState) -> EnvironmentState {
    let rank = |state| match state {
        EnvironmentState::Failed => 3,
        EnvironmentState::Drift => 2,
        EnvironmentState::Pending => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_migration_decides_the_summary() {
        use State::*;
        let cases: &[(&[State], EnvironmentState)] = &[
            (&[], EnvironmentState::UpToDate),
            (&[Applied, RolledBack], EnvironmentState::UpToDate),
            (&[Applied, Pending], EnvironmentState::Pending),
            (&[Pending, Modified], EnvironmentState::Drift),
            (&[Missing, Pending], EnvironmentState::Drift),
            (&[Modified, Failed, Pending], EnvironmentState::Failed),
        ];
        for (states, expected) in cases {
            assert_eq!(
                summary(states.iter().copied(), None),
                *expected,
                "{states:?}"
            );
        }
        let found = drift::Drift {
            status: "found",
            differences: Vec::new(),
            reason: None,
        };
        assert_eq!(
            summary([Pending].into_iter(), Some(&found)),
            EnvironmentState::Drift
        );
    }
}
