//! What every command working on one environment settles first, the same
//! way for each: the environment's name, its entry in the configuration,
//! its connection string, its database's name, the migration-tool handler
//! and the session policy its SQL runs under.

use std::path::{Path, PathBuf};

use crate::components;
use crate::config::{self, Config, Environment, HandlerPrivileges};
use crate::db::{ConnectionString, SessionPolicy};
use crate::dotenv;
use crate::failure::{Failure, Outcome};
use crate::names;
use crate::report::HandlerRef;
use crate::runtime::{MigrationTool, Runtime};

/// 1 to 64 ASCII letters, digits, `_` or `-`; `command` names the command
/// for the example in the help.
pub fn check_name(environment: &str, command: &str) -> Outcome<()> {
    let valid = !environment.is_empty()
        && environment.len() <= 64
        && environment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        return Ok(());
    }
    Err(
        Failure::new(format!("Invalid environment name {environment:?}"))
            .cause("use 1 to 64 ASCII letters, digits, `_` or `-`")
            .help(format!(
                "Name an environment from the configuration, e.g. faber-db {command} dev"
            )),
    )
}

/// The environment's entry, or an error naming the configured ones.
pub fn find<'a>(config: &'a Config, name: &str) -> Outcome<&'a Environment> {
    config.environments.get(name).ok_or_else(|| {
        let known: Vec<&str> = config.environments.keys().map(String::as_str).collect();
        let known = if known.is_empty() {
            "none are configured".to_owned()
        } else {
            format!("configured: {}", known.join(", "))
        };
        let failure = Failure::new(format!("Environment '{name}' not found in configuration"))
            .cause(known);
        let failure = match names::closest(name, config.environments.keys().map(String::as_str)) {
            Some(meant) => failure.help(format!("Did you mean '{meant}'?")),
            None => failure,
        };
        failure.help(format!(
                "Add it under \"environments\" in {}/{}, e.g. \"{name}\": {{\"connection_string_env\": \"{}_DATABASE_URL\"}}",
                config::CONFIG_DIR,
                config::CONFIG_FILE,
                name.to_uppercase()
            ))
    })
}

/// The connection string in `variable` (from the environment, else the
/// project's `.env`), checked against the project's provider; `None` when no
/// variable is named or it is unset or empty.
pub fn connection_string(
    dir: &Path,
    config: &Config,
    variable: Option<&str>,
) -> Outcome<Option<ConnectionString>> {
    let provider = config.database.provider;
    let Some(variable) = variable else {
        return Ok(None);
    };
    let Some((raw, _)) = dotenv::var(dir, variable)?.filter(|(value, _)| !value.trim().is_empty())
    else {
        return Ok(None);
    };
    let target = ConnectionString::parse(&raw, variable, &sqlite_base(dir, config))?;
    if target.provider() != provider {
        return Err(Failure::new(format!(
            "{variable} points at {}, but the project's provider is {provider}",
            target.provider()
        ))
        .help(format!(
            "Use a {provider} connection string, e.g.: export {variable}=\"{}\"",
            crate::names::example_url(provider, dir, environment_of(config, variable))
        ))
        .help("Or change database.provider in the configuration"));
    }
    Ok(Some(target))
}

/// The environment that reads `variable` (for examples in messages).
fn environment_of<'a>(config: &'a Config, variable: &str) -> &'a str {
    config
        .environments
        .iter()
        .find(|(_, environment)| environment.connection_string_env.as_deref() == Some(variable))
        .map(|(name, _)| name.as_str())
        .unwrap_or("dev")
}

/// What a relative SQLite path is relative to: for Prisma, the directory
/// of its schema, as Prisma's CLI and Client resolve it (looked for only in
/// a SQLite project); for other tools, the project directory they run in.
fn sqlite_base(dir: &Path, config: &Config) -> std::path::PathBuf {
    if config.database.provider == crate::provider::Provider::Sqlite && config.uses_prisma() {
        super::prisma_schema::sqlite_base(dir)
    } else {
        dir.to_path_buf()
    }
}

/// The error for an environment whose connection string is not there.
pub fn no_connection_string(
    dir: &Path,
    config: &Config,
    environment: &str,
    variable: Option<&str>,
) -> Failure {
    let Some(variable) = variable else {
        return Failure::new(format!(
            "Environment '{environment}' names no connection string variable"
        ))
        .cause(format!(
            "a database hosted on {} is reached through its connection string",
            config.database.hosting
        ))
        .help(format!(
            "Add it to the environment in {}/{}, e.g. \"connection_string_env\": \"{}_DATABASE_URL\"",
            config::CONFIG_DIR,
            config::CONFIG_FILE,
            environment.to_uppercase()
        ));
    };
    let env_file = dotenv::file(dir);
    Failure::new(format!("{variable} environment variable not set"))
        .cause(format!(
            "environment '{environment}' reads its connection string from ${variable}, which is set neither in the environment nor in {}",
            env_file.display()
        ))
        .help(format!(
            "Set it, e.g.: export {variable}=\"{}\" (or add that line, without `export`, to {})",
            crate::names::example_url(config.database.provider, dir, environment),
            env_file.display()
        ))
}

/// The database's name and where it came from: `explicit`, else the
/// connection string's, else `<project>_<environment>`.
pub fn database_name(
    project: &Path,
    environment: &str,
    explicit: Option<&str>,
    target: Option<&ConnectionString>,
) -> (String, &'static str) {
    if let Some(name) = explicit {
        return (name.to_owned(), "from --database-name");
    }
    if let Some(name) = target.and_then(ConnectionString::database_name) {
        return (name, "from the connection string");
    }
    (
        names::default_database(project, environment),
        "from the project and environment",
    )
}

