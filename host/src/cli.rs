//! The command line. Only this module knows clap; commands receive plain values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Hosting, Provider};

#[derive(Debug, Parser)]
#[command(
    name = "faber-db",
    version,
    about = "Stand up a project's databases safely across environments",
    long_about = "faber-db creates an environment's database, puts its migration tracking in place \
                  through a sandboxed migration-tool handler (Prisma first), health-checks it and \
                  reports what happened.\n\n\
                  Configuration: .fractary/plugins/faber-db/config.json in the project directory \
                  (create it with `faber-db config init`).",
    after_help = "Exit codes: 0 success, 1 error, 2 usage error, 3 cancelled (status adds 4, 5 and 6: see faber-db status --help).\n\
                  Environment: FABER_DB_CWD (project directory), FABER_DB_CACHE_DIR (compiled handlers), \
                  FABER_DB_HANDLERS_DIR (user-wide handlers), NO_COLOR."
)]
pub struct Cli {
    /// Show progress and handler messages on stderr (-vv for debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and initialize the database of an environment.
    #[command(
        long_about = "Runs the initialize-database workflow for ENVIRONMENT: validates the \
                      configuration and connection string, asks for approval on protected \
                      environments, creates the database, has the migration-tool handler set up \
                      migration tracking and the baseline migration, verifies connectivity and \
                      health, and logs the operation. On failure it removes what this run created \
                      and says what to do next."
    )]
    Init(InitArgs),
    /// Every environment's migrations side by side, and anything wrong (read-only).
    #[command(
        long_about = "Reads each environment's migration tracking through the migration-tool handler \
                      and compares it with the project's migrations folder: which migrations are \
                      applied, pending, failed, rolled back, modified since they were applied, or \
                      applied but missing from the folder. With --drift, also compares each live \
                      schema with the schema its applied migrations produce (replayed into a scratch \
                      database). Environments are checked concurrently; nothing is created, locked \
                      or written on any environment's database.",
        after_help = "Exit codes: 0 every environment looked at is up to date; 4 migrations pending \
                      (and nothing worse); 5 a failed migration, drift (an applied migration edited \
                      or gone from the folder, or a schema that differs), or a state that could not \
                      be read; 6 an environment unreachable, not configured on this machine, or not \
                      initialized; 1 status itself failed; 2 usage error."
    )]
    Status(StatusArgs),
    /// Apply the migrations an environment's database has not applied yet.
    #[command(
        long_about = "Applies the migrations of the project's folder that ENVIRONMENT's database has \
                      not applied, oldest first, through the migration-tool handler, recording each \
                      exactly as the tool's own CLI would (Prisma: _prisma_migrations, so `prisma \
                      migrate deploy` and faber-db can be used on one database in either order). \
                      Takes the tool's own lock first (PostgreSQL pg_advisory_lock(72707369), MySQL \
                      GET_LOCK('prisma_migrate'); a SQLite project's runs share a lock file), waiting \
                      migrations.lock_timeout_seconds (default 10). Refuses while an earlier migration \
                      is failed and unresolved; reports applied migrations whose file changed. Flags \
                      destructive statements (dropped tables, columns, types, enum values, type \
                      changes, TRUNCATE, DELETE/UPDATE without WHERE, …) on every environment; a \
                      protected environment shows them and the migrations, and asks for approval. \
                      --dry-run shows the plan with its SQL and changes nothing."
    )]
    Migrate(MigrateArgs),
    /// Record a failed migration as rolled back, or a migration as applied, without running it.
    #[command(
        long_about = "Records MIGRATION in ENVIRONMENT's tracking table with the migration tool's own \
                      meaning (Prisma: `prisma migrate resolve`). --rolled-back marks a failed \
                      migration rolled back, so `migrate` applies it again; --applied records one as \
                      applied without running it (its failed attempts are marked rolled back), e.g. \
                      after completing it by hand or to baseline a database. Protected environments \
                      ask for approval."
    )]
    Resolve(ResolveArgs),
    /// Write a new, correctly named migration into the migrations folder.
    #[command(
        long_about = "Writes a new migration in the migration tool's layout (Prisma: \
                      <migrations>/<YYYYMMDDHHMMSS>_<snake_name>/migration.sql; dbmate: \
                      <version>_<name>.sql) with the SQL from --sql FILE or stdin, or an empty body \
                      to fill in, and prints its path."
    )]
    GenerateMigration(GenerateArgs),
    /// Create or inspect the project configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Install, pin, verify, inspect, test and create handler components.
    #[command(subcommand)]
    Handler(HandlerCommand),
}

#[derive(Debug, Subcommand)]
pub enum HandlerCommand {
    /// Handlers available to the project, and what it pins.
    List(ProjectArgs),
    /// Install a handler into the project and pin its sha256 in handlers.lock.
    #[command(long_about = "Installs a handler component into the project's \
        .fractary/plugins/faber-db/handlers/ folder as NAME@VERSION.wasm and pins it (name, version, \
        contract version and sha256) in handlers.lock. SOURCE is a path to a .wasm file, or the name \
        of a handler in the user or bundled folders, optionally NAME@VERSION. Shows what the handler \
        will be allowed to do. Re-adding replaces the pin: that is how a handler is upgraded.")]
    Add(AddArgs),
    /// Check every pinned handler against its sha256.
    Verify(ProjectArgs),
    /// Unpin a handler and delete its copy in the project.
    Remove(NameArgs),
    /// What a handler is: contract version, exports, imports and capabilities.
    Info(NameArgs),
    /// Run the conformance suite against a handler component.
    Test(TestArgs),
    /// Create a handler crate, built only against the WIT contract.
    New(NewArgs),
}

