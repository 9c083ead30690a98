//! Fleets: one environment that is many databases, one per tenant.
//!
//! A fleet command settles the project once (configuration, handler,
//! migrations folder), lists and places the tenants, takes the ones asked
//! for (`--tenant`, `--shard`), asks a protected fleet's approval once for
//! the whole plan, then runs the single-database command on each tenant, a
//! bounded number at a time. Each tenant run is the one `migrate`,
//! `resolve` or `init` would be on that database alone: its lock, its
//! confined handler session, its checks. Re-running is the resume: an
//! up-to-date tenant costs one read.

mod plan;
pub mod report;
pub mod run;
pub mod tenants;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use plan::{approve_migrations, ask, declined, preview, tenant_databases};
use report::{FleetResult, Outcome, Progress, Show, TenantState, finish};
use run::{Pace, Threshold};
use tenants::{Placement, Shard, Tenant};

use crate::config::Config;
use crate::db::{ConnectionString, Server};
use crate::failure::{Failure, Outcome as Settles};
use crate::provider::Provider;
use crate::report::output::Done;
use crate::workflow::approval::Operation;
use crate::workflow::environment::Project;
use crate::workflow::lifecycle::{self, Options, TenantTarget};
use crate::workflow::{self, InitOptions};

/// The most connections one tenant's run holds at once: the server's (to
/// check the database and manage the handler's account), the host's
/// session in the database (which holds the tool's lock), and the
/// handler's two (its rows-only session and the one its scripts run on).
pub const CONNECTIONS_PER_TENANT: usize = 4;

/// The default concurrency's ceiling, whatever the servers could take.
const MAX_DEFAULT_CONCURRENCY: usize = 16;

/// Which of a fleet's tenants a command takes (`--tenant`, `--shard`),
/// and how many at once (`--concurrency`).
#[derive(Debug)]
pub struct Chosen {
    pub tenants: Vec<String>,
    pub shard: Option<Shard>,
    pub concurrency: Option<usize>,
}

/// A fleet's tenants as a command takes them.
pub struct Taken {
    /// How many the source lists.
    pub listed: usize,
    pub selected: Vec<Tenant>,
    pub concurrency: usize,
    /// The servers found unreachable before any tenant ran.
    pub down: BTreeMap<Option<String>, Failure>,
}

impl Chosen {
    /// The most tenants a command takes at once, before the servers are
    /// probed: `--concurrency`, else the default's ceiling.
    pub fn most_at_once(&self) -> usize {
        self.concurrency
            .map_or(MAX_DEFAULT_CONCURRENCY, |concurrency| concurrency.max(1))
    }

    /// Lists the fleet's tenants, keeps the chosen ones (a named tenant
    /// must be listed when `listed_only`) and probes the servers.
    pub async fn take(
        &self,
        placement: &Placement,
        provider: Provider,
        listed_only: bool,
    ) -> Settles<Taken> {
        let listed = placement.list().await?;
        let count = listed.len();
        let selected = tenants::select(listed, &self.tenants, self.shard, listed_only)?;
        let probe = probe(placement).await;
        let concurrency = match self.concurrency {
            Some(concurrency) => concurrency.max(1),
            None => probe.concurrency(provider),
        };
        Ok(Taken {
            listed: count,
            selected,
            concurrency,
            down: probe.down,
        })
    }
}

/// What the fleet flags ask.
pub struct FleetOptions {
    pub chosen: Chosen,
    pub max_failures: Option<Threshold>,
    pub canary: Option<usize>,
    pub proceed: bool,
    pub show: Show,
}

impl FleetOptions {
    /// Whether any flag asks for a fleet, which a single-database
    /// environment refuses.
    pub fn any(&self) -> bool {
        !self.chosen.tenants.is_empty()
            || self.chosen.shard.is_some()
            || self.chosen.concurrency.is_some()
            || self.max_failures.is_some()
            || self.canary.is_some()
            || self.proceed
            || self.show == Show::Ndjson
    }
}

/// Whether `environment` is a fleet in the project's configuration;
/// false when the configuration cannot be read (the command then reports
/// that itself).
pub fn is_fleet(cwd: Option<&std::path::Path>, environment: &str) -> bool {
    let Ok((dir, _)) = crate::workdir::resolve(cwd) else {
        return false;
    };
    crate::config::load(&dir)
        .ok()
        .and_then(|config| config.environments.get(environment).cloned())
        .is_some_and(|environment| environment.fleet.is_some())
}

