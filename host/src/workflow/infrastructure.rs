//! Steps 8 and 9 for cloud hosting: find the environment's infrastructure
//! through the cloud-provider handler and, when it is missing, provision it
//! and wait until it is ready.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::{CloudSection, Config, Hosting, cloud_handler};
use crate::failure::{Failure, Outcome};
use crate::handlers;
use crate::runtime::CloudProvider;
use crate::runtime::bindings::latest::{Infrastructure, InfrastructureRequest};
use crate::runtime::capabilities::rds_client;

/// The longest pause between two polls, however slow provisioning is.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

pub struct Cloud {
    provider: CloudProvider,
    request: InfrastructureRequest,
    hosting: Hosting,
    /// `integration.cloud_plugin`: only a configured handler may provision.
    may_provision: bool,
    timeout: Duration,
    poll_interval: Duration,
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
            Some(plugin) => handlers::cloud_provider_handler(project, plugin),
            None => cloud_handler(hosting).to_owned(),
        };
        if !handlers::is_installed(project, &name)? {
            return Err(not_provisionable(hosting, environment)
                .cause(format!("no cloud-provider handler {name} is installed")));
        }
        let runtime = handlers::runtime(&config.sandbox)?;
        let checked = handlers::load_checked(project, &runtime, &name)?;
        let provider = CloudProvider::new(&runtime, checked.component, rds_client().await)
            .map_err(handlers::failure)?;
        if checked.pin.is_none() && !dry_run {
            let info = provider.info().await.map_err(handlers::failure)?;
            handlers::pin(
                project,
                provider.component(),
                &info.version,
                provider.shape(),
            )?;
        }
        let hostings = provider.hostings().await.map_err(handlers::failure)?;
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
        Ok(Cloud {
            provider,
            request: InfrastructureRequest {
                project: project_name,
                environment: environment.to_owned(),
                hosting: hosting.as_str().to_owned(),
                provider: config.database.provider.into(),
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
        })
    }

    pub fn handler(&self) -> &str {
        &self.provider.component().name
    }

    pub async fn find(&self) -> Outcome<Found> {
        let found = self
            .provider
            .find(&self.request)
            .await
            .map_err(handlers::failure)?;
        Ok(match found {
            Some(infrastructure) if infrastructure.ready => Found::Ready(infrastructure),
            Some(infrastructure) => Found::Incomplete(infrastructure),
            None => Found::Missing,
        })
    }

    /// What provisioning would create, for `--dry-run`.
    pub async fn plan(&self) -> Outcome<Vec<String>> {
        self.provider
            .plan(&self.request)
            .await
            .map_err(handlers::failure)
    }

    /// Creates what is missing, then waits, with a growing pause between
    /// polls, until it is ready or the timeout passes.
    pub async fn provision(&self, found: &Found) -> Outcome<Infrastructure> {
        if matches!(found, Found::Missing) && !self.may_provision {
            return Err(not_provisionable(self.hosting, &self.request.environment).cause(format!(
                "no {} infrastructure exists for this environment, and integration.cloud_plugin is not set",
                self.hosting
            )));
        }
        let started = Instant::now();
        let mut state = self
            .provider
            .provision(&self.request)
            .await
            .map_err(|failure| {
                handlers::failure(failure)
                    .help("Run the same command again: provisioning creates only what is missing")
            })?;
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
            state = self
                .provider
                .poll(&self.request)
                .await
                .map_err(handlers::failure)?;
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
        if matches!(self.hosting, Hosting::AwsAurora | Hosting::AwsRds) {
            failure = failure.help(format!(
                "To remove it instead: {}",
                aws_delete_commands(self.hosting, state)
            ));
        }
        failure
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
    let members = state
        .resources
        .iter()
        .filter(|resource| **resource != state.identifier)
        .map(|member| {
            format!(
                "aws rds delete-db-instance --db-instance-identifier {member} --skip-final-snapshot"
            )
        });
    let primary = match hosting {
        Hosting::AwsAurora => format!(
            "aws rds delete-db-cluster --db-cluster-identifier {} --skip-final-snapshot",
            state.identifier
        ),
        _ => format!(
            "aws rds delete-db-instance --db-instance-identifier {} --skip-final-snapshot",
            state.identifier
        ),
    };
    members.chain([primary]).collect::<Vec<_>>().join("; ")
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
