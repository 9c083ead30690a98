//! `faber-db init` succeeding, on each provider, read back from the servers.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{Project, Server, Target, sha256_hex, unique};

const TOP_LEVEL_SUCCESS: &[&str] = &["status", "operation", "result", "message", "next_steps"];
const RESULT_FIELDS: &[&str] = &[
    "environment",
    "database_name",
    "provider",
    "hosting",
    "infrastructure",
    "endpoint",
    "created_resources",
    "schema_initialized",
    "migration_table_created",
    "connection",
    "connectivity",
    "health_check",
    "migration_name",
    "migrations_directory",
    "database_created",
    "dry_run",
    "database_url",
    "handler",
    "handler_compile",
    "health",
    "pending_migrations",
    "handler_session",
    "handler_objects",
    "handler_files",
    "handler_sql",
    "warnings",
    "steps",
];

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// Runs `init dev` for a fresh database on `server` and checks everything
/// that must hold afterwards.
fn init_dev(server: Server) {
    let project = Project::new(server.provider());
    let target = Target::new(server, &unique("fdb_dev"), project.path());
    let run = project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", &target.url())],
    );
    let report = run.assert_success();

    // The report, exactly as documented.
    assert_eq!(keys(&report), TOP_LEVEL_SUCCESS.iter().copied().collect());
    assert_eq!(
        keys(&report["result"]),
        RESULT_FIELDS.iter().copied().collect()
    );
    let result = &report["result"];
    assert_eq!(report["operation"], "initialize-database");
    // What the handler made, read from the catalog: its tracking table.
    assert!(
        result["handler_objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|object| object["kind"] == "table"
                && object["name"]
                    .as_str()
                    .unwrap()
                    .ends_with("_prisma_migrations")),
        "{report}"
    );
    assert_eq!(result["environment"], "dev");
    assert_eq!(result["database_name"], target.name.as_str());
    assert_eq!(result["provider"], server.provider());
    assert_eq!(result["hosting"], "local");
    assert_eq!(result["infrastructure"], "existing");
    assert_eq!(result["schema_initialized"], true);
    assert_eq!(result["migration_table_created"], true);
    assert_eq!(result["connectivity"], "verified");
    assert_eq!(result["health_check"], "passed");
    assert_eq!(result["database_created"], true);
    assert_eq!(result["handler"]["name"], "handler-db-prisma");
    assert_eq!(result["health"]["permissions"], "ok");
    assert_eq!(
        report["message"],
        format!("Database {} initialized successfully", target.name)
    );
    let steps = result["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 17);
    for (index, step) in steps.iter().enumerate() {
        assert_eq!(step["number"], index + 1);
        assert_eq!(
            keys(step),
            ["detail", "duration_ms", "name", "number", "status"].into()
        );
    }
    let status = |n: usize| steps[n - 1]["status"].as_str().unwrap().to_owned();
    assert_eq!(status(6), "skipped", "dev is not protected");
    assert_eq!(status(8), "skipped");
    assert_eq!(status(9), "skipped");
    for n in [1, 2, 3, 4, 5, 7, 10, 11, 12, 13, 14, 15, 16, 17] {
        assert_eq!(status(n), "done", "step {n}: {}", steps[n - 1]);
    }

    // The database, the tracking table with Prisma's DDL, and its one row.
    assert!(target.exists());
    assert_eq!(
        target.columns("_prisma_migrations"),
        expected_columns(server)
    );
    let migration = result["migration_name"].as_str().unwrap();
    assert_eq!(project.migration_dirs(), vec![migration.to_owned()]);
    assert!(migration.ends_with("_init") && migration.len() == "YYYYMMDDHHMMSS_init".len());
    let sql = std::fs::read(project.migrations().join(migration).join("migration.sql")).unwrap();
    let rows = target.query(
        "SELECT migration_name, checksum, applied_steps_count, finished_at IS NOT NULL, rolled_back_at IS NULL, logs IS NULL FROM _prisma_migrations",
    );
    let truthy = if server == Server::Postgres { "t" } else { "1" };
    assert_eq!(
        rows,
        vec![format!(
            "{migration}|{}|1|{truthy}|{truthy}|{truthy}",
            sha256_hex(&sql)
        )]
    );
    if server == Server::Sqlite {
        // As Prisma's schema engine writes them: milliseconds since the epoch.
        let [times] = <[String; 1]>::try_from(target.query(
            "SELECT typeof(started_at) || '|' || typeof(finished_at) || '|' || \
             (abs(started_at - CAST(strftime('%s', 'now') AS INTEGER) * 1000) < 600000) \
             FROM _prisma_migrations",
        ))
        .unwrap();
        assert_eq!(times, "integer|integer|1");
    }
    let id = &target.query("SELECT id FROM _prisma_migrations")[0];
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(id.chars().nth(14), Some('4'), "version 4: {id}");

    assert_eq!(
        std::fs::read_to_string(project.migrations().join("migration_lock.toml")).unwrap(),
        format!(
            "# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = \"{}\"\n",
            server.provider()
        )
    );

    // The operation log got one line, without secrets.
    let log = project.operation_log();
    let record: Value = serde_json::from_str(log.trim()).unwrap();
    assert_eq!(record["status"], "success");
    assert_eq!(record["operation"], "initialize-database");
    assert_eq!(record["environment"], "dev");
    assert_eq!(record["database_name"], target.name.as_str());
}

