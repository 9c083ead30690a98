//! What the host and a handler exchange, in the host's own types.
//!
//! The records of the `faber:db` contract as the rest of the host sees them,
//! whatever version a handler was built for: each bindings module in
//! [`super::bindings`] converts its generated types to and from these, so a
//! new contract version changes `runtime/` only. Field names follow the WIT
//! records (`initialize-request` is [`InitializeRequest`]).

pub use crate::provider::Provider;

/// The two kinds of handler: the world a component exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    MigrationTool,
    CloudProvider,
}

impl World {
    pub fn as_str(self) -> &'static str {
        match self {
            World::MigrationTool => "migration-tool",
            World::CloudProvider => "cloud-provider",
        }
    }
}

/// What a handler says of itself (`info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerInfo {
    pub name: String,
    pub version: String,
    /// The contract version it claims to be built for.
    pub wit_version: String,
    pub description: String,
    pub providers: Vec<Provider>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub code: Option<String>,
    pub message: String,
}

/// An error a handler reports (rather than a trap or a limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerError {
    InvalidRequest(String),
    UnsupportedProvider(Provider),
    Sql(SqlError),
    Filesystem(String),
    Conflict(String),
    Cloud(String),
    Internal(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializeRequest {
    pub provider: Provider,
    pub database_name: String,
    /// Where the handler sees the migrations folder.
    pub migrations_dir: String,
    /// The tracking table; the tool's own name when `None`.
    pub tracking_table: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializeOutcome {
    pub tracking_table: String,
    pub tracking_table_created: bool,
    pub baseline_migration: String,
    pub baseline_created: bool,
    pub applied: Vec<String>,
    pub pending: Vec<String>,
    /// Relative to the migrations folder.
    pub files_written: Vec<String>,
    /// The tool's advice; empty from a handler built for faber:db@0.1.0.
    pub next_steps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingRequest {
    pub provider: Provider,
    pub database_name: String,
    pub migrations_dir: String,
    pub tracking_table: Option<String>,
}

/// One migration as the tool's tracking table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingRow {
    pub name: String,
    pub checksum: Option<String>,
    /// RFC 3339 times.
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub rolled_back_at: Option<String>,
    pub logs: Option<String>,
    pub applied_steps_count: u32,
}

/// One migration in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderMigration {
    pub name: String,
    pub checksum: Option<String>,
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingState {
    pub tracking_table: String,
    pub initialized: bool,
    pub rows: Vec<TrackingRow>,
    pub folder: Vec<FolderMigration>,
}

/// The lock the migration tool itself takes while it migrates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationLock {
    PostgresAdvisory(i64),
    MysqlNamed(String),
    None,
}

/// How a tool's migrations run (since 0.4.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationForm {
    /// SQL files the host runs; the handler keeps its tracking table's rows.
    SqlFiles,
    /// Code the handler runs itself, on a session that may change the schema.
    Code,
}

/// What `apply-migrations` did before it stopped (since 0.4.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyFailure {
    /// Rows of the migrations applied before the failure, oldest first.
    pub applied: Vec<TrackingRow>,
    /// The migration whose SQL failed, if the failure was in one.
    pub failed: Option<String>,
    pub error: HandlerError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Applied,
    RolledBack,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    pub provider: Provider,
    pub migrations_dir: String,
    pub name: String,
    pub sql: String,
}

/// One path of a project, as the host read it for `read-project` (since 0.6.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    /// As the handler asked for it, relative to the project.
    pub path: String,
    pub entry: ProjectEntry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectEntry {
    File(String),
    /// The names in a folder, sorted.
    Folder(Vec<String>),
    /// Nothing the host grants there.
    Absent,
}

/// What a migration tool's files in a project say (since 0.6.0); paths
/// relative to the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSettings {
    pub tool_name: String,
    /// Empty when the project holds none of the tool's files.
    pub read_from: Vec<String>,
    pub provider: Option<Provider>,
    pub migrations_directory: String,
    pub tracking_table: Option<String>,
    pub url_variable: Option<String>,
    pub next_steps: Vec<String>,
    /// A JSON object.
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectReading {
    /// The paths to read before the next call.
    Read(Vec<String>),
    Settings(ProjectSettings),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfrastructureRequest {
    pub project: String,
    pub environment: String,
    pub hosting: String,
    pub provider: Provider,
    /// The environment's cloud settings, as JSON.
    pub settings: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Infrastructure {
    pub identifier: String,
    pub resources: Vec<String>,
    pub status: String,
    pub ready: bool,
    pub endpoint: Option<String>,
    pub port: Option<u16>,
}

/// The `rds` import's records: what a cloud-provider handler asks of RDS
/// and what it is told back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbCluster {
    pub identifier: String,
    pub status: String,
    pub engine: String,
    pub engine_version: Option<String>,
    pub endpoint: Option<String>,
    pub port: Option<u16>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInstance {
    pub identifier: String,
    pub status: String,
    pub engine: String,
    pub engine_version: Option<String>,
    pub instance_class: String,
    pub cluster_identifier: Option<String>,
    pub endpoint: Option<String>,
    pub port: Option<u16>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCluster {
    pub identifier: String,
    pub engine: String,
    pub engine_version: Option<String>,
    pub database_name: Option<String>,
    pub master_username: String,
    pub port: Option<u16>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateInstance {
    pub identifier: String,
    pub engine: String,
    pub engine_version: Option<String>,
    pub instance_class: String,
    pub port: Option<u16>,
    pub cluster_identifier: Option<String>,
    pub allocated_storage_gib: Option<u32>,
    pub master_username: Option<String>,
    pub database_name: Option<String>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdsError {
    AlreadyExists(String),
    AccessDenied(String),
    InvalidRequest(String),
    Service(String),
}