/// The refusal of fleet flags on an environment that is one database.
pub fn not_a_fleet(environment: &str) -> Failure {
    Failure::new(format!("Environment '{environment}' is not a fleet"))
        .cause("--tenant, --shard, --concurrency, --max-failures, --canary, --continue and --output ndjson apply to fleet environments")
        .help("Drop those flags, or describe the environment's tenants under \"fleet\" in its configuration (see README: Fleets)")
}

/// A fleet environment, settled for one command.
struct Settled {
    project: Arc<Project>,
    placement: Placement,
    listed: usize,
    selected: Vec<Tenant>,
    concurrency: usize,
    /// The servers found unreachable before any tenant ran.
    down: BTreeMap<Option<String>, Failure>,
}

impl Settled {
    async fn new(
        options: &Options,
        fleet: &FleetOptions,
        command: &str,
        listed_only: bool,
    ) -> Settles<Settled> {
        let project = Project::settle(
            options.cwd.as_deref(),
            &options.environment,
            command,
            options.dry_run,
        )
        .await?;
        let Some(config) = project.config.environments[&options.environment]
            .fleet
            .clone()
        else {
            return Err(not_a_fleet(&options.environment));
        };
        let placement =
            Placement::settle(&project.dir, &project.config, &options.environment, &config)?;
        let provider = project.config.database.provider;
        let taken = fleet.chosen.take(&placement, provider, listed_only).await?;
        Ok(Settled {
            project: Arc::new(project),
            placement,
            listed: taken.listed,
            selected: taken.selected,
            concurrency: taken.concurrency,
            down: taken.down,
        })
    }

    fn config(&self) -> &Config {
        &self.project.config
    }

    fn result(&self, options: &Options, fleet: &FleetOptions) -> FleetResult {
        FleetResult {
            environment: options.environment.clone(),
            listed: self.listed,
            selected: self.selected.len(),
            shard: fleet.chosen.shard.map(|shard| shard.to_string()),
            concurrency: self.concurrency,
            connection_limit: self.concurrency * CONNECTIONS_PER_TENANT,
            dry_run: options.dry_run,
            approval: None,
            halted: None,
            counts: Default::default(),
            tenants: Vec::new(),
            duration_ms: 0,
        }
    }

    /// Where the tenant's database is; a tenant that cannot be placed, or
    /// whose server was found down, ends here.
    fn tenant_target(&self, tenant: &Tenant) -> Result<ConnectionString, Box<Outcome>> {
        if let Some(failure) = self.down.get(&tenant.server) {
            let failure = failure.clone();
            return Err(Box::new(Outcome::failed(
                tenant,
                TenantState::Unreachable,
                failure,
            )));
        }
        self.placement
            .target(tenant)
            .map_err(|failure| Box::new(Outcome::failed(tenant, TenantState::Failed, failure)))
    }

    /// One tenant's options: the project settled once, the tenant's
    /// database as the target; approval was the fleet's.
    fn tenant_options(&self, options: &Options, tenant: &Tenant) -> Result<Options, Box<Outcome>> {
        let target = self.tenant_target(tenant)?;
        Ok(Options {
            environment: options.environment.clone(),
            cwd: options.cwd.clone(),
            approve: true,
            dry_run: options.dry_run,
            tenant: Some(TenantTarget {
                key: tenant.key.clone(),
                project: self.project.clone(),
                target,
            }),
        })
    }

    fn pace(&self, fleet: &FleetOptions) -> Pace {
        Pace {
            concurrency: self.concurrency,
            max_failures: fleet.max_failures,
            canary: fleet.canary,
            proceed: fleet.proceed,
        }
    }

    /// `each` over the chosen tenants at `pace`, shown as they finish; the
    /// report of `command` over them.
    async fn run<F, Fut>(
        &self,
        pace: Pace,
        show: Show,
        result: FleetResult,
        command: &str,
        mut each: F,
    ) -> Done<FleetResult>
    where
        F: FnMut(Tenant) -> Fut,
        Fut: std::future::Future<Output = Outcome>,
    {
        let progress = Progress::new(show, self.selected.len());
        let halt = run::over(
            self.selected.clone(),
            pace,
            |tenant| {
                progress.started();
                each(tenant)
            },
            |outcome| progress.finished(outcome),
        )
        .await;
        finish(result, progress, halt, command)
    }
}

/// How long the first connection to each of the fleet's servers may take.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What one connection to each of the fleet's servers found, before any
/// tenant runs.
pub struct Probe {
    /// The least any server has spare (`max_connections` less what is open).
    spare: Option<usize>,
    /// The servers that could not be reached: their tenants are reported
    /// unreachable at once, not tried one by one.
    down: BTreeMap<Option<String>, Failure>,
}

