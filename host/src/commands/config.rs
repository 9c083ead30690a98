//! `faber-db config init` and `faber-db config schema`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::{ConfigInitArgs, SchemaArgs};
use crate::components::{self, lock::LockFile};
use crate::config::{self, Config, Hosting};
use crate::failure::{Failure, Outcome};
use crate::provider::Provider;
use crate::report::output::{Done, emit};
use crate::runtime::{Runtime, World};
use crate::workflow::tool_project::{self, ToolProject};

#[derive(Serialize)]
struct ConfigResult {
    path: PathBuf,
    provider: Provider,
    hosting: Hosting,
    migration_tool: String,
    /// The handler the migration tool resolves to.
    migration_handler: String,
    migrations_directory: String,
    /// What the migration tool's own files said, where they said it
    /// (`<tool>_project`: `prisma_project`, `drizzle_project`, …): used
    /// wherever no flag said otherwise.
    #[serde(flatten)]
    tool_project: Option<ToolProject>,
}

pub async fn init(args: ConfigInitArgs) -> i32 {
    let outcome = write_config(&args).await.map(|(result, config, project)| {
        let message = match &result.tool_project {
            Some(found) => format!(
                "Wrote {} from the {} project ({})",
                result.path.display(),
                found.tool_name(),
                found.read_from().join(", ")
            ),
            None => format!("Wrote {}", result.path.display()),
        };
        let before = result
            .tool_project
            .as_ref()
            .map(|found| found.next_steps().to_vec())
            .unwrap_or_default();
        let mut done = Done::ok(result, message);
        for step in before {
            done = done.next(step);
        }
        let dev = &config.environments["dev"];
        let variable = dev.connection_string_env.as_deref().unwrap_or_default();
        if config.database.hosting.is_aws() {
            // Nothing to write before the first run: it connects to what it
            // provisions.
            done.next(format!(
                "Initialize the dev database: faber-db init dev (with AWS credentials and AWS_REGION set, it provisions the infrastructure and connects to it; set {variable} only to use another server)"
            ))
        } else {
            let example = crate::names::example_url(config.database.provider, &project, "dev");
            done.next(format!(
                "Set the dev connection string: export {variable}=\"{example}\" (or put {variable}=\"{example}\" in {})",
                project.join(crate::dotenv::FILE_NAME).display()
            ))
            .next("Initialize the dev database: faber-db init dev")
        }
    });
    emit(args.output.json(), "config-init", outcome, |_| {})
}

/// The schema as is (to redirect into a file), or with `--json` as the
/// `result` of the report every command prints.
pub fn schema(args: SchemaArgs) -> i32 {
    if !args.output.json() {
        print!("{}", config::SCHEMA);
        return 0;
    }
    let outcome = serde_json::from_str::<serde_json::Value>(config::SCHEMA)
        .map(|schema| {
            Done::ok(
                schema,
                format!(
                    "JSON Schema of {}/{}",
                    config::CONFIG_DIR,
                    config::CONFIG_FILE
                ),
            )
        })
        .map_err(|err| Failure::new("The built-in schema is not valid JSON").cause(err));
    emit(true, "config-schema", outcome, |_| {})
}