fn expected_columns(server: Server) -> Vec<String> {
    let lines: &[&str] = match server {
        Server::Postgres => &[
            "id|character varying|36|NO|",
            "checksum|character varying|64|NO|",
            "finished_at|timestamp with time zone||YES|",
            "migration_name|character varying|255|NO|",
            "logs|text||YES|",
            "rolled_back_at|timestamp with time zone||YES|",
            "started_at|timestamp with time zone||NO|now()",
            "applied_steps_count|integer||NO|0",
        ],
        Server::Mysql => &[
            "id|varchar(36)|NO||utf8mb4_unicode_ci",
            "checksum|varchar(64)|NO||utf8mb4_unicode_ci",
            "finished_at|datetime(3)|YES|NULL|NULL",
            "migration_name|varchar(255)|NO||utf8mb4_unicode_ci",
            "logs|text|YES|NULL|utf8mb4_unicode_ci",
            "rolled_back_at|datetime(3)|YES|NULL|NULL",
            "started_at|datetime(3)|NO|current_timestamp(3)|NULL",
            "applied_steps_count|int(10) unsigned|NO|0|NULL",
        ],
        Server::Sqlite => &[
            "id|TEXT|1||1",
            "checksum|TEXT|1||0",
            "finished_at|DATETIME|0||0",
            "migration_name|TEXT|1||0",
            "logs|TEXT|0||0",
            "rolled_back_at|DATETIME|0||0",
            "started_at|DATETIME|1|current_timestamp|0",
            "applied_steps_count|INTEGER UNSIGNED|1|0|0",
        ],
    };
    lines.iter().map(|line| line.to_string()).collect()
}

#[test]
fn init_dev_on_postgresql() {
    init_dev(Server::Postgres);
}

#[test]
fn init_dev_on_mysql() {
    init_dev(Server::Mysql);
}

#[test]
fn init_dev_on_sqlite() {
    init_dev(Server::Sqlite);
}

#[test]
fn postgresql_tracking_table_has_prisma_primary_key() {
    let project = Project::new("postgresql");
    let target = Target::new(Server::Postgres, &unique("fdb_pk"), project.path());
    project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &target.url())],
        )
        .assert_success();
    let key = target.query(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
         WHERE i.indrelid = '_prisma_migrations'::regclass AND i.indisprimary",
    );
    assert_eq!(key, vec!["id"]);
}

