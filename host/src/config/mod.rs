//! The project configuration: `.fractary/plugins/faber-db/config.json`.
//!
//! The format is the original plugin's. Only the keys faber-db reads are typed
//! here; every other key is accepted and ignored, because real configurations
//! carry many more sections than this tool needs.

mod connect;
pub mod fleet;
mod load;
mod schema;

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::provider::Provider;
use crate::runtime::Limits;

pub use connect::{CloudAuth, ConnectSettings, TlsMode};
pub use load::load;
pub use schema::SCHEMA;

/// Where the configuration lives, relative to the project directory.
pub const CONFIG_DIR: &str = ".fractary/plugins/faber-db";
pub const CONFIG_FILE: &str = "config.json";

pub fn config_dir(project: &Path) -> PathBuf {
    project.join(CONFIG_DIR)
}

pub fn config_path(project: &Path) -> PathBuf {
    config_dir(project).join(CONFIG_FILE)
}

/// What faber-db writes beside the configuration as it runs (the operation
/// log, the project lock), kept out of version control by a `.gitignore`
/// of its own there, so that a teammate's first run leaves the tree clean.
/// One already there is the project's and is left as it is.
pub fn ignore_run_time_files(project: &Path) -> std::io::Result<()> {
    let dir = config_dir(project);
    std::fs::create_dir_all(&dir)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(".gitignore"));
    match file {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(
                b"# Written by faber-db as it runs; the configuration and handlers.lock are to commit.\nlogs/\n.lock\n",
            )
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub database: DatabaseSection,
    /// In the configuration's order, which `status` and every list of
    /// them keep.
    #[serde(default)]
    pub environments: IndexMap<String, Environment>,
    #[serde(default)]
    pub migrations: MigrationsSection,
    #[serde(default)]
    pub safety: SafetySection,
    #[serde(default)]
    pub integration: IntegrationSection,
    #[serde(default)]
    pub sandbox: SandboxSection,
    #[serde(default, skip_serializing_if = "CloudSection::is_empty")]
    pub cloud: CloudSection,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseSection {
    #[serde(default)]
    pub provider: Provider,
    #[serde(default)]
    pub hosting: Hosting,
    #[serde(default = "default_migration_tool")]
    pub migration_tool: String,
}

fn default_migration_tool() -> String {
    "prisma".to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hosting {
    #[default]
    Local,
    Localhost,
    AwsAurora,
    AwsRds,
    GcpSql,
    AzureSql,
}

/// The bundled cloud-provider handler for a hosting.
pub fn cloud_handler(hosting: Hosting) -> &'static str {
    match hosting {
        Hosting::GcpSql => "handler-cloud-gcp",
        Hosting::AzureSql => "handler-cloud-azure",
        _ => "handler-cloud-aws",
    }
}

impl Hosting {
    pub fn is_cloud(self) -> bool {
        !matches!(self, Hosting::Local | Hosting::Localhost)
    }

    /// AWS RDS or Aurora: the host can reach it without a connection string.
    pub fn is_aws(self) -> bool {
        matches!(self, Hosting::AwsAurora | Hosting::AwsRds)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Hosting::Local => "local",
            Hosting::Localhost => "localhost",
            Hosting::AwsAurora => "aws-aurora",
            Hosting::AwsRds => "aws-rds",
            Hosting::GcpSql => "gcp-sql",
            Hosting::AzureSql => "azure-sql",
        }
    }
}

impl fmt::Display for Hosting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Environment {
    /// Name of the environment variable that holds the connection string.
    /// A cloud environment may leave it out (or the variable unset): the host
    /// then connects to the infrastructure itself, as `connect` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_string_env: Option<String>,
    #[serde(default)]
    pub require_approval: bool,
    /// Whose privileges a handler's SQL runs with.
    #[serde(default, skip_serializing_if = "HandlerPrivileges::is_default")]
    pub handler_privileges: HandlerPrivileges,
    /// A variable holding the connection string of the project's own
    /// unprivileged account for handlers, instead of one made per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler_connection_string_env: Option<String>,
    /// Cloud hosting without a connection string: how to reach the database.
    #[serde(default, skip_serializing_if = "ConnectSettings::is_default")]
    pub connect: ConnectSettings,
    /// The environment is many databases, one per tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<fleet::Fleet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandlerPrivileges {
    /// An account that can reach this one database only.
    #[default]
    Least,
    /// The connection's own privileges: an explicit, reported opt-in.
    Connection,
}

