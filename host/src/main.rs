use clap::Parser;

use faber_db::cli::{Cli, Command, ConfigCommand};
use faber_db::commands;
use faber_db::logging::{self, Level};

fn main() {
    let cli = Cli::parse();
    logging::set_threshold(match cli.verbose {
        0 => Level::Warn,
        1 => Level::Info,
        _ => Level::Debug,
    });
    let code = match cli.command {
        Command::Init(args) => runtime().block_on(commands::init::run(args)),
        Command::Config(ConfigCommand::Init(args)) => commands::config::init(args),
        Command::Config(ConfigCommand::Schema) => commands::config::schema(),
    };
    std::process::exit(code);
}

/// One worker thread is plenty: the workflow is sequential, and the work
/// that is not I/O happens inside wasmtime.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building the tokio runtime")
}