/// A project folder opened: its configuration read and its migrations
/// folder resolved, before any environment or handler. `init` opens one in
/// its steps 2 and 3, every other command through [`OpenProject::open`].
pub struct OpenProject {
    pub dir: PathBuf,
    pub config: Config,
    pub migrations_dir: PathBuf,
}

impl OpenProject {
    /// The project of the command's working directory (`--cwd`, else the
    /// current one); see [`OpenProject::read`].
    pub fn open(
        cwd: Option<&Path>,
        check: impl FnOnce(&Config) -> Outcome<()>,
    ) -> Outcome<OpenProject> {
        let (dir, _) = crate::workdir::resolve(cwd)?;
        OpenProject::read(dir, check)
    }

    /// The project in `dir`. `check` judges the configuration before the
    /// migrations folder is resolved: what the command line named (an
    /// environment) is the first thing wrong a user hears of.
    pub fn read(dir: PathBuf, check: impl FnOnce(&Config) -> Outcome<()>) -> Outcome<OpenProject> {
        let config = config::load(&dir)?;
        check(&config)?;
        let migrations_dir = super::migrations::resolve(&dir, config.migrations.directory())?;
        Ok(OpenProject {
            dir,
            config,
            migrations_dir,
        })
    }

    /// The project with its migration-tool handler loaded; a dry run pins
    /// nothing.
    pub async fn load_tool(self, dry_run: bool) -> Outcome<Project> {
        let (tool, handler) = load_tool(&self.dir, &self.config, dry_run).await?;
        Ok(Project {
            dir: self.dir,
            config: self.config,
            migrations_dir: self.migrations_dir,
            tool,
            handler,
        })
    }
}

/// What every command on an environment shares, settled once (for a
/// fleet, once for all its tenants): the project folder, its
/// configuration, its migrations folder and its migration-tool handler.
pub struct Project {
    pub dir: PathBuf,
    pub config: Config,
    pub migrations_dir: PathBuf,
    pub tool: MigrationTool,
    pub handler: HandlerRef,
}

impl Project {
    /// The project of the command's working directory, with `environment`
    /// checked against its configuration; a dry run pins nothing.
    pub async fn settle(
        cwd: Option<&Path>,
        environment: &str,
        command: &str,
        dry_run: bool,
    ) -> Outcome<Project> {
        check_name(environment, command)?;
        OpenProject::open(cwd, |config| find(config, environment).map(drop))?
            .load_tool(dry_run)
            .await
    }
}

/// The project's migration-tool handler, loaded, checked against its pin
/// (pinned on first use unless `dry_run`) and against the provider.
pub async fn load_tool(
    dir: &Path,
    config: &Config,
    dry_run: bool,
) -> Outcome<(MigrationTool, HandlerRef)> {
    let name = components::migration_tool_handler(dir, &config.database.migration_tool);
    let runtime = Runtime::new(config.sandbox.limits())?;
    let checked = components::load_checked(dir, &runtime, &name)?;
    let tool = MigrationTool::new(&runtime, checked.component).map_err(components::failure)?;
    let info = tool.info().await.map_err(components::failure)?;
    let provider = config.database.provider;
    if !info.providers.contains(&provider) {
        return Err(
            Failure::new(format!("Handler {name} does not support {provider}"))
                .help("Use a migration tool whose handler supports this provider"),
        );
    }
    let pin = match (&checked.pin, dry_run) {
        (Some(_), _) => "verified",
        (None, true) => "not pinned (dry run)",
        (None, false) => {
            components::pin(
                dir,
                &checked.resolved,
                tool.component(),
                &info.version,
                tool.shape(),
            )?;
            "pinned on first use"
        }
    };
    let handler = HandlerRef {
        name: info.name,
        version: info.version,
        wit_version: info.wit_version,
        sha256: tool.component().sha256.clone(),
        source: checked.resolved.source.as_str(),
        pin,
    };
    Ok((tool, handler))
}

/// Where the handler's SQL runs, as the environment allows; a bundled
/// handler may fall back to the connection's privileges with a warning.
pub fn session_policy(
    dir: &Path,
    config: &Config,
    environment: &str,
    handler: &HandlerRef,
) -> Outcome<SessionPolicy> {
    let environment_name = environment;
    let environment = &config.environments[environment];
    if environment.handler_privileges == HandlerPrivileges::Connection {
        return Ok(SessionPolicy::ConnectionPrivileges);
    }
    if let Some(variable) = &environment.handler_connection_string_env {
        let (raw, _) = dotenv::var(dir, variable)?.ok_or_else(|| {
            Failure::new(format!("{variable} environment variable not set"))
                .cause("handler_connection_string_env names it as the handlers' own account")
                .help(format!(
                    "Set it to the account's connection string, e.g.: export {variable}=\"{}\"",
                    crate::names::example_url(config.database.provider, dir, environment_name)
                ))
        })?;
        let account = ConnectionString::parse(&raw, variable, dir)?;
        return Ok(SessionPolicy::ProjectAccount(account));
    }
    let bundled = handler.source == components::Source::Bundled.as_str();
    Ok(SessionPolicy::LeastPrivilege { fallback: bundled })
}