/// staging after dev: a second database, the one baseline folder, recorded in both.
fn staging_after_dev(server: Server) {
    let project = Project::new(server.provider());
    let dev = Target::new(server, &unique("fdb_dev"), project.path());
    let staging = Target::new(server, &unique("fdb_stg"), project.path());
    let env = [
        ("DEV_DATABASE_URL", dev.url()),
        ("STAGING_DATABASE_URL", staging.url()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = project
        .run(&["init", "dev", "--json"], &env)
        .assert_success();
    let second = project
        .run(&["init", "staging", "--json"], &env)
        .assert_success();

    let baseline = first["result"]["migration_name"].as_str().unwrap();
    assert_eq!(second["result"]["migration_name"], baseline);
    assert_eq!(project.migration_dirs(), vec![baseline.to_owned()]);
    assert!(staging.exists());
    for target in [&dev, &staging] {
        assert_eq!(
            target.query("SELECT migration_name, applied_steps_count FROM _prisma_migrations"),
            vec![format!("{baseline}|1")]
        );
    }
}

#[test]
fn staging_after_dev_on_postgresql() {
    staging_after_dev(Server::Postgres);
}

#[test]
fn staging_after_dev_on_mysql() {
    staging_after_dev(Server::Mysql);
}

#[test]
fn staging_after_dev_on_sqlite() {
    staging_after_dev(Server::Sqlite);
}

#[test]
fn existing_migrations_are_applied_oldest_first_and_the_rest_reported_pending() {
    let project = Project::new("postgresql");
    let target = Target::new(Server::Postgres, &unique("fdb_existing"), project.path());
    for (name, sql) in [
        (
            "20240101000000_first",
            "CREATE TABLE widgets (id INTEGER PRIMARY KEY);\nINSERT INTO widgets VALUES (1);",
        ),
        (
            "20240202000000_second",
            "CREATE TABLE gadgets (id INTEGER);",
        ),
    ] {
        let dir = project.migrations().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("migration.sql"), sql).unwrap();
    }
    let report = project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &target.url())],
        )
        .assert_success();
    assert_eq!(report["result"]["migration_name"], "20240101000000_first");
    assert_eq!(
        report["result"]["pending_migrations"],
        serde_json::json!(["20240202000000_second"])
    );
    assert_eq!(target.query("SELECT id FROM widgets"), vec!["1"]);
    assert_eq!(
        target.query("SELECT migration_name FROM _prisma_migrations"),
        vec!["20240101000000_first"]
    );
    assert_eq!(
        target.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'gadgets'"),
        vec!["0"],
        "a pending migration's SQL must not run"
    );
}

#[test]
fn database_name_is_derived_from_the_project_when_the_url_names_none() {
    let project = Project::new("sqlite");
    let report = project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", "sqlite://")],
        )
        .assert_success();
    let folder = project
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_lowercase();
    let expected: String = format!("{folder}_dev")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    assert_eq!(report["result"]["database_name"], expected.as_str());
    assert!(project.path().join(format!("{expected}.db")).is_file());
}

#[test]
fn dry_run_changes_nothing() {
    let project = Project::new("postgresql");
    let target = Target::new(Server::Postgres, &unique("fdb_dry"), project.path());
    let report = project
        .run(
            &["init", "dev", "--dry-run", "--json"],
            &[("DEV_DATABASE_URL", &target.url())],
        )
        .assert_success();
    assert_eq!(report["result"]["dry_run"], true);
    assert_eq!(report["result"]["database_created"], false);
    assert!(!target.exists());
    assert!(!project.migrations().exists());
    // Its line in the operation log says it was a dry run, as step 16 does.
    let log: Value = serde_json::from_str(project.operation_log().trim()).unwrap();
    assert_eq!(log["dry_run"], true, "{log}");
    let step = &report["result"]["steps"][15];
    assert!(
        step["detail"].as_str().unwrap().contains("dry run"),
        "{step}"
    );
}

#[test]
fn each_verbosity_level_adds_what_its_help_says() {
    let project = Project::new("sqlite");
    let url = [("DEV_DATABASE_URL", "file:./verbose.db")];
    let quiet = project.run(&["init", "dev", "--json"], &url);
    assert_eq!(quiet.stderr, "", "nothing on stderr without -v");
    std::fs::remove_file(project.path().join("verbose.db")).unwrap();
    let verbose = project.run(&["init", "dev", "--json", "-v"], &url);
    assert!(
        verbose.stderr.contains("step 12 Create database: done in "),
        "{}",
        verbose.stderr
    );
    assert!(
        verbose.stderr.contains("handler handler-db-prisma: "),
        "{}",
        verbose.stderr
    );
    assert!(!verbose.stderr.contains("sql ("), "{}", verbose.stderr);
    std::fs::remove_file(project.path().join("verbose.db")).unwrap();
    let debug = project.run(&["init", "dev", "--json", "-vv"], &url);
    assert!(
        debug.stderr.contains("[handler-db-prisma] debug: sql ("),
        "{}",
        debug.stderr
    );
    assert!(
        debug.stderr.contains("step 12 Create database"),
        "{}",
        debug.stderr
    );
}

#[test]
fn human_output_lists_the_numbered_steps_without_colour_off_a_terminal() {
    let project = Project::new("sqlite");
    let run = project.run(&["init", "dev"], &[("DEV_DATABASE_URL", "file:./human.db")]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour when not a terminal"
    );
    for n in 1..=17 {
        assert!(
            run.stdout.contains(&format!("{n:>4}. ")),
            "step {n} in:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("✓ Database human initialized successfully")
    );
    assert!(run.stdout.contains("Next steps:"));
}
