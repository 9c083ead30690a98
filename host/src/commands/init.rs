//! `faber-db init <environment>`.

use crate::cli::InitArgs;
use crate::report::human;
use crate::workflow::{self, InitOptions};

pub async fn run(args: InitArgs) -> i32 {
    let json = args.output.json();
    let options = InitOptions {
        environment: args.environment,
        database_name: args.database_name,
        cwd: args.cwd,
        approve: args.approve,
        dry_run: args.dry_run,
        resume: args.resume,
        adopt: args.adopt,
        live: !json,
    };
    let report = workflow::init(options).await;
    if json {
        super::print_json(&report);
    } else {
        human::print_outcome(&report);
    }
    report.status.exit_code()
}