impl HandlerPrivileges {
    fn is_default(&self) -> bool {
        *self == HandlerPrivileges::Least
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MigrationsSection {
    /// The migrations folder, relative to the project directory.
    pub directory: Option<String>,
    /// The tracking table; the migration tool's own name when absent.
    pub table: Option<String>,
    /// How long `migrate` and `resolve` wait for the migration lock (held
    /// by another run, or by the tool's own CLI) before giving up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_timeout_seconds: Option<f64>,
}

impl MigrationsSection {
    pub const DEFAULT_DIRECTORY: &str = "prisma/migrations";
    /// Prisma's own wait for its lock.
    pub const DEFAULT_LOCK_TIMEOUT_SECONDS: f64 = 10.0;

    pub fn lock_timeout(&self) -> std::time::Duration {
        let seconds = self
            .lock_timeout_seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or(Self::DEFAULT_LOCK_TIMEOUT_SECONDS)
            .min(24.0 * 3600.0);
        std::time::Duration::from_secs_f64(seconds)
    }

    pub fn directory(&self) -> &str {
        self.directory.as_deref().unwrap_or(Self::DEFAULT_DIRECTORY)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SafetySection {
    #[serde(default)]
    pub protected_environments: Vec<String>,
}

/// What `config init` writes into `integration.logs_plugin`, so that every
/// run is recorded in the operation log from the start.
pub const DEFAULT_LOGS_PLUGIN: &str = "fractary-logs";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IntegrationSection {
    pub cloud_plugin: Option<String>,
    pub logs_plugin: Option<String>,
}

/// Cloud infrastructure. The host reads the wait settings; every other key
/// belongs to the cloud-provider handler, which receives the whole section.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CloudSection {
    pub provision_timeout_seconds: Option<f64>,
    pub poll_interval_seconds: Option<f64>,
    #[serde(flatten)]
    pub handler_settings: serde_json::Map<String, serde_json::Value>,
}

impl CloudSection {
    pub const DEFAULT_TIMEOUT_SECONDS: f64 = 600.0;
    pub const DEFAULT_POLL_SECONDS: f64 = 5.0;

    fn is_empty(&self) -> bool {
        self.provision_timeout_seconds.is_none()
            && self.poll_interval_seconds.is_none()
            && self.handler_settings.is_empty()
    }
}

/// Limits for every handler call; absent keys take the runtime's defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SandboxSection {
    pub memory_mib: Option<u64>,
    pub fuel: Option<u64>,
    pub timeout_seconds: Option<u64>,
}

impl SandboxSection {
    /// The limits a handler call runs under: these, the runtime's defaults
    /// where absent.
    pub fn limits(&self) -> Limits {
        let default = Limits::default();
        Limits {
            memory_bytes: self
                .memory_mib
                .map_or(default.memory_bytes, |mib| (mib as usize) << 20),
            fuel: self.fuel.unwrap_or(default.fuel),
            timeout: self
                .timeout_seconds
                .map_or(default.timeout, std::time::Duration::from_secs),
        }
    }

    /// The runtime's defaults, spelled out: `config init` writes them so
    /// that a reader of the file sees the limits that apply.
    pub fn defaults() -> SandboxSection {
        let limits = Limits::default();
        SandboxSection {
            memory_mib: Some((limits.memory_bytes >> 20) as u64),
            fuel: Some(limits.fuel),
            timeout_seconds: Some(limits.timeout.as_secs()),
        }
    }
}

impl Config {
    /// The migration tool is Prisma (its bundled handler, or one named for
    /// it): Prisma's rules for paths and its own CLI's commands apply.
    pub fn uses_prisma(&self) -> bool {
        self.database.migration_tool.contains("prisma")
    }

    /// The configuration `faber-db config init` writes; `migrations` is the
    /// tool's folder.
    pub fn new(
        provider: Provider,
        hosting: Hosting,
        migration_tool: &str,
        migrations: &str,
    ) -> Config {
        let environments = ["dev", "staging", "production"]
            .into_iter()
            .map(|name| {
                let environment = Environment {
                    connection_string_env: Some(format!("{}_DATABASE_URL", name.to_uppercase())),
                    require_approval: name == "production",
                    handler_privileges: HandlerPrivileges::Least,
                    handler_connection_string_env: None,
                    connect: ConnectSettings::default(),
                    fleet: None,
                };
                (name.to_owned(), environment)
            })
            .collect();
        Config {
            database: DatabaseSection {
                provider,
                hosting,
                migration_tool: migration_tool.to_owned(),
            },
            environments,
            migrations: MigrationsSection {
                directory: Some(migrations.to_owned()),
                table: None,
                lock_timeout_seconds: None,
            },
            safety: SafetySection {
                protected_environments: vec!["production".to_owned()],
            },
            integration: IntegrationSection {
                cloud_plugin: hosting
                    .is_cloud()
                    .then(|| cloud_handler(hosting).to_owned()),
                logs_plugin: Some(DEFAULT_LOGS_PLUGIN.to_owned()),
            },
            sandbox: SandboxSection::defaults(),
            cloud: CloudSection::default(),
        }
    }

    pub fn is_protected(&self, environment: &str) -> bool {
        self.safety
            .protected_environments
            .iter()
            .any(|name| name == environment)
            || self
                .environments
                .get(environment)
                .is_some_and(|env| env.require_approval)
    }
}
