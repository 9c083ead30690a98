//! The fleet side of `init`, `migrate` and `resolve`: a fleet environment's
//! command runs over its tenants; fleet flags on an environment that is
//! one database are refused.

use crate::cli::{FleetArgs, Format, OutputArgs, TenantArgs};
use crate::failure::Failure;
use crate::fleet::report::{FleetResult, Show};
use crate::fleet::{self, Chosen, FleetOptions};
use crate::report::output::{self, Done};
use crate::report::style::Style;

/// Where a command goes.
pub enum Route {
    /// The environment is one database.
    Single,
    Fleet(FleetOptions),
    /// Fleet flags on an environment that is not a fleet.
    Refused(Failure),
}

pub fn route(
    environment: &str,
    cwd: Option<&std::path::Path>,
    args: FleetArgs,
    output: &OutputArgs,
) -> Route {
    let options = FleetOptions {
        chosen: chosen(args.chosen),
        max_failures: args.max_failures,
        canary: args.canary.map(|canary| canary as usize),
        proceed: args.proceed,
        show: match (output.output, output.json) {
            (Format::Ndjson, _) => Show::Ndjson,
            (Format::Json, _) | (_, true) => Show::Quiet,
            (Format::Human, false) => Show::Human,
        },
    };
    match (fleet::is_fleet(cwd, environment), options.any()) {
        (true, _) => Route::Fleet(options),
        (false, true) => Route::Refused(fleet::not_a_fleet(environment)),
        (false, false) => Route::Single,
    }
}

/// The tenants `--tenant`, `--shard` and `--concurrency` choose.
pub fn chosen(args: TenantArgs) -> Chosen {
    Chosen {
        tenants: args.tenants,
        shard: args.shard,
        concurrency: args.concurrency.map(usize::from),
    }
}

/// Prints a fleet command's report as its output format asks.
pub fn emit(
    output: &OutputArgs,
    operation: &'static str,
    outcome: Result<Done<FleetResult>, Failure>,
) -> i32 {
    match output.output {
        Format::Ndjson => output::emit_line(operation, outcome),
        _ => output::emit(output.json(), operation, outcome, print_summary),
    }
}

/// The counts per state; failed tenants were printed as they finished.
fn print_summary(result: &FleetResult) {
    let style = Style::for_stdout();
    let shard = result
        .shard
        .as_deref()
        .map(|shard| format!(", shard {shard}"))
        .unwrap_or_default();
    println!(
        "{} {} ({} of {} tenants{shard}, {} at a time, at most {} connections)",
        style.bold("Fleet:"),
        result.environment,
        result.selected,
        result.listed,
        result.concurrency,
        result.connection_limit
    );
    for (state, count) in &result.counts {
        println!("  {count:>6} {state}");
    }
    for outcome in result.tenants.iter().filter(|o| o.state.is_failure()) {
        println!(
            "  {} {}: {}",
            style.red("✗"),
            outcome.tenant,
            outcome.error.as_deref().unwrap_or(outcome.state.as_str())
        );
        for step in &outcome.recovery {
            println!("      help: {step}");
        }
    }
}
