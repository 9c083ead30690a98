//! The command line. Only this module knows clap; commands receive plain values.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Hosting;
use crate::provider::Provider;

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
                  Environment: connection strings from the variables the configuration names, else from the \
                  project's .env file (or --env-file PATH); FABER_DB_CWD (project directory), FABER_DB_CACHE_DIR (compiled handlers), \
                  FABER_DB_COMPILER (winch, the default, or cranelift: what compiles a handler on its first use), \
                  FABER_DB_HANDLERS_DIR (user-wide handlers), FABER_DB_SDK_DIR (the handler SDK `handler new` installs), \
                  FABER_DB_HANDLER_CACHE (handlers fetched from registries), FABER_DB_REGISTRY_USERNAME and \
                  FABER_DB_REGISTRY_PASSWORD (registry credentials), NO_COLOR."
)]
pub struct Cli {
    /// On stderr: -v each step's outcome and time, the handler loaded and
    /// the handlers' messages; -vv also every SQL statement a handler sends
    /// and the handlers' debug messages.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Read connection variables from this file instead of the project's
    /// .env (variables set in the environment still win).
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// Parses the command line, exiting on a usage error as clap does (code 2),
/// except that a command line asking for JSON (`--json`, `--output json`)
/// gets the error as one JSON document, like every other outcome.
pub fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let args: Vec<OsString> = std::env::args_os().collect();
    let parsed = Cli::command()
        .long_version(long_version())
        .try_get_matches_from(&args)
        .and_then(|matches| Cli::from_arg_matches(&matches))
        .map_err(explain_yes);
    match parsed {
        Ok(cli) => cli,
        // Help and version are not errors: printed as asked.
        Err(err) if err.use_stderr() && asks_for_json(&args) => {
            let rendered = err.render().to_string();
            let error = rendered
                .lines()
                .find_map(|line| line.strip_prefix("error: "))
                .unwrap_or("the command line is not valid")
                .to_owned();
            let mut help: Vec<String> = rendered
                .lines()
                .filter_map(|line| {
                    let line = line.trim();
                    line.strip_prefix("tip: ")
                        .map(str::to_owned)
                        .or_else(|| line.strip_prefix("Usage: ").map(|u| format!("Usage: {u}")))
                })
                .collect();
            help.push(format!("See: {} --help", subcommand(&args)));
            std::process::exit(crate::report::output::usage_error(error, help))
        }
        Err(err) => err.exit(),
    }
}

/// `--yes` means one thing: take the defaults without asking (`config
/// init`). Changing a protected environment is approved only by name,
/// `--approve`, so a habit of typing `-y` never approves production.
fn explain_yes(mut err: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let yes = matches!(
        err.get(ContextKind::InvalidArg),
        Some(ContextValue::String(arg)) if arg == "--yes" || arg == "-y"
    );
    if err.kind() == ErrorKind::UnknownArgument && yes {
        err.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                "--yes only takes defaults (faber-db config init --yes); to approve a protected environment, pass --approve".into(),
            ]),
        );
    }
    err
}

/// The (sub)command the arguments name, as typed: `faber-db handler add`.
fn subcommand(args: &[OsString]) -> String {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let mut words = vec!["faber-db".to_owned()];
    for arg in args.iter().skip(1).map(|arg| arg.to_string_lossy()) {
        let Some(sub) = command.find_subcommand(arg.as_ref()).cloned() else {
            break;
        };
        words.push(arg.into_owned());
        command = sub;
    }
    words.join(" ")
}

fn asks_for_json(args: &[OsString]) -> bool {
    args.iter()
        .zip(args.iter().skip(1).map(Some).chain([None]))
        .any(|(arg, next)| {
            arg == "--json"
                || arg == "--output=json"
                || (arg == "--output" && next.is_some_and(|next| next == "json"))
        })
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Writes `shell`'s completion script on stdout.
pub fn print_completions(shell: clap_complete::Shell) {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "faber-db", &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if shell == clap_complete::Shell::Bash {
        // clap_complete's bash script names a subcommand's case after the
        // binary with `-` as `__subcmd__` but walks the words with `-` as
        // `__`: for `faber-db` no subcommand's options would complete.
        script = script.replace("faber__subcmd__db", "faber__db");
    }
    print!("{script}");
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page into this folder instead of the main one on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Writes the man page on stdout, or every command's into `dir`.
pub fn print_man(args: ManArgs) -> i32 {
    use clap::CommandFactory;
    let command = Cli::command().long_version(long_version());
    let written = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir))
        }
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout()),
    };
    match written {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("error: cannot write the man page: {err}");
            1
        }
    }
}

