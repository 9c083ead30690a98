use faber_db::cli::{Command, ConfigCommand, HandlerCommand};
use faber_db::commands;
use faber_db::logging::{self, Level};

fn main() {
    let cli = faber_db::cli::parse();
    logging::set_threshold(match cli.verbose {
        0 => Level::Warn,
        1 => Level::Info,
        _ => Level::Debug,
    });
    if let Some(path) = cli.env_file {
        faber_db::dotenv::set_file(path);
    }
    let code = match cli.command {
        Command::Init(args) => run(commands::init::run(args)),
        Command::Status(args) => run(commands::status::run(args)),
        Command::Migrate(args) => run(commands::migrate::migrate(args)),
        Command::Resolve(args) => run(commands::migrate::resolve(args)),
        Command::GenerateMigration(args) => run(commands::migrate::generate(args)),
        Command::Config(ConfigCommand::Init(args)) => run(commands::config::init(args)),
        Command::Config(ConfigCommand::Schema(args)) => commands::config::schema(args),
        Command::Handler(command) => run(handler(command)),
        Command::Completions(args) => {
            faber_db::cli::print_completions(args.shell);
            0
        }
        Command::Man(args) => faber_db::cli::print_man(args),
    };
    std::process::exit(code);
}

async fn handler(command: HandlerCommand) -> i32 {
    use commands::handler;
    match command {
        HandlerCommand::List(args) => handler::list(args).await,
        HandlerCommand::Add(args) => handler::add(args).await,
        HandlerCommand::Verify(args) => handler::verify(args),
        HandlerCommand::Remove(args) => handler::remove(args),
        HandlerCommand::Info(args) => handler::info(args).await,
        HandlerCommand::Test(args) => handler::test(args).await,
        HandlerCommand::New(args) => handler::new(args),
        HandlerCommand::Publish(args) => handler::publish(args).await,
        HandlerCommand::Install(args) => handler::install(args).await,
        HandlerCommand::Outdated(args) => handler::outdated(args).await,
        HandlerCommand::Update(args) => handler::update(args).await,
    }
}

/// Runs `command` to its exit code, then lets the connections it dropped
/// finish closing. One worker thread is plenty: the workflow is
/// sequential, and the work that is not I/O happens inside wasmtime.
fn run(command: impl Future<Output = i32>) -> i32 {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building the tokio runtime")
        .block_on(async {
            let code = command.await;
            faber_db::db::settle().await;
            code
        })
}