async fn write_config(args: &ConfigInitArgs) -> Outcome<(ConfigResult, Config, PathBuf)> {
    let (project, _) = crate::workdir::resolve(args.cwd.as_deref())?;
    let path = config::config_path(&project);
    if path.exists() && !args.force {
        return Err(
            Failure::new(format!("Configuration already exists: {}", path.display()))
                .help("Keep it, or overwrite it with: faber-db config init --force"),
        );
    }
    let interactive =
        !args.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    // A tool's own files (Prisma's schema, `drizzle.config.ts`, …) already
    // say the provider, folder, variable and table.
    let runtime = Runtime::new(config::SandboxSection::default().limits())?;
    let found = ToolProject::find(&runtime, &project, &tool_choices(&project)).await;
    let found_provider = found.as_ref().and_then(ToolProject::provider);
    let provider = match (args.provider, found_provider) {
        (Some(provider), _) => provider.into(),
        (None, Some(found)) => found,
        (None, None) if interactive => ask(
            "Database provider (postgresql, mysql, sqlite)",
            "sqlite",
            Provider::parse,
        )?,
        (None, None) => Provider::default(),
    };
    let hosting = match args.hosting {
        Some(hosting) => hosting.into(),
        None if interactive => ask(
            "Hosting (local, aws-aurora, aws-rds)",
            "local",
            parse_hosting,
        )?,
        None => Hosting::default(),
    };
    let migration_tool = match (&args.migration_tool, &found) {
        (Some(tool), _) => available_tool(&project, tool)?,
        (None, Some(found)) => found.tool().to_owned(),
        (None, None) if interactive => ask(
            &format!("Migration tool ({})", tool_choices(&project).join(", ")),
            tool_project::DEFAULT_TOOL,
            |answer| available_tool(&project, answer).ok(),
        )?,
        (None, None) => tool_project::DEFAULT_TOOL.to_owned(),
    };
    let migration_handler = components::migration_tool_handler(&project, &migration_tool);
    // The folder and table belong to the tool that migrates (its files',
    // else its conventions); the variable holds the project's database
    // whichever tool migrates it.
    let conventions = match &found {
        Some(found) if found.tool() == migration_tool => None,
        _ => ToolProject::read(&runtime, &project, &migration_tool).await?,
    };
    let own = found
        .as_ref()
        .filter(|found| found.tool() == migration_tool)
        .or(conventions.as_ref());
    let migrations_directory = own.map_or_else(
        || tool_project::DEFAULT_DIRECTORY.to_owned(),
        ToolProject::migrations_directory,
    );
    let mut config = Config::new(provider, hosting, &migration_tool, &migrations_directory);
    config.migrations.table = own.and_then(ToolProject::tracking_table);
    if let Some(variable) = found.as_ref().and_then(ToolProject::url_variable)
        && let Some(dev) = config.environments.get_mut("dev")
    {
        // The variable the application and the tool's CLI already read.
        dev.connection_string_env = Some(variable);
    }
    if let Some(pattern) = &args.fleet {
        let tenants = match provider {
            Provider::Sqlite => config::fleet::TenantSource::SqliteFiles(pattern.clone()),
            _ => config::fleet::TenantSource::DatabasesLike(pattern.clone()),
        };
        let fleet = config::fleet::Fleet {
            tenants,
            database: None,
            servers: Default::default(),
        };
        fleet.check("production")?;
        if let Some(production) = config.environments.get_mut("production") {
            production.fleet = Some(fleet);
        }
    }
    let mut text = serde_json::to_string_pretty(&config)
        .map_err(|err| Failure::new("Cannot render the configuration").cause(err))?;
    text.push('\n');
    let dir = config::config_dir(&project);
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|err| {
            Failure::new(format!("Cannot write {}", path.display()))
                .cause(err)
                .help("Check that the project directory is writable")
        })?;
    Ok((
        ConfigResult {
            path,
            provider,
            hosting,
            migration_tool,
            migration_handler,
            migrations_directory,
            tool_project: found,
        },
        config,
        project,
    ))
}

/// `tool` when a handler for it is bundled, installed or pinned (as the
/// short name `prisma` or a handler's full name); otherwise an error that
/// lists what there is.
fn available_tool(project: &Path, tool: &str) -> Outcome<String> {
    let handler = components::migration_tool_handler(project, tool);
    let pinned = LockFile::load(project)?.get(&handler).is_some();
    if pinned || components::is_installed(project, &handler)? {
        return Ok(tool.to_owned());
    }
    Err(Failure::new(format!("No migration tool {tool:?}"))
        .cause(format!(
            "no handler {handler} is bundled with faber-db, installed or pinned; available: {}",
            tool_choices(project).join(", ")
        ))
        .help("Start from a bundled tool, then install the handler and make it the project's tool: faber-db config init --yes && faber-db handler add PATH/TO/HANDLER.wasm --use")
        .help("See the handlers there are: faber-db handler list"))
}

/// The migration tools to offer: the bundled ones by their short names,
/// then the migration-tool handlers the project pins.
fn tool_choices(project: &Path) -> Vec<String> {
    let bundled = components::bundled::all()
        .iter()
        .filter_map(|embedded| embedded.name.strip_prefix("handler-db-"))
        .map(str::to_owned);
    let pinned = LockFile::load(project)
        .map(|lock| {
            lock.pins()
                .iter()
                .filter(|pin| pin.world == World::MigrationTool.as_str())
                .map(|pin| pin.name.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut choices: Vec<String> = bundled.chain(pinned).collect();
    choices.dedup();
    choices
}

fn ask<T>(question: &str, default: &str, parse: impl Fn(&str) -> Option<T>) -> Outcome<T> {
    let mut stderr = std::io::stderr();
    loop {
        let _ = write!(stderr, "{question} [{default}]: ");
        let _ = stderr.flush();
        let mut answer = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|err| Failure::new("Cannot read the answer").cause(err))?;
        let answer = answer.trim();
        let answer = if answer.is_empty() || read == 0 {
            default
        } else {
            answer
        };
        match parse(answer) {
            Some(value) => return Ok(value),
            None => {
                let _ = writeln!(stderr, "  {answer:?} is not one of the choices");
            }
        }
    }
}

fn parse_hosting(answer: &str) -> Option<Hosting> {
    serde_json::from_value(serde_json::Value::String(answer.to_ascii_lowercase())).ok()
}
