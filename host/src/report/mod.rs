//! The report every run ends with: one JSON document (`--json`) or a readable
//! step list. Field names are a stable contract, documented in the README.

pub mod human;
pub mod output;
pub mod style;

use serde::Serialize;

use crate::config::Hosting;
use crate::db::{Confinement, HandlerObject};
use crate::provider::Provider;
use crate::runtime::{LoadedComponent, SqlTally};

/// How one numbered step of `init` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    Done,
    Skipped,
    Failed,
    Cancelled,
    NotRun,
}

impl StepStatus {
    /// The word the JSON report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Done => "done",
            StepStatus::Skipped => "skipped",
            StepStatus::Failed => "failed",
            StepStatus::Cancelled => "cancelled",
            StepStatus::NotRun => "not-run",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub number: u8,
    pub name: &'static str,
    pub status: StepStatus,
    pub detail: String,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Success,
    Error,
    Cancelled,
}

impl Status {
    /// The word the JSON says for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Error => "error",
            Status::Cancelled => "cancelled",
        }
    }

    /// The process exit code for this status (usage errors exit with 2, from clap).
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Success => 0,
            Status::Error => 1,
            Status::Cancelled => 3,
        }
    }
}

/// The document every command ends with: `status`, `operation`, `result`
/// (the command's own), `message`, `next_steps`, and on error `error`,
/// `cause`, `step` (`init`'s failed step) and `recovery`.
#[derive(Debug, Serialize)]
pub struct Report<R> {
    pub status: Status,
    pub operation: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<R>,
    pub message: String,
    pub next_steps: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<StepRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
}

/// `init`'s report, whose `result` is always there.
pub type InitReport = Report<InitResult>;

impl InitReport {
    pub fn init_result(&self) -> &InitResult {
        self.result
            .as_ref()
            .expect("init always reports its result")
    }
}

#[derive(Debug, Serialize)]
pub struct StepRef {
    pub number: u8,
    pub name: &'static str,
}

#[derive(Debug, Default, Serialize)]
pub struct Recovery {
    pub suggestions: Vec<String>,
    /// `init`: what this run created and then removed again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize)]
pub struct InitResult {
    pub environment: String,
    pub database_name: Option<String>,
    pub provider: Option<Provider>,
    pub hosting: Option<Hosting>,
    /// Null before it is known.
    pub infrastructure: Option<InfrastructureOrigin>,
    /// Cloud hosting: where the provisioned or found infrastructure listens.
    pub endpoint: Option<String>,
    /// Cloud hosting: every resource this run created (also when it failed
    /// after creating some).
    pub created_resources: Vec<CreatedResource>,
    /// Cloud hosting without a connection string: how the host reached the
    /// database, and where the application's credentials live.
    pub connection: Option<CloudConnection>,
    pub schema_initialized: bool,
    pub migration_table_created: bool,
    pub connectivity: Connectivity,
    pub health_check: HealthCheck,
    pub migration_name: Option<String>,
    pub migrations_directory: Option<String>,
    pub database_created: bool,
    pub dry_run: bool,
    /// The connection target with its password masked.
    pub database_url: Option<String>,
    pub handler: Option<HandlerRef>,
    /// How the migration-tool handler became native code for this machine
    /// (before step 12 uses it): its own phase, timed apart from the steps.
    pub handler_compile: Option<HandlerCompile>,
    pub health: Option<Health>,
    pub pending_migrations: Vec<String>,
    /// How the handler's SQL session was confined.
    pub handler_session: Option<Confinement>,
    /// What the handler created in the database (kind, name).
    pub handler_objects: Vec<HandlerObject>,
    /// The files the handler wrote into the migrations folder, relative to it.
    pub handler_files: Vec<String>,
    /// The handler's statements: sent, refused by faber-db, denied by the database.
    pub handler_sql: Option<SqlTally>,
    /// What the user should know although the run succeeded.
    pub warnings: Vec<String>,
    pub steps: Vec<StepRecord>,
}

/// Whether the cloud infrastructure was there or this run made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InfrastructureOrigin {
    Existing,
    Provisioned,
}

/// Step 14: the database answered and its tracking table is readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Connectivity {
    Verified,
    Failed,
    #[default]
    NotChecked,
}

/// Step 15's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthCheck {
    Passed,
    Failed,
    #[default]
    NotRun,
}

/// A cloud resource created by the run, as the host sent it to AWS.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedResource {
    pub identifier: String,
    /// `cluster` or `instance`.
    pub kind: &'static str,
    /// Instances only.
    pub instance_class: Option<String>,
    pub engine: String,
}

/// A connection the host built from the infrastructure. Names where the
/// credential lives (the secret's ARN), never the credential.
#[derive(Debug, Clone, Serialize)]
pub struct CloudConnection {
    /// As RDS reports it; the application connects here.
    pub endpoint: String,
    pub port: u16,
    pub user: String,
    /// `managed-secret` or `iam`.
    pub auth: &'static str,
    /// The RDS-managed master secret in AWS Secrets Manager.
    pub secret_arn: Option<String>,
    /// `verify-full`, `verify-ca`, `require` or `disable`.
    pub tls: &'static str,
    /// `host:port` of the tunnel the host went through, if any.
    pub through: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HandlerRef {
    pub name: String,
    pub version: String,
    pub wit_version: String,
    pub sha256: String,
    pub source: &'static str,
    /// `verified` against handlers.lock, `pinned on first use`, or `not pinned (dry run)`.
    pub pin: &'static str,
}

/// The handler's compilation: the one-time cost of its first use on this
/// machine (tens of seconds for an interpreted component), or a read from
/// the compile cache afterwards.
#[derive(Debug, Clone, Serialize)]
pub struct HandlerCompile {
    pub handler: String,
    pub size_bytes: u64,
    /// True when the native code was not compiled by this run (the compile
    /// cache's, or a bundled handler's built into faber-db).
    pub from_cache: bool,
    /// `cranelift` (optimized) or `winch` (wasmtime's baseline compiler,
    /// which compiles a third-party handler on its first use).
    pub compiler: crate::runtime::Compiler,
    pub duration_ms: u64,
}

impl From<&LoadedComponent> for HandlerCompile {
    fn from(component: &LoadedComponent) -> HandlerCompile {
        HandlerCompile {
            handler: component.name.clone(),
            size_bytes: component.size_bytes,
            from_cache: component.from_cache,
            compiler: component.compiler,
            duration_ms: component.load_time.as_millis() as u64,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// `ok` or `failed: …`.
    pub connectivity: String,
    pub schema: String,
    pub permissions: String,
    pub disk_space: DiskSpace,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiskSpace {
    /// `ok`, `low` (under 1 GiB free) or `unknown`.
    pub status: String,
    pub available_bytes: Option<u64>,
    pub detail: String,
}
