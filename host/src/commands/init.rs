//! `faber-db init <environment>`.

use super::fleet::{Route, route};
use crate::cli::InitArgs;
use crate::fleet;
use crate::report::human;
use crate::workflow::lifecycle::Options;
use crate::workflow::{self, InitOptions};

pub async fn run(args: InitArgs) -> i32 {
    let json = args.output.json();
    match route(
        &args.environment,
        args.cwd.as_deref(),
        args.fleet,
        &args.output,
    ) {
        Route::Single => {}
        Route::Fleet(fleet_options) => {
            let options = Options {
                environment: args.environment,
                cwd: args.cwd,
                approve: args.approve,
                dry_run: args.dry_run,
                tenant: None,
            };
            let outcome = fleet::init(options, fleet_options).await;
            return super::fleet::emit(&args.output, "initialize-database", outcome);
        }
        Route::Refused(failure) => {
            return crate::report::output::emit::<()>(
                json,
                "initialize-database",
                Err(failure),
                |_| {},
            );
        }
    }
    let options = InitOptions {
        environment: args.environment,
        database_name: args.database_name,
        cwd: args.cwd,
        approve: args.approve,
        dry_run: args.dry_run,
        resume: args.resume,
        adopt: args.adopt,
        live: !json,
        target: None,
    };
    let report = workflow::init(options).await;
    if json {
        crate::report::output::print_json(&report);
    } else {
        human::print_outcome(&report);
    }
    report.status.exit_code()
}
