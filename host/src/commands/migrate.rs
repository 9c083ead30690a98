//! `faber-db migrate`, `resolve` and `generate-migration`.

use std::io::Read;

use super::fleet::Route;
use crate::cli::{GenerateArgs, MigrateArgs, ResolveArgs};
use crate::failure::Failure;
use crate::fleet;
use crate::report::output::emit;
use crate::report::style::Style;
use crate::runtime::Resolution;
use crate::workflow::lifecycle::{self, MigrateResult, Options};

pub async fn migrate(args: MigrateArgs) -> i32 {
    let json = args.output.json();
    let options = options(args.environment, args.project);
    match route(&options, args.fleet, &args.output) {
        Route::Single => {}
        Route::Fleet(fleet_options) => {
            let outcome = fleet::migrate(options, fleet_options).await;
            return super::fleet::emit(&args.output, "migrate", outcome);
        }
        Route::Refused(failure) => {
            return emit::<MigrateResult>(json, "migrate", Err(failure), |_| {});
        }
    }
    let done = lifecycle::migrate(options).await;
    emit(json, "migrate", Ok(done), print_result)
}

pub async fn resolve(args: ResolveArgs) -> i32 {
    let json = args.output.json();
    let (migration, resolution) = match (args.applied, args.rolled_back) {
        (Some(name), None) => (name, Resolution::Applied),
        (None, Some(name)) => (name, Resolution::RolledBack),
        _ => unreachable!("clap requires exactly one of --applied and --rolled-back"),
    };
    let options = options(args.environment, args.project);
    match route(&options, args.fleet, &args.output) {
        Route::Single => {}
        Route::Fleet(fleet_options) => {
            let outcome = fleet::resolve(options, fleet_options, migration, resolution).await;
            return super::fleet::emit(&args.output, "resolve-migration", outcome);
        }
        Route::Refused(failure) => {
            return emit::<MigrateResult>(json, "resolve-migration", Err(failure), |_| {});
        }
    }
    let done = lifecycle::resolve(options, migration, resolution).await;
    emit(json, "resolve-migration", Ok(done), print_result)
}

pub async fn generate(args: GenerateArgs) -> i32 {
    let json = args.output.json();
    let sql = match read_sql(&args) {
        Ok(sql) => sql,
        Err(failure) => {
            return emit::<lifecycle::Generated>(json, "generate-migration", Err(failure), |_| {});
        }
    };
    let outcome = lifecycle::generate(args.cwd.as_deref(), &args.name, sql).await;
    emit(json, "generate-migration", outcome, |generated| {
        println!("{}", generated.path);
    })
}

fn options(environment: String, project: crate::cli::ChangeArgs) -> Options {
    Options {
        environment,
        cwd: project.cwd,
        approve: project.approve,
        dry_run: project.dry_run,
        tenant: None,
    }
}

fn route(options: &Options, args: crate::cli::FleetArgs, output: &crate::cli::OutputArgs) -> Route {
    super::fleet::route(&options.environment, options.cwd.as_deref(), args, output)
}

/// `--sql FILE`, `--sql -` or piped stdin; nothing (an empty body to fill
/// in) when stdin is a terminal.
fn read_sql(args: &GenerateArgs) -> Result<String, Failure> {
    use std::io::IsTerminal;
    match args.sql.as_deref() {
        Some(path) if path.as_os_str() != "-" => std::fs::read_to_string(path).map_err(|err| {
            Failure::new(format!("Cannot read {}", path.display()))
                .cause(err)
                .help("Pass a readable SQL file, or pipe the SQL on stdin")
        }),
        Some(_) => read_stdin(),
        None if std::io::stdin().is_terminal() => Ok(String::new()),
        None => read_stdin(),
    }
}

fn read_stdin() -> Result<String, Failure> {
    let mut sql = String::new();
    std::io::stdin()
        .read_to_string(&mut sql)
        .map_err(|err| Failure::new("Cannot read the SQL from stdin").cause(err))?;
    Ok(sql)
}

/// The human report: what ran, what is pending, what the lint found.
fn print_result(result: &MigrateResult) {
    let style = Style::for_stdout();
    let database = result.database_name.as_deref().unwrap_or("?");
    println!(
        "{} {database} ({})",
        style.bold("Database:"),
        result.environment
    );
    if let Some(lock) = &result.lock {
        println!("  lock: {lock}");
    }
    for name in &result.applied {
        println!("  {} applied {name}", style.green("✓"));
    }
    if let Some(name) = &result.failed {
        println!("  {} failed {name}", style.red("✗"));
    }
    if let Some(plan) = &result.plan {
        for entry in plan {
            println!("\n{} {}", style.bold("would apply"), entry.name);
            for line in entry.sql.lines() {
                println!("    {line}");
            }
        }
    }
    for name in &result.pending {
        println!("  • pending {name}");
    }
    if let Some(resolved) = &result.resolved {
        println!(
            "  {} {} recorded as {}",
            style.green("✓"),
            resolved.migration,
            resolved.resolution
        );
    }
    if !result.lint.is_empty() {
        println!("\n{}", style.yellow(&style.bold("Destructive statements:")));
        for finding in &result.lint {
            println!("  ⚠ {}", finding.line());
        }
    }
    for warning in &result.warnings {
        println!("{} {warning}", style.yellow("warning:"));
    }
}
