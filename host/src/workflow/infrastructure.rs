//! Steps 8 and 9 for cloud hosting: find the environment's infrastructure
//! through the cloud-provider handler and, when it is missing, rehearse what
//! provisioning would create, create exactly that, and wait until it is
//! ready.
//!
//! The handler reaches AWS only through an [`RdsAccess`] confined to the
//! environment's [`Scope`]; anything it tried beyond that, or an endpoint it
//! reports that RDS did not give it, fails the step whatever it answered.
//!
//! Once the infrastructure is available, the host itself connects to it when
//! the environment gives no connection string (see [`crate::cloud`]).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cloud::{self, Reached};
use crate::components;
use crate::config::{CloudAuth, CloudSection, Config, Hosting, cloud_handler};
use crate::failure::{Failure, Outcome};
use crate::report::CreatedResource;
use crate::runtime::rds::{
    self, Kind, MAX_IDENTIFIER, RdsAccess, Resource, Scope, base_identifier,
};
use crate::runtime::{CloudProvider, Runtime};
use crate::runtime::{Infrastructure, InfrastructureRequest};

/// The longest pause between two polls, however slow provisioning is.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

/// The AWS handler names an Aurora writer `<identifier>-writer`, so its base
/// identifier leaves room for that suffix; the scope's base must agree.
const AURORA_WRITER_SUFFIX: &str = "-writer";

pub struct Cloud {
    provider: CloudProvider,
    request: InfrastructureRequest,
    hosting: Hosting,
    /// `integration.cloud_plugin`: only a configured handler may provision.
    may_provision: bool,
    timeout: Duration,
    poll_interval: Duration,
    aws: aws_config::SdkConfig,
    rds: aws_sdk_rds::Client,
    scope: Scope,
    /// The environment logs in with IAM tokens: what is created accepts them.
    iam_authentication: bool,
}

/// What step 8 found.
pub enum Found {
    Ready(Infrastructure),
    /// Exists but is not usable yet (still creating, or a part is missing):
    /// step 9 resumes instead of creating a second one.
    Incomplete(Infrastructure),
    Missing,
}

impl Cloud {
    pub async fn open(
        project: &Path,
        config: &Config,
        environment: &str,
        dry_run: bool,
    ) -> Outcome<Cloud> {
        let hosting = config.database.hosting;
        let configured = config.integration.cloud_plugin.as_deref();
        let name = match configured {
            Some(plugin) => components::cloud_provider_handler(project, plugin),
            None => cloud_handler(hosting).to_owned(),
        };
        if !components::is_installed(project, &name)? {
            return Err(not_provisionable(hosting, environment)
                .cause(format!("no cloud-provider handler {name} is installed")));
        }
        let runtime = Runtime::new(config.sandbox.limits())?;
        let checked = components::load_checked(project, &runtime, &name)?;
        let provider =
            CloudProvider::new(&runtime, checked.component).map_err(components::failure)?;
        if checked.pin.is_none() && !dry_run {
            let info = provider.info().await.map_err(components::failure)?;
            components::pin(
                project,
                &checked.resolved,
                provider.component(),
                &info.version,
                provider.shape(),
            )?;
        }
        let hostings = provider.hostings().await.map_err(components::failure)?;
        if !hostings.iter().any(|served| served == hosting.as_str()) {
            return Err(
                Failure::new(format!("Handler {name} does not serve hosting {hosting}"))
                    .cause(format!("it serves: {}", hostings.join(", ")))
                    .help("Set integration.cloud_plugin to a handler for this hosting"),
            );
        }
        let section = &config.cloud;
        let settings = serde_json::to_string(section).unwrap_or_else(|_| "{}".to_owned());
        let project_name = project
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let scope = scope(section, hosting, &project_name, environment)?;
        let aws = rds::sdk_config().await;
        let iam_authentication = config
            .environments
            .get(environment)
            .is_some_and(|env| env.connect.auth == CloudAuth::Iam);
        Ok(Cloud {
            provider,
            request: InfrastructureRequest {
                project: project_name,
                environment: environment.to_owned(),
                hosting: hosting.as_str().to_owned(),
                provider: config.database.provider,
                settings,
            },
            hosting,
            may_provision: configured.is_some(),
            timeout: seconds(
                section.provision_timeout_seconds,
                CloudSection::DEFAULT_TIMEOUT_SECONDS,
            ),
            poll_interval: seconds(
                section.poll_interval_seconds,
                CloudSection::DEFAULT_POLL_SECONDS,
            ),
            rds: aws_sdk_rds::Client::new(&aws),
            aws,
            scope,
            iam_authentication,
        })
    }