/// Connects once to each of the fleet's servers.
pub async fn probe(placement: &Placement) -> Probe {
    let mut probe = Probe {
        spare: None,
        down: BTreeMap::new(),
    };
    for (name, target) in placement.servers() {
        let mut server = match tokio::time::timeout(PROBE_TIMEOUT, Server::connect(target)).await {
            Ok(Ok(server)) => server,
            Ok(Err(failure)) => {
                probe.down.insert(name.clone(), failure);
                continue;
            }
            Err(_) => {
                let failure = Failure::new(format!(
                    "No answer from the database server at {} within {} s",
                    target.masked(),
                    PROBE_TIMEOUT.as_secs()
                ))
                .help("Check that the server is running and reachable, then run the command again");
                probe.down.insert(name.clone(), failure);
                continue;
            }
        };
        if let Ok((max, used)) = server.connection_capacity().await {
            let spare = max.saturating_sub(used);
            probe.spare = Some(probe.spare.map_or(spare, |least| least.min(spare)));
        }
    }
    probe
}

impl Probe {
    /// Half of what the busiest server has spare, in tenants' worth of
    /// connections (the rest is the applications'); on SQLite files, twice
    /// the cores.
    pub fn concurrency(&self, provider: Provider) -> usize {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        if provider == Provider::Sqlite {
            return (cores * 2).min(MAX_DEFAULT_CONCURRENCY);
        }
        let tenants = match self.spare {
            None => 4,
            Some(spare) => spare / 2 / CONNECTIONS_PER_TENANT,
        };
        tenants.clamp(1, MAX_DEFAULT_CONCURRENCY)
    }
}

/// `migrate` over the fleet.
pub async fn migrate(options: Options, fleet: FleetOptions) -> Settles<Done<FleetResult>> {
    let settled = Settled::new(&options, &fleet, "migrate", true).await?;
    let mut result = settled.result(&options, &fleet);
    let protected = settled.config().is_protected(&options.environment);
    if protected && !options.dry_run {
        let plan = match options.approve {
            true => None,
            false => Some(preview(&settled, &options).await),
        };
        if !approve_migrations(&settled, &options, plan.as_deref(), &mut result)? {
            return Ok(declined(&settled, result));
        }
    }
    let pace = settled.pace(&fleet);
    let each = |tenant| migrate_one(&settled, &options, tenant);
    Ok(settled.run(pace, fleet.show, result, "migrate", each).await)
}

/// `resolve` of one migration over the fleet's chosen tenants.
pub async fn resolve(
    options: Options,
    fleet: FleetOptions,
    migration: String,
    resolution: crate::runtime::Resolution,
) -> Settles<Done<FleetResult>> {
    let settled = Settled::new(&options, &fleet, "resolve", true).await?;
    let mut result = settled.result(&options, &fleet);
    let word = match resolution {
        crate::runtime::Resolution::Applied => "applied",
        crate::runtime::Resolution::RolledBack => "rolled-back",
    };
    let databases = tenant_databases(&settled);
    let operation = Operation::Resolve {
        database: &databases,
        migration: &migration,
        resolution: word,
    };
    if !ask(&settled, &options, "resolve", operation, &mut result)? {
        return Ok(declined(&settled, result));
    }
    let pace = settled.pace(&fleet);
    let each = |tenant| resolve_one(&settled, &options, tenant, &migration, resolution);
    Ok(settled.run(pace, fleet.show, result, "resolve", each).await)
}

/// `init` over the fleet: each chosen tenant whose database is missing is
/// created, initialized and brought up to date; one already there is
/// reported as it is.
pub async fn init(options: Options, fleet: FleetOptions) -> Settles<Done<FleetResult>> {
    let settled = Settled::new(&options, &fleet, "init", false).await?;
    let mut result = settled.result(&options, &fleet);
    let databases = tenant_databases(&settled);
    let operation = Operation::CreateDatabase {
        database: &databases,
        unconfined_handlers: false,
    };
    if !ask(&settled, &options, "init", operation, &mut result)? {
        return Ok(declined(&settled, result));
    }
    // One at a time: each init holds the project's lock while it may
    // write the migrations folder (the first tenant's baseline).
    let pace = Pace {
        concurrency: 1,
        ..settled.pace(&fleet)
    };
    result.concurrency = 1;
    result.connection_limit = CONNECTIONS_PER_TENANT;
    let each = |tenant| init_one(&settled, &options, tenant);
    Ok(settled.run(pace, fleet.show, result, "init", each).await)
}

