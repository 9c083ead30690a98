//! The Python example handler (`handlers/examples/python-migration-tool`,
//! built with componentize-py by `tests/run.sh`): a handler in another
//! language passes the conformance suite and initializes and migrates real
//! databases, and its first load is compiled visibly, once.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{BIN, Project, Server, Target, component, through_a_terminal, unique};

const HANDLER: &str = "python-migration-tool";

fn wasm() -> PathBuf {
    component(HANDLER)
}

/// A project whose migration tool is the Python handler, added from its
/// build output as a third party's handler would be.
fn python_project(provider: &str) -> Project {
    let project = Project::with_config(&json!({
        "database": {"provider": provider, "hosting": "local", "migration_tool": HANDLER},
        "environments": {
            "dev": {"connection_string_env": "DEV_DATABASE_URL"},
            "staging": {"connection_string_env": "STAGING_DATABASE_URL"}
        },
        "migrations": {"directory": "db/migrations"}
    }));
    project
        .run(&["handler", "add", wasm().to_str().unwrap(), "--json"], &[])
        .assert_success();
    project
}

/// `name|finished|applied_steps_count` of every tracking row, by name.
fn tracking_rows(target: &Target) -> Vec<String> {
    target.query(
        "SELECT name, CASE WHEN finished_at IS NULL THEN 'unfinished' ELSE 'finished' END, \
         applied_steps_count FROM _python_migrations ORDER BY name",
    )
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

#[test]
fn the_python_handler_passes_the_conformance_suite_on_every_provider() {
    for server in [Server::Sqlite, Server::Postgres, Server::Mysql] {
        crate::handlers::assert_conforms_on(&wasm(), server);
    }
}

#[test]
fn the_python_handler_initializes_and_migrates_sqlite_and_postgresql() {
    for server in [Server::Sqlite, Server::Postgres] {
        let project = python_project(server.provider());
        let target = Target::new(server, &unique("fdb_python"), project.path());
        let url = target.url();
        let env = [("DEV_DATABASE_URL", url.as_str())];
        let report = project
            .run(&["init", "dev", "--json"], &env)
            .assert_success();
        let result = &report["result"];
        assert_eq!(result["handler"]["name"], HANDLER, "{report}");
        assert_eq!(result["migration_table_created"], true);
        assert_eq!(result["handler_compile"]["handler"], HANDLER);

        // What the handler claimed, read back from the database and the disk.
        let baseline = result["migration_name"].as_str().unwrap().to_owned();
        assert_eq!(
            tracking_rows(&target),
            vec![format!("{baseline}|finished|1")],
            "{server:?}"
        );
        let migrations = project.path().join("db/migrations");
        assert_eq!(files_in(&migrations), vec![format!("{baseline}.sql")]);

        // The 0.3.0 operations through the host's own commands.
        let file = project.path().join("users.sql");
        std::fs::write(&file, "CREATE TABLE users (id INTEGER PRIMARY KEY);\n").unwrap();
        let sql = file.to_str().unwrap();
        let made = project
            .run(
                &["generate-migration", "Add Users", "--sql", sql, "--json"],
                &[],
            )
            .assert_success();
        let added = made["result"]["migration"].as_str().unwrap().to_owned();
        assert!(added.ends_with("_add_users"), "{made}");
        assert_eq!(
            std::fs::read_to_string(migrations.join(format!("{added}.sql"))).unwrap(),
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\n"
        );
        project
            .run(&["migrate", "dev", "--json"], &env)
            .assert_success();
        assert_eq!(
            tracking_rows(&target),
            vec![
                format!("{baseline}|finished|1"),
                format!("{added}|finished|1")
            ],
            "{server:?}"
        );
        assert_eq!(target.query("SELECT COUNT(*) FROM users"), vec!["0"]);
    }
}

#[test]
fn the_first_load_is_compiled_visibly_once_then_read_from_the_cache() {
    let mut project = python_project("sqlite");
    let cache = tempfile::tempdir().unwrap();
    project.cache = cache.path().to_path_buf();
    let bytes = std::fs::read(wasm()).unwrap();
    let sha256 = crate::support::sha256_hex(&bytes);

    // First use, on a terminal: the compilation is announced on stderr and
    // reported as its own phase.
    let report_file = project.path().join("first.json");
    let command = format!(
        "{BIN} init dev --json --cwd {} > {}",
        project.path().display(),
        report_file.display()
    );
    let (code, shown) = through_a_terminal(
        &command,
        &[("DEV_DATABASE_URL", "file:./first.db".to_owned())],
        cache.path(),
        "",
    );
    let first: Value = serde_json::from_str(&std::fs::read_to_string(&report_file).unwrap())
        .unwrap_or_else(|err| panic!("{err}: {shown}"));
    assert_eq!(code, 0, "{shown}\n{first}");
    assert!(
        shown.contains(&format!("Compiling handler {HANDLER} (")) && shown.contains("done in"),
        "{shown}"
    );
    let compile = &first["result"]["handler_compile"];
    assert_eq!(compile["handler"], HANDLER, "{first}");
    assert_eq!(compile["from_cache"], false, "{first}");
    // wasmtime's baseline compiler: seconds, not tens of seconds.
    assert_eq!(compile["compiler"], "winch", "{first}");
    assert_eq!(compile["size_bytes"], bytes.len() as u64);
    assert!(compile["duration_ms"].as_u64().is_some(), "{first}");
    let create_database = |report: &Value| report["result"]["steps"][11]["detail"].to_string();
    assert!(
        create_database(&first).contains("compiled for this machine first in"),
        "{first}"
    );

    // The compiled code is kept under the component's sha256.
    let cached = files_in(cache.path());
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(
        cached[0].starts_with(&format!("{sha256}-")) && cached[0].ends_with(".cwasm"),
        "{cached:?}"
    );
    let entry = cache.path().join(&cached[0]);
    let written = std::fs::metadata(&entry).unwrap().modified().unwrap();

    // Second use: read from the cache, nothing announced, nothing rewritten.
    let second = project.run(
        &["init", "staging", "--json"],
        &[("STAGING_DATABASE_URL", "file:./second.db")],
    );
    let report = second.assert_success();
    let compile = &report["result"]["handler_compile"];
    assert_eq!(compile["from_cache"], true, "{report}");
    assert_eq!(compile["compiler"], "winch", "{report}");
    assert!(!create_database(&report).contains("compiled"), "{report}");
    assert!(
        !second.stderr.contains("Compiling handler"),
        "{}",
        second.stderr
    );
    assert_eq!(files_in(cache.path()), cached);
    assert_eq!(
        std::fs::metadata(&entry).unwrap().modified().unwrap(),
        written
    );
}