    pub fn handler(&self) -> &str {
        &self.provider.component().name
    }

    pub async fn find(&self) -> Outcome<Found> {
        let access = self.read_only();
        let found = self.provider.find(&self.request, &access).await;
        let found = match self
            .confined(&access, found.map_err(components::failure))
            .await?
        {
            Some(infrastructure) => Some(self.verified(&access, infrastructure).await?),
            None => None,
        };
        Ok(match found {
            Some(infrastructure) if infrastructure.ready => Found::Ready(infrastructure),
            Some(infrastructure) => Found::Incomplete(infrastructure),
            None => Found::Missing,
        })
    }

    /// Refuses to create anything unless the configuration names a handler.
    pub fn check_may_provision(&self, found: &Found) -> Outcome<()> {
        if matches!(found, Found::Missing) && !self.may_provision {
            return Err(not_provisionable(self.hosting, &self.request.environment).cause(format!(
                "no {} infrastructure exists for this environment, and integration.cloud_plugin is not set",
                self.hosting
            )));
        }
        Ok(())
    }

    /// The plan: what the handler's `provision` asks to create when its
    /// creates are recorded instead of sent. Reads AWS, changes nothing.
    pub async fn rehearse(&self) -> Outcome<Vec<Resource>> {
        let access = RdsAccess::rehearsal(self.rds.clone(), self.scope.clone());
        let rehearsed = self.provider.provision(&self.request, &access).await;
        self.confined(&access, rehearsed.map_err(components::failure))
            .await?;
        Ok(access.accepted().await)
    }

    /// Creates what `plan` lists (and nothing else), then waits, with a
    /// growing pause between polls, until it is ready or the timeout
    /// passes. `created` lists what was created, also when this fails.
    pub async fn provision(
        &self,
        plan: Vec<Resource>,
        created: &mut Vec<Resource>,
    ) -> Outcome<Infrastructure> {
        let started = Instant::now();
        let access = RdsAccess::execution(
            self.rds.clone(),
            self.scope.clone(),
            plan,
            self.iam_authentication,
        );
        let provisioned = self.provider.provision(&self.request, &access).await;
        *created = access.accepted().await;
        let provisioned = provisioned.map_err(|failure| {
            components::failure(failure)
                .help("Run the same command again: provisioning creates only what is missing")
        });
        let mut state = match self.confined(&access, provisioned).await {
            Ok(state) => self.verified(&access, state).await,
            Err(failure) => Err(failure),
        }
        .map_err(|failure| left_in_place(failure, created))?;
        let mut pause = self.poll_interval;
        let progress = Progress::new();
        while !state.ready {
            if started.elapsed() >= self.timeout {
                progress.finish();
                return Err(self.timed_out(&state));
            }
            progress.show(&state, started.elapsed());
            tokio::time::sleep(pause.min(self.timeout.saturating_sub(started.elapsed()))).await;
            pause = (pause.mul_f64(1.5)).min(MAX_POLL_INTERVAL);
            state = self.poll().await?;
        }
        progress.finish();
        if state.endpoint.is_none() {
            return Err(Failure::new(format!(
                "{} is ready but reports no endpoint",
                state.identifier
            ))
            .help(
                "Check the resource in the cloud console; run init again once it shows an endpoint",
            ));
        }
        Ok(state)
    }

