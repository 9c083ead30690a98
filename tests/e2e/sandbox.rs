//! The component runtime with real compiled components: a handler built
//! outside the host loads from a path, and a hostile one gets nothing.

use std::time::Duration;

use faber_db::runtime::{Compiler, Grant, HandlerFailure, Limits, MigrationTool, Runtime};
use faber_db::runtime::{HandlerError, InitializeRequest, Provider};

use crate::support::{component, shared_cache_dir};

/// The hostile handler, as a third party's handler runs: on the code Winch
/// compiled on its first use, which the sandbox's limits must stop as they
/// stop Cranelift's.
fn hostile(runtime: &Runtime) -> MigrationTool {
    let loaded = runtime
        .load("hostile-handler", &component("hostile-handler"))
        .unwrap();
    assert_eq!(
        loaded.compiler,
        Compiler::Winch,
        "a compile cache from before Winch compiled first uses: remove target/test-component-cache"
    );
    MigrationTool::new(runtime, loaded).unwrap()
}

/// A runtime with the test suite's shared compile cache.
fn runtime(limits: Limits) -> Runtime {
    Runtime::new(limits)
        .unwrap()
        .with_cache_dir(shared_cache_dir())
}

/// Asks the hostile handler to misbehave in the way `behaviour` names.
async fn provoke(tool: &MigrationTool, behaviour: &str) -> HandlerFailure {
    let granted = tempfile::tempdir().unwrap();
    let grant = Grant {
        directory: Some((granted.path().to_path_buf(), "/migrations".to_owned())),
        ..Grant::default()
    };
    let request = InitializeRequest {
        provider: Provider::Sqlite,
        database_name: behaviour.to_owned(),
        migrations_dir: "/migrations".to_owned(),
        tracking_table: None,
    };
    let (_, result) = tool.initialize_schema(grant, &request).await;
    result.expect_err("the hostile handler never succeeds")
}

