//! `faber-db config init` and `faber-db config schema`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use serde::Serialize;

use super::output::{Done, emit};
use crate::cli::ConfigInitArgs;
use crate::config::{self, Config, Hosting, Provider};
use crate::failure::{Failure, Outcome};

#[derive(Serialize)]
struct ConfigResult {
    path: PathBuf,
    provider: Provider,
    hosting: Hosting,
    migration_tool: String,
}

pub fn init(args: ConfigInitArgs) -> i32 {
    let outcome = write_config(&args).map(|(result, config)| {
        let message = format!("Wrote {}", result.path.display());
        let done = Done::ok(result, message);
        let dev = &config.environments["dev"];
        let variable = dev.connection_string_env.as_deref().unwrap_or_default();
        if config.database.hosting.is_aws() {
            // Nothing to write before the first run: it connects to what it
            // provisions.
            done.next(format!(
                "Initialize the dev database: faber-db init dev (with AWS credentials and AWS_REGION set, it provisions the infrastructure and connects to it; set {variable} only to use another server)"
            ))
        } else {
            let example = config.database.provider.example_url();
            done.next(format!(
                "Set the dev connection string: export {variable}=\"{example}\""
            ))
            .next("Initialize the dev database: faber-db init dev")
        }
    });
    emit(args.output.json(), "config-init", outcome, |_| {})
}

pub fn schema() -> i32 {
    print!("{}", config::SCHEMA);
    0
}

fn write_config(args: &ConfigInitArgs) -> Outcome<(ConfigResult, Config)> {
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
    let provider = match args.provider {
        Some(provider) => provider.into(),
        None if interactive => ask(
            "Database provider (postgresql, mysql, sqlite)",
            "sqlite",
            parse_provider,
        )?,
        None => Provider::default(),
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
    let migration_tool = match &args.migration_tool {
        Some(tool) => tool.clone(),
        None if interactive => ask("Migration tool", "prisma", |answer| Some(answer.to_owned()))?,
        None => "prisma".to_owned(),
    };
    let config = Config::new(provider, hosting, &migration_tool);
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
        },
        config,
    ))
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

fn parse_provider(answer: &str) -> Option<Provider> {
    serde_json::from_value(serde_json::Value::String(answer.to_ascii_lowercase())).ok()
}

fn parse_hosting(answer: &str) -> Option<Hosting> {
    serde_json::from_value(serde_json::Value::String(answer.to_ascii_lowercase())).ok()
}