/// `--version`: the version, the contract versions this host loads, and the
/// handlers bundled in it.
fn long_version() -> String {
    use crate::runtime::World;
    let contracts = |world: World| {
        let versions = world.supported_versions();
        format!("{} {}", world.as_str(), versions.join(", "))
    };
    let bundled: Vec<String> = crate::components::bundled::all()
        .iter()
        .map(|embedded| format!("{} {}", embedded.name, embedded.version))
        .collect();
    format!(
        "{}\ncontracts (faber:db): {}; {}\nbundled handlers: {}",
        env!("CARGO_PKG_VERSION"),
        contracts(World::MigrationTool),
        contracts(World::CloudProvider),
        bundled.join(", ")
    )
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
                      and says what to do next.\n\n\
                      On a fleet environment, --tenant KEY creates and initializes a new tenant's \
                      database and applies the migrations; without --tenant, every listed tenant \
                      whose database is missing."
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
                      GET_LOCK('prisma_migrate'), SQLite the file's exclusive lock, as Prisma's engine \
                      holds them), waiting migrations.lock_timeout_seconds (default 10). Refuses \
                      while an earlier migration is failed and unresolved; reports applied \
                      migrations whose file changed. Flags destructive statements (dropped tables, \
                      columns, types, enum values, type changes, TRUNCATE, DELETE/UPDATE without \
                      WHERE, …) on every environment; a protected environment shows them and the \
                      migrations, and asks for approval. --dry-run shows the plan with its SQL and \
                      changes nothing.\n\n\
                      On a fleet environment (one whose configuration has a `fleet`), runs on every \
                      tenant database (or those --tenant and --shard choose), --concurrency at a \
                      time; a protected fleet asks once for the whole plan. Exit code 1 when any \
                      tenant failed; each tenant's entry says why and how to recover.",
        after_help = "Exit codes: 0 success, 1 error (on a fleet: any tenant failed), 2 usage error, 3 cancelled."
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
        long_about = "Writes a new migration in the migration tool's own layout, as the tool's \
                      CLI names and lists it (Prisma: \
                      <migrations>/<YYYYMMDDHHMMSS>_<snake_name>/migration.sql), with the SQL from \
                      --sql FILE or stdin, or an empty body to fill in, and prints its path."
    )]
    GenerateMigration(GenerateArgs),
    /// Create or inspect the project configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Install, pin, verify, inspect, test and create handler components; share them through OCI registries.
    #[command(subcommand)]
    Handler(HandlerCommand),
    /// Print a shell's completion script for faber-db.
    #[command(
        long_about = "Prints the completion script for SHELL on stdout, generated from the same \
                      definitions as --help. bash: `source <(faber-db completions bash)` in \
                      ~/.bashrc; zsh: `faber-db completions zsh > \"${fpath[1]}/_faber-db\"`; fish: \
                      `faber-db completions fish > ~/.config/fish/completions/faber-db.fish`; \
                      PowerShell: `faber-db completions powershell | Out-String | Invoke-Expression` \
                      in $PROFILE."
    )]
    Completions(CompletionsArgs),
    /// Print faber-db's man page (roff), or write one per command.
    #[command(
        long_about = "Prints the man page, generated from the same definitions as --help, as roff \
                      on stdout: `faber-db man > faber-db.1 && man -l faber-db.1`. With --dir DIR, \
                      writes faber-db.1 and a page per command (faber-db-init.1, \
                      faber-db-handler-add.1, …) into DIR, a man1 folder on MANPATH."
    )]
    Man(ManArgs),
}