#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Project directory (default: $FABER_DB_CWD, else the current directory or its git root).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// A .wasm file, or NAME[@VERSION] of an installed handler.
    pub source: String,
    /// Let this handler take the name of one bundled with faber-db (e.g. a
    /// fork of handler-db-prisma); without it such a handler is refused.
    #[arg(long)]
    pub replace_bundled: bool,
    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    /// Handler name (e.g. handler-db-prisma), or for `info` a path to a .wasm file.
    pub handler: String,
    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The component to test.
    pub path: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Crate name, e.g. handler-db-flyway.
    pub name: String,
    /// Folder to create the crate in (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print one JSON document on stdout instead of the step list.
    #[arg(long, global = true)]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum, global = true, default_value_t = Format::Human)]
    pub output: Format,
}

impl OutputArgs {
    pub fn json(&self) -> bool {
        self.json || self.output == Format::Json
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The environment to initialize, as named in the configuration (dev, staging, production, …).
    pub environment: String,
    /// Database name; defaults to the one in the connection string, else <project>_<environment>.
    #[arg(long, value_name = "NAME")]
    pub database_name: Option<String>,
    /// Project directory (default: $FABER_DB_CWD, else the current directory or its git root).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Approve a protected environment without a prompt (required without a terminal).
    #[arg(long, visible_alias = "yes", short = 'y')]
    pub approve: bool,
    /// Show the plan: check everything, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Continue a database an interrupted faber-db run left (it holds faber-db's
    /// in-progress marker) instead of refusing it; it is never dropped.
    #[arg(long, conflicts_with = "adopt")]
    pub resume: bool,
    /// Initialize an existing, empty database created outside faber-db (by a
    /// DBA, a cloud console) instead of refusing it; it is never dropped.
    #[arg(long)]
    pub adopt: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Environments to look at, as named in the configuration (default: all).
    pub environments: Vec<String>,
    /// Also compare each live schema with a replay of its applied migrations.
    #[arg(long)]
    pub drift: bool,
    /// Seconds to wait for each environment's server before calling it unreachable.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Project directory (default: $FABER_DB_CWD, else the current directory or its git root).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The flags every command that changes an environment's database shares.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// Project directory (default: $FABER_DB_CWD, else the current directory or its git root).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Approve a protected environment without a prompt (required without a terminal).
    #[arg(long, visible_alias = "yes", short = 'y')]
    pub approve: bool,
    /// Show the plan: check everything, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The environment to migrate, as named in the configuration.
    pub environment: String,
    #[command(flatten)]
    pub project: ChangeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("resolution").required(true).args(["applied", "rolled_back"])))]
pub struct ResolveArgs {
    /// The environment whose tracking table records it.
    pub environment: String,
    /// Record MIGRATION as applied without running it.
    #[arg(long, value_name = "MIGRATION")]
    pub applied: Option<String>,
    /// Record the failed MIGRATION as rolled back, so that migrate runs it again.
    #[arg(long, value_name = "MIGRATION")]
    pub rolled_back: Option<String>,
    #[command(flatten)]
    pub project: ChangeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What the migration does, e.g. "add users" (becomes add_users).
    pub name: String,
    /// A file holding the migration's SQL (`-` for stdin); without it, SQL
    /// piped on stdin, else an empty body to fill in.
    #[arg(long, value_name = "FILE")]
    pub sql: Option<PathBuf>,
    /// Project directory (default: $FABER_DB_CWD, else the current directory or its git root).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write .fractary/plugins/faber-db/config.json (asks on a terminal).
    Init(ConfigInitArgs),
    /// Print the JSON Schema of the configuration file.
    Schema,
}

#[derive(Debug, Args)]
pub struct ConfigInitArgs {
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    #[arg(long, value_enum)]
    pub hosting: Option<HostingArg>,
    /// Migration tool whose handler initializes schemas.
    #[arg(long, value_name = "TOOL")]
    pub migration_tool: Option<String>,
    /// Take the defaults for everything not given, without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Overwrite an existing configuration.
    #[arg(long)]
    pub force: bool,
    /// Project directory (default: $FABER_DB_CWD, else the current directory).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProviderArg {
    Postgresql,
    Mysql,
    Sqlite,
}

impl From<ProviderArg> for Provider {
    fn from(value: ProviderArg) -> Provider {
        match value {
            ProviderArg::Postgresql => Provider::Postgresql,
            ProviderArg::Mysql => Provider::Mysql,
            ProviderArg::Sqlite => Provider::Sqlite,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HostingArg {
    Local,
    AwsAurora,
    AwsRds,
}

impl From<HostingArg> for Hosting {
    fn from(value: HostingArg) -> Hosting {
        match value {
            HostingArg::Local => Hosting::Local,
            HostingArg::AwsAurora => Hosting::AwsAurora,
            HostingArg::AwsRds => Hosting::AwsRds,
        }
    }
}
