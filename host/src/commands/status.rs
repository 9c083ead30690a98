//! `faber-db status [ENVIRONMENT...]`.

use std::time::Duration;

use crate::cli::StatusArgs;
use crate::failure::{Failure, Outcome};
use crate::report::output::{self, Done};
use crate::status::matrix;
use crate::status::{self, EnvironmentState, StatusOptions, StatusResult};

pub async fn run(args: StatusArgs) -> i32 {
    let json = args.output.json();
    let outcome = match timeout(args.timeout) {
        Ok(timeout) => {
            let options = StatusOptions {
                environments: args.environments,
                cwd: args.cwd,
                drift: args.drift,
                timeout,
                fleet: super::fleet::chosen(args.fleet),
            };
            status::status(options).await
        }
        Err(failure) => Err(failure),
    };
    let code = outcome.as_ref().ok().map(StatusResult::exit_code);
    let shown = output::emit(json, "status", outcome.map(done), matrix::print);
    // The report's own code says only error or not; CI gets the reason.
    code.unwrap_or(shown)
}

fn timeout(seconds: f64) -> Outcome<Duration> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|timeout| !timeout.is_zero())
        .ok_or_else(|| {
            Failure::new(format!("--timeout {seconds} is not a number of seconds"))
                .help("Give a positive number, e.g. --timeout 10")
        })
}

/// A fleet's next steps: the whole fleet for what is pending, one
/// `--tenant` at a time for what failed.
fn fleet_suggestions(name: &str, fleet: &crate::status::fleet::FleetStatus) -> Vec<String> {
    let mut suggestions = Vec::new();
    if !fleet.laggards.is_empty() {
        suggestions.push(format!(
            "Apply the pending migrations to every tenant: faber-db migrate {name}"
        ));
    }
    for tenant in fleet.problems.iter().take(5) {
        let key = &tenant.tenant;
        suggestions.push(match tenant.state {
            EnvironmentState::Failed => format!(
                "Fix what the failed migration left in tenant {key}, then: faber-db resolve {name} --tenant {key} --rolled-back MIGRATION (or --applied MIGRATION) && faber-db migrate {name} --tenant {key}"
            ),
            EnvironmentState::NotInitialized => {
                format!("Initialize tenant {key}: faber-db init {name} --tenant {key}")
            }
            state => format!(
                "Tenant {key} is {}: {}",
                state.as_str(),
                tenant.detail.as_deref().unwrap_or("see result.environments[].fleet.problems")
            ),
        });
    }
    suggestions
}

fn done(result: StatusResult) -> Done<StatusResult> {
    let total = result.environments.len();
    let attention: Vec<String> = result
        .environments
        .iter()
        .filter(|env| env.state != EnvironmentState::UpToDate)
        .map(|env| format!("{} {}", env.name, env.state.as_str()))
        .collect();
    let mut suggestions = Vec::new();
    for env in &result.environments {
        let name = &env.name;
        if let Some(fleet) = &env.fleet {
            suggestions.extend(fleet_suggestions(name, fleet));
            continue;
        }
        match env.state {
            EnvironmentState::Pending => {
                suggestions.push(format!("Apply the pending migrations: faber-db migrate {name}"));
            }
            EnvironmentState::Failed => suggestions.push(format!(
                "Fix what the failed migration left in {name}, record it with faber-db resolve {name} --rolled-back MIGRATION (or --applied MIGRATION), then faber-db migrate {name}"
            )),
            EnvironmentState::Drift => suggestions.push(format!(
                "Compare {name} with the migrations folder: an applied migration was edited or removed, or the schema was changed outside migrations (faber-db status {name} --drift names the differences)"
            )),
            EnvironmentState::NotInitialized => {
                suggestions.push(format!("Initialize it: faber-db init {name}"));
            }
            EnvironmentState::NotConfigured
            | EnvironmentState::Unreachable
            | EnvironmentState::Error => {
                if let Some(detail) = &env.detail {
                    suggestions.push(format!("{name}: {detail}"));
                }
            }
            EnvironmentState::UpToDate => {}
        }
    }
    if attention.is_empty() {
        let message = match total {
            1 => "The environment is up to date".to_owned(),
            n => format!("All {n} environments are up to date"),
        };
        return Done::ok(result, message);
    }
    let message = format!(
        "{} of {total} environments need attention: {}",
        attention.len(),
        attention.join(", ")
    );
    let failure = suggestions
        .into_iter()
        .fold(Failure::new(message), Failure::help);
    Done::failed(result, failure)
}