#[derive(Debug, Subcommand)]
pub enum HandlerCommand {
    /// Handlers available to the project, and what it pins.
    List(ProjectArgs),
    /// Install a handler into the project and pin its sha256 in handlers.lock.
    #[command(
        long_about = "Installs a handler component into the project's \
        .fractary/plugins/faber-db/handlers/ folder as NAME@VERSION.wasm and pins it (name, version, \
        contract version and sha256) in handlers.lock. SOURCE is a path to a .wasm file, or the name \
        of a handler in the user or bundled folders, optionally NAME@VERSION. Shows what the handler \
        will be allowed to do. Re-adding replaces the pin: that is how a handler is upgraded.\n\n\
        SOURCE may also be a registry reference, oci://REGISTRY/REPOSITORY:TAG or \
        oci://REGISTRY/REPOSITORY@sha256:DIGEST: the component is fetched and checked (one \
        application/wasm layer, within the size limit, its bytes matching their digest), stored in \
        the user's handler cache, and pinned with its reference and manifest digest, so the project \
        needs only handlers.lock (`faber-db handler install` fetches it elsewhere). --vendor also \
        copies it into the project folder.",
        after_help = "Registry credentials: FABER_DB_REGISTRY_USERNAME and FABER_DB_REGISTRY_PASSWORD, \
        else the Docker/OCI credentials file (docker login). A registry on loopback is reached over \
        plain HTTP; every other one over verified TLS. Components over FABER_DB_HANDLER_MAX_BYTES \
        (default 100 MiB) are refused."
    )]
    Add(AddArgs),
    /// Push a handler to an OCI registry, after the conformance suite passes.
    #[command(
        long_about = "Runs the conformance suite on the component and, if every check \
        passes, pushes it to REFERENCE (oci://REGISTRY/REPOSITORY:TAG) in the component \
        ecosystem's layout: an OCI image manifest with an application/vnd.wasm.config.v0+json \
        config and one application/wasm layer, which wkg and other wasm-pkg tools can pull. A tag \
        that already holds another component is left alone unless --overwrite is given; publishing \
        the same component again pushes nothing.",
        after_help = "Registry credentials: FABER_DB_REGISTRY_USERNAME and FABER_DB_REGISTRY_PASSWORD, \
        else the Docker/OCI credentials file (docker login). They are never printed or written."
    )]
    Publish(PublishArgs),
    /// Fetch every pinned handler that is missing on this machine, exactly as locked.
    #[command(
        long_about = "For every handler in handlers.lock that is found neither in the \
        project's folder nor in the user's handler cache, fetches the pinned manifest digest (never \
        a tag) from the registry it was added from, checks it (its digests, that it is one component, \
        the size limit) and against the \
        lock's sha256, and stores it in the cache ($FABER_DB_HANDLER_CACHE, default \
        ~/.cache/faber-db/handlers). Run it after a checkout, e.g. in CI before `faber-db init`; \
        init itself never uses the network. Exits 1 if any handler could not be installed."
    )]
    Install(ProjectArgs),
    /// Newer tags of registry handlers whose contract version this host supports.
    #[command(
        long_about = "For every handler pinned from a registry by tag, lists the newer \
        (semver-greater) tags in its repository, with the contract version each was built for and \
        whether this host supports it, and says when the pinned tag itself now points at other \
        content. Reads only; `faber-db handler update NAME` re-pins."
    )]
    Outdated(ProjectArgs),
    /// Re-pin a registry handler to its newest supported tag (or --tag TAG).
    #[command(
        long_about = "Re-pins handler NAME to the newest tag `handler outdated` offers \
        (or to --tag TAG), after the same checks as `add`, and shows the change; when the pinned tag \
        moved to other content, says so and pins what it points at now. Nothing is written when \
        there is nothing newer or a check fails."
    )]
    Update(UpdateArgs),
    /// Check every pinned handler against its sha256.
    Verify(ProjectArgs),
    /// Unpin a handler and delete its copy in the project.
    Remove(NameArgs),
    /// What a handler is: contract version, exports, imports and capabilities.
    Info(NameArgs),
    /// Run the conformance suite against a handler component.
    Test(TestArgs),
    /// Create a Rust handler crate on the faber-db-handler SDK (installed once
    /// per version in FABER_DB_SDK_DIR, else the user data directory's
    /// faber-db/sdk, and named by the crate with its version pinned; it
    /// builds without a checkout or network).
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
    /// For an oci:// SOURCE: also copy the component into the project's
    /// handlers folder (to commit it), not only into the user's cache.
    #[arg(long)]
    pub vendor: bool,
    /// Also make it the project's migration tool (database.migration_tool)
    /// or cloud provider (integration.cloud_plugin) in the configuration.
    #[arg(long = "use")]
    pub use_it: bool,
    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The component to publish.
    pub path: PathBuf,
    /// Where: oci://REGISTRY/REPOSITORY:TAG (e.g. oci://ghcr.io/acme/handler-db-flyway:1.2.0).
    pub reference: String,
    /// Move the tag even if it holds another component.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The pinned handler's name.
    pub handler: String,
    /// Re-pin to this tag instead of the newest supported one.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// As for `add`: let the new version take a bundled handler's name.
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
    /// Run a migration tool's checks on this PostgreSQL or MySQL/MariaDB
    /// server (or SQLite folder) instead of a temporary SQLite file: a
    /// scratch database is created there for the run and dropped after it,
    /// so the connection's user must be allowed to create databases. The
    /// URL's database part is ignored; its password is never shown.
    #[arg(
        long,
        value_name = "URL",
        env = "FABER_DB_HANDLER_TEST_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
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
        self.json || self.output != Format::Human
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// A fleet's tenants, one JSON line each as it finishes, then the summary line.
    Ndjson,
}