    /// The administrative connection to `infrastructure`, built from what
    /// RDS reports and checked from this machine.
    pub async fn connect(
        &self,
        project: &Path,
        config: &Config,
        infrastructure: &Infrastructure,
    ) -> Outcome<Reached> {
        let environment = &self.request.environment;
        let located = cloud::locate(&self.rds, self.hosting, &self.scope, infrastructure).await?;
        let settings = &config.environments[environment].connect;
        let target = cloud::Environment {
            project,
            name: environment,
            provider: config.database.provider,
            settings,
        };
        cloud::connect(&self.aws, &target, &located).await
    }

    async fn poll(&self) -> Outcome<Infrastructure> {
        let access = self.read_only();
        let polled = self.provider.poll(&self.request, &access).await;
        let state = self
            .confined(&access, polled.map_err(components::failure))
            .await?;
        self.verified(&access, state).await
    }

    fn read_only(&self) -> RdsAccess {
        RdsAccess::read_only(self.rds.clone(), self.scope.clone())
    }

    /// The call's outcome, unless the handler asked for anything it was
    /// refused: then the step fails even if the handler went on to report
    /// success.
    async fn confined<T>(&self, access: &RdsAccess, outcome: Outcome<T>) -> Outcome<T> {
        let refusals = access.refusals().await;
        if refusals.is_empty() {
            return outcome;
        }
        Err(self.overreach(format!(
            "it asked for what it may not: {}",
            refusals.join("; ")
        )))
    }

    /// `reported`, once its identifiers and endpoint are shown to be this
    /// environment's.
    async fn verified(
        &self,
        access: &RdsAccess,
        reported: Infrastructure,
    ) -> Outcome<Infrastructure> {
        match access.verify(&reported).await {
            Ok(()) => Ok(reported),
            Err(reason) => Err(self.overreach(reason)),
        }
    }

    fn overreach(&self, what: String) -> Failure {
        Failure::new(format!(
            "Handler {} reached beyond environment {}",
            self.handler(),
            self.request.environment
        ))
        .cause(what)
        .help(format!(
            "faber-db stopped the run: a cloud handler may read and create only {} (and none tagged for another project or environment), may create only what its rehearsed plan lists, and may report only endpoints RDS gave it",
            self.scope.describe()
        ))
        .help("Use a cloud-provider handler you trust, and report this to the handler's author")
    }

    fn timed_out(&self, state: &Infrastructure) -> Failure {
        let waited = self.timeout.as_secs_f64();
        let mut failure = Failure::new(format!("Provisioning timed out after {waited}s"))
            .cause(format!(
                "{} is still {} (created so far: {}); it was left in place",
                state.identifier,
                state.status,
                state.resources.join(", ")
            ))
            .help(format!(
                "Run the same command again: it finds {} and continues waiting instead of creating a second one",
                state.identifier
            ))
            .help("Allow more time with cloud.provision_timeout_seconds in the configuration");
        if self.hosting.is_aws() {
            failure = failure.help(format!(
                "To remove it instead: {}",
                aws_delete_commands(self.hosting, state)
            ));
        }
        failure
    }
}

/// The resources the handler may reach: `cloud.identifier` when set, else
/// `<project>-<environment>` made into an RDS identifier.
fn scope(
    section: &CloudSection,
    hosting: Hosting,
    project: &str,
    environment: &str,
) -> Outcome<Scope> {
    let base = match section.handler_settings.get("identifier") {
        None | Some(Value::Null) => {
            let max = match hosting {
                Hosting::AwsAurora => MAX_IDENTIFIER - AURORA_WRITER_SUFFIX.len(),
                _ => MAX_IDENTIFIER,
            };
            base_identifier(project, environment, max)
        }
        Some(Value::String(identifier)) if !identifier.trim().is_empty() => identifier.clone(),
        Some(other) => {
            return Err(
                Failure::new("Invalid cloud.identifier in the configuration")
                    .cause(format!("it is {other}, not a resource identifier"))
                    .help(format!(
                        "Set it to the environment's RDS identifier, or remove it to use {}",
                        base_identifier(project, environment, MAX_IDENTIFIER)
                    )),
            );
        }
    };
    Ok(Scope::new(&base, project, environment))
}