fn reported(failure: &HandlerFailure) -> String {
    match failure {
        HandlerFailure::Reported { error, .. } => format!("{error:?}"),
        other => panic!("expected the handler's own report, got {other}"),
    }
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_the_cpu_budget() {
    let runtime = runtime(Limits {
        fuel: 500_000_000,
        ..Limits::default()
    });
    let tool = hostile(&runtime);
    let failure = provoke(&tool, "loop").await;
    assert!(
        matches!(failure, HandlerFailure::CpuLimit { .. }),
        "{failure}"
    );
    assert!(failure.to_string().contains("hostile-handler"));
    // The host is still up and the next call on a fresh instance works.
    assert_eq!(tool.info().await.unwrap().name, "hostile-handler");
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_the_wall_clock() {
    let runtime = runtime(Limits {
        timeout: Duration::from_millis(300),
        ..Limits::default()
    });
    let failure = provoke(&hostile(&runtime), "loop").await;
    assert!(
        matches!(failure, HandlerFailure::Timeout { .. }),
        "{failure}"
    );
}

#[tokio::test]
async fn unbounded_allocation_is_stopped_at_the_memory_cap() {
    let runtime = runtime(Limits {
        memory_bytes: 32 << 20,
        ..Limits::default()
    });
    let tool = hostile(&runtime);
    let failure = provoke(&tool, "alloc").await;
    assert!(
        matches!(failure, HandlerFailure::MemoryLimit { mib: 32, .. }),
        "{failure}"
    );
    assert_eq!(tool.info().await.unwrap().name, "hostile-handler");
}

#[tokio::test]
async fn files_outside_the_grant_are_unreachable() {
    let runtime = runtime(Limits::default());
    let failure = provoke(&hostile(&runtime), "read-file").await;
    let report = reported(&failure);
    assert!(report.contains("denied"), "{report}");
    assert!(!report.contains("LEAKED"), "{report}");
    assert!(matches!(
        failure,
        HandlerFailure::Reported {
            error: HandlerError::Filesystem(_),
            ..
        }
    ));
}

#[tokio::test]
async fn environment_variables_and_arguments_are_empty() {
    // SAFETY: set before any thread of this test reads the environment; the
    // point is that the sandbox does not pass it on.
    unsafe { std::env::set_var("FABER_DB_TEST_SECRET", "visible-to-the-host-only") };
    let runtime = runtime(Limits::default());
    let report = reported(&provoke(&hostile(&runtime), "env").await);
    assert!(report.contains("denied"), "{report}");
    assert!(!report.contains("LEAKED"), "{report}");
}

#[tokio::test]
async fn the_network_is_closed() {
    let runtime = runtime(Limits::default());
    let report = reported(&provoke(&hostile(&runtime), "socket").await);
    assert!(report.contains("denied"), "{report}");
    assert!(!report.contains("LEAKED"), "{report}");
}

#[tokio::test]
async fn a_trap_becomes_a_clean_error_with_the_handlers_message() {
    let runtime = runtime(Limits::default());
    let tool = hostile(&runtime);
    let failure = provoke(&tool, "trap").await;
    match &failure {
        HandlerFailure::Trap { message, .. } => {
            assert!(message.contains("deliberate trap"), "{message}")
        }
        other => panic!("expected a trap, got {other}"),
    }
    assert_eq!(tool.info().await.unwrap().name, "hostile-handler");
}

#[tokio::test]
async fn an_oversized_result_is_refused() {
    let runtime = runtime(Limits::default());
    let failure = provoke(&hostile(&runtime), "big-output").await;
    assert!(
        matches!(failure, HandlerFailure::Oversized { .. }),
        "{failure}"
    );
}

#[tokio::test]
async fn the_second_load_comes_from_the_compile_cache() {
    // A handler faber-db does not bundle: its first use compiles it, with
    // the baseline compiler, and the cache keeps that code.
    let cache = tempfile::tempdir().unwrap();
    let name = "legacy-handler-v0-4-0";
    let path = component(name);
    let first = Runtime::new(Limits::default())
        .unwrap()
        .with_cache_dir(cache.path().to_path_buf())
        .load(name, &path)
        .unwrap();
    assert!(!first.from_cache);
    assert_eq!(first.compiler, Compiler::Winch);
    let artifacts: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(
        artifacts.len(),
        1,
        "one compiled artifact, keyed by the component's hash"
    );

    let second_runtime = Runtime::new(Limits::default())
        .unwrap()
        .with_cache_dir(cache.path().to_path_buf());
    let second = second_runtime.load(name, &path).unwrap();
    assert!(second.from_cache, "a warm load skips compilation");
    assert_eq!(second.compiler, Compiler::Winch);
    assert_eq!(second.sha256, first.sha256);
    let tool = MigrationTool::new(&second_runtime, second).unwrap();
    let info = tool.info().await.unwrap();
    assert_eq!(info.name, name);
}

/// `FABER_DB_COMPILER=cranelift` has a handler's first use compiled by
/// Cranelift, not kept from a Winch compilation the cache holds; a value
/// naming no compiler is refused before anything runs.
#[test]
fn the_first_use_compiler_is_chosen_by_faber_db_compiler() {
    let cache = tempfile::tempdir().unwrap();
    let path = component("legacy-handler-v0-4-0");
    let load = |compiler: &str| {
        let output = std::process::Command::new(crate::support::BIN)
            .args(["handler", "test", "--json"])
            .arg(&path)
            .env("FABER_DB_CACHE_DIR", cache.path())
            .env("FABER_DB_COMPILER", compiler)
            .output()
            .unwrap();
        crate::support::Run::from(output)
    };
    let loaded = |run: &crate::support::Run| {
        let report = run.json();
        report["result"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // (The suite's other checks are not this test's: this handler predates
    // some operations.)
    let winch = load("winch");
    assert!(loaded(&winch).ends_with("(winch)"), "{}", winch.stdout);
    let cranelift = load("cranelift");
    assert!(
        loaded(&cranelift).contains("compiled for this machine")
            && loaded(&cranelift).ends_with("(cranelift)"),
        "{}",
        cranelift.stdout
    );
    // Both compilations are kept, each under its own engine's key.
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 2);

    let wrong = load("llvm");
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    let error = wrong.json()["result"][0]["detail"].to_string();
    assert!(
        error.contains("FABER_DB_COMPILER")
            && error.contains("winch")
            && error.contains("cranelift"),
        "{error}"
    );
}

/// A bundled handler's native code is built into faber-db: its first use
/// on a machine with empty caches (a CI runner) compiles nothing, writes
/// nothing to the cache, and the code it loads runs.
#[tokio::test]
async fn a_bundled_handlers_first_load_uses_the_code_built_into_faber_db() {
    let cache = tempfile::tempdir().unwrap();
    for name in ["handler-db-prisma", "handler-db-sequelize"] {
        let runtime = Runtime::new(Limits::default())
            .unwrap()
            .with_cache_dir(cache.path().to_path_buf());
        let loaded = runtime.load(name, &component(name)).unwrap();
        assert!(loaded.from_cache, "{name} was compiled on its first load");
        assert_eq!(loaded.compiler, Compiler::Cranelift, "{name}");
        let tool = MigrationTool::new(&runtime, loaded).unwrap();
        let info = tool.info().await.unwrap();
        assert_eq!(info.name, name);
        assert_eq!(info.wit_version, faber_db::runtime::CONTRACT_VERSION);
    }
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_file_that_is_not_a_component_is_refused() {
    let runtime = runtime(Limits::default());
    let bogus = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bogus.path(), b"\0asm not really").unwrap();
    let Err(failure) = runtime.load("bogus", bogus.path()) else {
        panic!("a bogus file loaded");
    };
    assert!(matches!(failure, HandlerFailure::Load { .. }), "{failure}");
}