/// Which tenants of a fleet environment (one whose configuration has a
/// `fleet`) a command takes, and how many at once.
#[derive(Debug, Args)]
pub struct TenantArgs {
    /// Only this tenant (repeatable); default: every tenant the fleet lists.
    #[arg(long = "tenant", value_name = "KEY", help_heading = "Fleet")]
    pub tenants: Vec<String>,
    /// Only this stable share of the tenants: I of N (0-based), e.g. 0/4 or
    /// $JOB_COMPLETION_INDEX/4; a tenant is always in the same shard for a given N.
    #[arg(long, value_name = "I/N", value_parser = parse_shard, help_heading = "Fleet")]
    pub shard: Option<crate::fleet::tenants::Shard>,
    /// Tenants at once (default: half of the servers' spare connections,
    /// 4 per tenant, at most 16; on SQLite files twice the cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..), help_heading = "Fleet")]
    pub concurrency: Option<u16>,
}

/// The flags of a command that changes a fleet environment: which tenants,
/// how many at once, when to stop.
#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(flatten)]
    pub chosen: TenantArgs,
    /// Stop starting new tenants once more than N (or N% of the tenants) failed.
    #[arg(long, value_name = "N|N%", value_parser = parse_threshold, help_heading = "Fleet")]
    pub max_failures: Option<crate::fleet::run::Threshold>,
    /// Run the first N tenants, then stop for a look.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Fleet")]
    pub canary: Option<u32>,
    /// With --canary: go on to the rest when no canary tenant failed.
    #[arg(long = "continue", requires = "canary", help_heading = "Fleet")]
    pub proceed: bool,
}

fn parse_shard(text: &str) -> Result<crate::fleet::tenants::Shard, String> {
    crate::fleet::tenants::Shard::parse(text)
}

fn parse_threshold(text: &str) -> Result<crate::fleet::run::Threshold, String> {
    crate::fleet::run::Threshold::parse(text)
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
    #[arg(long)]
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
    pub fleet: FleetArgs,
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
    #[command(flatten)]
    pub fleet: TenantArgs,
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
    #[arg(long)]
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
    pub fleet: FleetArgs,
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
    pub fleet: FleetArgs,
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
    /// Print the JSON Schema of the configuration file (with --json, inside the usual report).
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ConfigInitArgs {
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    #[arg(long, value_enum)]
    pub hosting: Option<HostingArg>,
    /// Migration tool whose handler initializes schemas: a bundled one by
    /// its short name (`faber-db handler list` shows them) or any handler
    /// installed or pinned in the project. When not given, each tool's
    /// handler in turn reads the project for the tool's own files (Prisma's
    /// schema, `drizzle.config.*`, a TypeORM data source, …), and the first
    /// that finds them is the project's tool, its folder, table and URL
    /// variable taken from them.
    #[arg(long, value_name = "TOOL")]
    pub migration_tool: Option<String>,
    /// Take the defaults for everything not given, without asking. (This
    /// is all --yes means: a protected environment is approved only with
    /// --approve.)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Overwrite an existing configuration.
    #[arg(long)]
    pub force: bool,
    /// Make production a fleet of one database per tenant: the databases
    /// named like PATTERN on its server (`tenant_%`), or for SQLite the
    /// files matching it (`tenants/*.db`). See README: Fleets.
    #[arg(long, value_name = "PATTERN")]
    pub fleet: Option<String>,
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