impl From<&Resource> for CreatedResource {
    fn from(resource: &Resource) -> CreatedResource {
        CreatedResource {
            identifier: resource.identifier.clone(),
            kind: resource.kind.as_str(),
            instance_class: resource.instance_class.clone(),
            engine: resource.engine.clone(),
        }
    }
}

fn seconds(value: Option<f64>, default: f64) -> Duration {
    Duration::try_from_secs_f64(value.unwrap_or(default))
        .unwrap_or(Duration::from_secs_f64(default))
}

/// The workflow's documented error when infrastructure is missing and
/// nothing may create it.
fn not_provisionable(hosting: Hosting, environment: &str) -> Failure {
    Failure::new("Database infrastructure not found and cannot be provisioned")
        .help(format!(
            "Install the cloud-provider handler for {hosting} and set integration.cloud_plugin (e.g. \"{}\")",
            cloud_handler(hosting)
        ))
        .help(format!("Or provision the {hosting} infrastructure manually and run faber-db init {environment} again"))
        .help("Or use an existing instance: point the environment's connection string at it")
}

fn aws_delete_commands(hosting: Hosting, state: &Infrastructure) -> String {
    let primary = match hosting {
        Hosting::AwsAurora => Kind::Cluster,
        _ => Kind::Instance,
    };
    delete_commands(state.resources.iter().map(|resource| {
        let kind = if *resource == state.identifier {
            primary
        } else {
            Kind::Instance
        };
        (kind, resource.as_str())
    }))
}

/// The AWS CLI commands that remove `resources`: instances first, as a
/// cluster cannot be deleted while it has members.
fn delete_commands<'a>(resources: impl IntoIterator<Item = (Kind, &'a str)>) -> String {
    let (clusters, instances): (Vec<_>, Vec<_>) = resources
        .into_iter()
        .partition(|(kind, _)| *kind == Kind::Cluster);
    instances
        .into_iter()
        .chain(clusters)
        .map(|(kind, identifier)| match kind {
            Kind::Cluster => format!(
                "aws rds delete-db-cluster --db-cluster-identifier {identifier} --skip-final-snapshot"
            ),
            Kind::Instance => format!(
                "aws rds delete-db-instance --db-instance-identifier {identifier} --skip-final-snapshot"
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `failure`, saying what this run created before it and how to remove it.
fn left_in_place(failure: Failure, created: &[Resource]) -> Failure {
    if created.is_empty() {
        return failure;
    }
    let names: Vec<&str> = created.iter().map(|r| r.identifier.as_str()).collect();
    failure.help(format!(
        "This run created {} before it stopped; they were left in place. To remove them: {}",
        names.join(", "),
        delete_commands(created.iter().map(|r| (r.kind, r.identifier.as_str())))
    ))
}

/// Waiting made visible: a line rewritten in place on a terminal, one line
/// per poll in a log.
struct Progress {
    terminal: bool,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&self, state: &Infrastructure, elapsed: Duration) {
        let line = format!(
            "waiting for {}: {} ({}s)",
            state.identifier,
            state.status,
            elapsed.as_secs()
        );
        let mut stderr = std::io::stderr();
        if self.terminal {
            let _ = write!(stderr, "\r\x1b[2K⏳ {line}");
            let _ = stderr.flush();
        } else {
            let _ = writeln!(stderr, "[faber-db] {line}");
        }
    }

    fn finish(&self) {
        if self.terminal {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
