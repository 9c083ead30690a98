//! faber-db and Prisma's own CLI on one database, in either order: each
//! reads what the other wrote as its own (PostgreSQL and SQLite, the
//! providers Prisma's WebAssembly engine covers offline). That engine's
//! `migrate deploy` cannot run on PostgreSQL through `@prisma/adapter-pg`
//! 6.19 at all (it fails on a fresh database with "Column type 'name' could
//! not be deserialized"), so Prisma deploys on SQLite here, and on
//! PostgreSQL Prisma's `migrate status` is the judge.

use crate::migrate::Migrating;
use crate::prisma_cli::{assert_prisma_up_to_date, configure_prisma, prisma};
use crate::support::Server;

const TABLES: [(&str, &str); 3] = [
    (
        "20990101000000_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
    ),
    (
        "20990102000000_posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));\n",
    ),
    (
        "20990103000000_index",
        "CREATE INDEX posts_user_idx ON posts(user_id);\n",
    ),
];

fn with_folder(server: Server) -> Migrating {
    let m = Migrating::new(server, "dev");
    for (name, sql) in TABLES {
        m.write(name, sql);
    }
    configure_prisma(&m.project, &m.target, "");
    m
}

fn prisma_calls_faber_dbs_work_up_to_date(server: Server) {
    let m = with_folder(server);
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["result"]["applied"].as_array().unwrap().len(), 3);
    assert_prisma_up_to_date(&m.project);
}

#[test]
fn prisma_calls_a_postgresql_database_migrated_by_faber_db_up_to_date() {
    prisma_calls_faber_dbs_work_up_to_date(Server::Postgres);
}

#[test]
fn prisma_calls_a_sqlite_database_migrated_by_faber_db_up_to_date() {
    prisma_calls_faber_dbs_work_up_to_date(Server::Sqlite);
}

#[test]
fn prismas_schema_parameter_places_tracking_and_migrations_in_that_schema() {
    let m = Migrating::with_query(Server::Postgres, "dev", "?schema=app");
    for (name, sql) in TABLES {
        m.write(name, sql);
    }
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    let placed = m.target.query(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_name IN ('_prisma_migrations', 'users', 'posts') ORDER BY 1",
    );
    assert_eq!(placed, ["app._prisma_migrations", "app.posts", "app.users"]);
    configure_prisma(&m.project, &m.target, "?schema=app");
    assert_prisma_up_to_date(&m.project);
}

fn faber_db_calls_prismas_work_up_to_date(server: Server) {
    let m = with_folder(server);
    let (ok, output) = prisma(&m.project, &["migrate", "deploy"]);
    assert!(ok, "prisma migrate deploy:\n{output}");
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"],
        serde_json::json!([]),
        "{report}"
    );
    assert_eq!(
        report["result"]["pending"],
        serde_json::json!([]),
        "{report}"
    );
    assert_eq!(
        report["result"]["modified"],
        serde_json::json!([]),
        "{report}"
    );
    assert!(
        report["message"].as_str().unwrap().contains("up to date"),
        "{report}"
    );
}

#[test]
fn faber_db_calls_a_sqlite_database_deployed_by_prisma_up_to_date() {
    faber_db_calls_prismas_work_up_to_date(Server::Sqlite);
}

fn a_failure_is_the_same_failure_to_both(server: Server) {
    let m = with_folder(server);
    m.write("20990104000000_broken", "SELECT * FROM no_such_table;\n");
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["result"]["failed"], "20990104000000_broken");
    let (ok, output) = prisma(&m.project, &["migrate", "status"]);
    assert!(!ok, "{output}");
    assert!(
        output.contains("20990104000000_broken") && output.contains("failed"),
        "{output}"
    );
    if server != Server::Sqlite {
        return;
    }
    let (ok, output) = prisma(&m.project, &["migrate", "deploy"]);
    assert!(
        !ok && output.contains("P3009"),
        "prisma refuses to deploy after it:\n{output}"
    );

    // And the other way round: Prisma's failure stops faber-db.
    let other = with_folder(server);
    other.write("20990104000000_broken", "SELECT * FROM no_such_table;\n");
    let (ok, output) = prisma(&other.project, &["migrate", "deploy"]);
    assert!(!ok, "{output}");
    let (code, report) = other.migrate(&[]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("20990104000000_broken failed earlier"),
        "{report}"
    );
}

#[test]
fn a_failure_on_postgresql_is_the_same_failure_to_both() {
    a_failure_is_the_same_failure_to_both(Server::Postgres);
}

#[test]
fn a_failure_on_sqlite_is_the_same_failure_to_both() {
    a_failure_is_the_same_failure_to_both(Server::Sqlite);
}

#[test]
fn concurrent_runs_apply_each_migration_once_and_wait_for_prismas_lock() {
    let m = Migrating::new(Server::Postgres, "dev");
    let names: Vec<String> = (0..12).map(|i| format!("2099010100{i:04}_step")).collect();
    for (i, name) in names.iter().enumerate() {
        m.write(
            name,
            &format!("CREATE TABLE step_{i} (id INTEGER);\nSELECT pg_sleep(0.05);\n"),
        );
    }
    configure_prisma(&m.project, &m.target, "");
    // Prisma's deploy lock, held as `prisma migrate deploy` holds it.
    let (host, port) = Server::Postgres.address();
    let holder = std::process::Command::new("psql")
        .args([
            "-h",
            &host,
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            &m.target.name,
            "-c",
        ])
        .arg("SELECT pg_advisory_lock(72707369), pg_sleep(2)")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let started = std::time::Instant::now();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            m.project
                .command(&["migrate", "dev", "--json"])
                .env(m.variable, m.url())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = 0;
    for run in runs {
        let output = run.wait_with_output().unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["status"], "success", "{report}");
        assert_eq!(report["result"]["lock"], "pg_advisory_lock(72707369)");
        applied += report["result"]["applied"].as_array().unwrap().len();
    }
    let holder = holder.wait_with_output().unwrap();
    assert!(holder.status.success());
    assert!(
        started.elapsed().as_secs_f64() > 1.0,
        "the runs waited for the lock Prisma's deploy takes"
    );
    assert_eq!(
        applied,
        names.len(),
        "together they applied each migration once"
    );
    for name in &names {
        let rows = m.target.query(&format!(
            "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '{name}'"
        ));
        assert_eq!(rows, ["1"], "{name} recorded exactly once");
    }
    assert_prisma_up_to_date(&m.project);
}