async fn migrate_one(settled: &Settled, options: &Options, tenant: Tenant) -> Outcome {
    let started = Instant::now();
    let options = match settled.tenant_options(options, &tenant) {
        Ok(options) => options,
        Err(outcome) => return *outcome,
    };
    let dry_run = options.dry_run;
    let done = lifecycle::migrate(options).await;
    let state = match (
        done.result.applied.is_empty(),
        dry_run && !done.result.pending.is_empty(),
    ) {
        (false, _) => TenantState::Migrated,
        (true, true) => TenantState::Pending,
        (true, false) => TenantState::UpToDate,
    };
    tenant_outcome(&tenant, &done, state, started)
}

async fn resolve_one(
    settled: &Settled,
    options: &Options,
    tenant: Tenant,
    migration: &str,
    resolution: crate::runtime::Resolution,
) -> Outcome {
    let started = Instant::now();
    let options = match settled.tenant_options(options, &tenant) {
        Ok(options) => options,
        Err(outcome) => return *outcome,
    };
    let done = lifecycle::resolve(options, migration.to_owned(), resolution).await;
    tenant_outcome(&tenant, &done, TenantState::Resolved, started)
}

/// A missing database is created and initialized as `init` would, then
/// migrated; an existing one is left to `migrate`.
async fn init_one(settled: &Settled, options: &Options, tenant: Tenant) -> Outcome {
    let started = Instant::now();
    let target = match settled.tenant_target(&tenant) {
        Ok(target) => target,
        Err(outcome) => return *outcome,
    };
    // A SQLite fleet's folder is the fleet's to make, as a server's
    // databases are.
    if let Some(folder) = target
        .file_path()
        .and_then(|file| file.parent().map(Path::to_path_buf))
        && let Err(err) = std::fs::create_dir_all(&folder)
    {
        let failure = Failure::new(format!("Cannot create the folder {}", folder.display()))
            .cause(err)
            .help("Check the fleet's pattern or database template, and the folder's permissions");
        return Outcome::failed(&tenant, TenantState::Failed, failure);
    }
    match database_exists(&target).await {
        Ok(true) => {
            let mut outcome = Outcome::of(&tenant, TenantState::Exists);
            outcome.database = target.database_name();
            return outcome;
        }
        Ok(false) => {}
        Err(failure) => return Outcome::failed(&tenant, TenantState::Unreachable, failure),
    }
    let report = workflow::init(InitOptions {
        environment: options.environment.clone(),
        database_name: None,
        cwd: options.cwd.clone(),
        approve: true,
        dry_run: options.dry_run,
        resume: false,
        adopt: false,
        live: false,
        target: Some(target),
    })
    .await;
    let mut outcome = Outcome::of(&tenant, TenantState::Initialized);
    outcome.database = report.init_result().database_name.clone();
    if report.status != crate::report::Status::Success {
        outcome.state = TenantState::Failed;
        outcome.error = report.error;
        outcome.cause = report.cause;
        outcome.recovery = report
            .recovery
            .map(|recovery| recovery.suggestions)
            .unwrap_or_default();
    } else if !options.dry_run {
        let migrated = migrate_one(settled, options, tenant).await;
        outcome.applied = migrated.applied;
        if migrated.state.is_failure() {
            outcome.state = TenantState::Failed;
            outcome.error = migrated.error;
            outcome.cause = migrated.cause;
            outcome.recovery = migrated.recovery;
            outcome.failed_migration = migrated.failed_migration;
        }
    }
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

async fn database_exists(target: &ConnectionString) -> Result<bool, Failure> {
    let name = target.database_name().unwrap_or_default();
    if let Some(path) = target.file_path() {
        return Ok(path.exists());
    }
    let mut server = Server::connect(target).await?;
    server.database_exists(&name).await.map_err(|err| {
        Failure::new(format!("Cannot check whether database {name} exists")).cause(err.message)
    })
}

/// A tenant's single-database report, as the fleet counts it: `state` on
/// success, else why it failed.
fn tenant_outcome(
    tenant: &Tenant,
    done: &Done<lifecycle::MigrateResult>,
    state: TenantState,
    started: Instant,
) -> Outcome {
    let result = &done.result;
    let state = match (done.ok, result.unreachable, result.no_database) {
        (true, _, _) => state,
        (false, true, _) => TenantState::Unreachable,
        (false, _, true) => TenantState::Missing,
        (false, false, false) => TenantState::Failed,
    };
    let mut outcome = Outcome::from_done(tenant, state, done);
    outcome.database = result.database_name.clone();
    outcome.applied = result.applied.clone();
    outcome.pending = result.pending.clone();
    outcome.failed_migration = result.failed.clone();
    outcome.warnings = result.warnings.clone();
    outcome.lint = result.lint.iter().map(|finding| finding.line()).collect();
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}
