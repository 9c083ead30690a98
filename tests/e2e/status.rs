//! `faber-db status`: a project whose environments are in every state at
//! once, on each provider, checked cell by cell against the JSON matrix and
//! the exit code; schema drift against a scratch replay; the read-only
//! session the handler reads through; and agreement with Prisma's own
//! `migrate status`.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use faber_db::db::{Access, ConnectionString, Server as DbServer, SessionPolicy};

use crate::prisma_cli;
use crate::support::servers::{accounts, server_query};
use crate::support::{Project, Run, Server, Target, sha256_hex, unique};

/// The folder's migrations after the baseline, oldest first.
const USERS: (&str, &str) = (
    "20300101000000_users",
    "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, \
     active INTEGER NOT NULL DEFAULT 1);\nCREATE INDEX users_name_idx ON users (name);\n",
);
const POSTS: (&str, &str) = (
    "20300102000000_posts",
    "CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(100) NOT NULL);\n",
);
/// Applied in one environment, never in the folder.
const GONE: &str = "20300103000000_gone";

/// The naming of the accounts faber-db makes for handlers.
const HANDLER_ACCOUNTS: &str = faber_db::db::handler_session::ACCOUNT_PREFIX;

/// The environments of the scene, each in its own state.
const ENVIRONMENTS: &[&str] = &[
    "uptodate", "behind", "failed", "edited", "gone", "down", "unset", "fresh",
];

fn project(server: Server) -> Project {
    let environments: serde_json::Map<String, Value> = ENVIRONMENTS
        .iter()
        .map(|name| {
            (
                (*name).to_owned(),
                json!({"connection_string_env": variable(name)}),
            )
        })
        .collect();
    Project::with_config(&json!({
        "database": {"provider": server.provider(), "hosting": "local", "migration_tool": "prisma"},
        "environments": environments,
        "migrations": {"directory": "prisma/migrations"},
    }))
}

fn variable(environment: &str) -> String {
    format!("{}_DATABASE_URL", environment.to_uppercase())
}

fn write_migration(project: &Project, (name, sql): (&str, &str)) {
    let dir = project.migrations().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("migration.sql"), sql).unwrap();
}

/// Runs a migration's SQL and records it as Prisma's deploy does; with
/// `checksum_of` another text, as if the file was edited after it ran.
fn apply_by_hand(target: &Target, (name, sql): (&str, &str), checksum_of: &str) {
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        target.query(statement);
    }
    record(target, name, &sha256_hex(checksum_of.as_bytes()), true);
}

/// A tracking row: finished, or failed as Prisma leaves a failure.
fn record(target: &Target, name: &str, checksum: &str, finished: bool) {
    let now = match target.server {
        Server::Postgres => "now()",
        Server::Mysql => "CURRENT_TIMESTAMP(3)",
        Server::Sqlite => "current_timestamp",
    };
    let (finished_at, logs, steps) = if finished {
        (now, "NULL", 1)
    } else {
        ("NULL", "'the migration failed'", 0)
    };
    let id = &sha256_hex(format!("{name}{checksum}").as_bytes())[..36];
    target.query(&format!(
        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) \
         VALUES ('{id}', '{checksum}', {finished_at}, '{name}', {logs}, NULL, {now}, {steps})"
    ));
}

/// A port that accepts connections and never answers: a server that hangs.
fn silent_port() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// What the tracking tables and the tables look like, to prove status
/// changed nothing.
fn snapshot(targets: &[&Target], server: Server) -> Vec<String> {
    let mut seen = Vec::new();
    for target in targets {
        seen.extend(target.query(
            "SELECT migration_name, checksum, COALESCE(logs, ''), applied_steps_count FROM _prisma_migrations ORDER BY migration_name",
        ));
        seen.extend(match server {
            Server::Sqlite => target.query("SELECT name FROM sqlite_master ORDER BY name"),
            Server::Postgres => target.query(
                "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'public' ORDER BY 1",
            ),
            Server::Mysql => target.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1",
            ),
        });
    }
    seen
}

/// The account a report says the handler read through no longer exists.
fn assert_account_gone(server: Server, env: &Value) {
    if let Some(account) = env["handler_session"]["account"].as_str() {
        assert!(account.starts_with(HANDLER_ACCOUNTS), "{env}");
        assert!(accounts(server, account).is_empty(), "{account} is left");
    }
}

/// Databases left by a replay.
fn scratch_databases(server: Server) -> Vec<String> {
    match server {
        Server::Postgres => server_query(
            server,
            "SELECT datname FROM pg_database WHERE datname LIKE 'fdb\\_scratch\\_%'",
        ),
        Server::Mysql => server_query(
            server,
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'fdb\\_scratch\\_%'",
        ),
        Server::Sqlite => Vec::new(),
    }
}

struct Scene {
    project: Project,
    baseline: String,
    /// Kept alive: the databases are dropped with them.
    targets: Vec<Target>,
    env: Vec<(String, String)>,
    fresh: Target,
    _silent: TcpListener,
}

impl Scene {
    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn status(&self, args: &[&str]) -> Run {
        let mut all = vec!["status"];
        all.extend_from_slice(args);
        self.project.run(&all, &self.env())
    }

    fn target(&self, environment: &str) -> &Target {
        let index = ["uptodate", "behind", "failed", "edited", "gone"]
            .iter()
            .position(|name| *name == environment)
            .unwrap();
        &self.targets[index]
    }
}

/// Eight environments, each in its own state, on `server`.
fn scene(server: Server) -> Scene {
    let project = project(server);
    let mut env = Vec::new();
    let mut targets = Vec::new();
    for name in ["uptodate", "behind", "failed", "edited", "gone"] {
        let target = Target::new(server, &unique(&format!("fdb_st_{name}")), project.path());
        env.push((variable(name), target.url()));
        project
            .run(
                &["init", name, "--json"],
                &[(&variable(name), &target.url())],
            )
            .assert_success();
        targets.push(target);
    }
    let baseline = project.migration_dirs()[0].clone();
    write_migration(&project, USERS);
    write_migration(&project, POSTS);
    let [uptodate, _behind, failed, edited, gone] = &targets[..] else {
        unreachable!()
    };
    apply_by_hand(uptodate, USERS, USERS.1);
    apply_by_hand(uptodate, POSTS, POSTS.1);
    apply_by_hand(failed, USERS, USERS.1);
    record(failed, POSTS.0, &sha256_hex(POSTS.1.as_bytes()), false);
    apply_by_hand(edited, USERS, "-- the file as it was when it ran\n");
    apply_by_hand(edited, POSTS, POSTS.1);
    apply_by_hand(gone, USERS, USERS.1);
    apply_by_hand(gone, POSTS, POSTS.1);
    record(gone, GONE, &sha256_hex(b"SELECT 1;"), true);

    let (silent, port) = silent_port();
    let down = match server {
        Server::Postgres => format!("postgresql://postgres@127.0.0.1:{port}/fdb_down"),
        Server::Mysql => format!("mysql://root@127.0.0.1:{port}/fdb_down"),
        Server::Sqlite => "file:./no-such-folder/down.db".to_owned(),
    };
    env.push((variable("down"), down));
    let fresh = Target::new(server, &unique("fdb_st_fresh"), project.path());
    env.push((variable("fresh"), fresh.url()));
    Scene {
        project,
        baseline,
        targets,
        env,
        fresh,
        _silent: silent,
    }
}

/// An environment, its state, and each migration's state.
type Column = (&'static str, &'static str, Vec<(String, &'static str)>);

/// Every cell of the matrix.
fn expected(baseline: &str) -> Vec<Column> {
    let row = |states: [&'static str; 3]| {
        vec![
            (baseline.to_owned(), states[0]),
            (USERS.0.to_owned(), states[1]),
            (POSTS.0.to_owned(), states[2]),
        ]
    };
    let mut gone = row(["applied", "applied", "applied"]);
    gone.push((GONE.to_owned(), "missing"));
    vec![
        (
            "uptodate",
            "up-to-date",
            row(["applied", "applied", "applied"]),
        ),
        ("behind", "pending", row(["applied", "pending", "pending"])),
        ("failed", "failed", row(["applied", "applied", "failed"])),
        ("edited", "drift", row(["applied", "modified", "applied"])),
        ("gone", "drift", gone),
        (
            "down",
            "unreachable",
            row(["unknown", "unknown", "unknown"]),
        ),
        (
            "unset",
            "not-configured",
            row(["unknown", "unknown", "unknown"]),
        ),
        (
            "fresh",
            "not-initialized",
            row(["pending", "pending", "pending"]),
        ),
    ]
}

fn every_state_at_once(server: Server) {
    let scene = scene(server);
    let existing: Vec<&Target> = scene.targets.iter().collect();
    let before = snapshot(&existing, server);

    let started = Instant::now();
    let run = scene.status(&["--json", "--timeout", "3"]);
    let elapsed = started.elapsed();
    let report = run.json();
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(report["status"], "error");
    assert_eq!(report["operation"], "status");
    let result = &report["result"];
    assert_eq!(
        result["migrations"],
        json!([scene.baseline, USERS.0, POSTS.0]),
        "the folder's migrations, in order"
    );
    let environments = result["environments"].as_array().unwrap();
    let mut names: Vec<&str> = environments
        .iter()
        .map(|env| env["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    let mut all = ENVIRONMENTS.to_vec();
    all.sort_unstable();
    assert_eq!(names, all);
    for (name, state, migrations) in expected(&scene.baseline) {
        let env = environments.iter().find(|env| env["name"] == name).unwrap();
        assert_eq!(env["state"], state, "{name}: {env}");
        let found = env["migrations"].as_object().unwrap();
        assert_eq!(found.len(), migrations.len(), "{name}: {env}");
        for (migration, expected) in migrations {
            assert_eq!(found[&migration], expected, "{name} / {migration}: {env}");
        }
    }
    let env = |name: &str| environments.iter().find(|env| env["name"] == name).unwrap();
    for name in ["uptodate", "behind", "failed", "edited", "gone"] {
        assert_eq!(env(name)["database_name"], scene.target(name).name.as_str());
        assert_eq!(env(name)["tracking_table"], "_prisma_migrations");
        let session = env(name)["handler_session"]["kind"].clone();
        let expected = match server {
            Server::Sqlite => "sqlite-read-only",
            _ => "read-only-account",
        };
        assert_eq!(session, expected, "{name}");
    }
    assert!(
        env("unset")["detail"]
            .as_str()
            .unwrap()
            .contains("UNSET_DATABASE_URL environment variable not set")
    );
    assert!(
        env("fresh")["detail"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    // The hanging server is given up on after its timeout, and holds up no one.
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    if server != Server::Sqlite {
        assert!(
            env("down")["detail"]
                .as_str()
                .unwrap()
                .contains("within 3 s"),
            "{}",
            env("down")
        );
        for name in ["uptodate", "behind"] {
            assert!(
                env(name)["duration_ms"].as_u64().unwrap() < 3000,
                "{}",
                env(name)
            );
        }
    }

    // Read-only: nothing changed anywhere, and nothing was created.
    assert_eq!(snapshot(&existing, server), before);
    for env in environments {
        assert_account_gone(server, env);
    }
    // One server's databases are read through one role on PostgreSQL,
    // where a session is bound to its database; gone now, so nothing is
    // granted to it anywhere (the server drops no role that still holds a
    // privilege). A MySQL session reaches every database its account is
    // granted: there each reading has an account of its own.
    let read = ["uptodate", "behind", "failed", "edited", "gone"];
    let accounts: BTreeSet<&str> = read
        .iter()
        .filter_map(|name| env(name)["handler_session"]["account"].as_str())
        .collect();
    let expected = match server {
        Server::Postgres => 1,
        Server::Mysql => read.len(),
        Server::Sqlite => 0,
    };
    assert_eq!(accounts.len(), expected, "{server:?}: {accounts:?}");
    assert!(
        !scene.fresh.exists(),
        "the uninitialized database was not created"
    );

    // The exit code for CI, environment by environment.
    for (args, code) in [
        (vec!["uptodate"], 0),
        (vec!["behind"], 4),
        (vec!["uptodate", "behind"], 4),
        (vec!["failed"], 5),
        (vec!["edited"], 5),
        (vec!["gone"], 5),
        (vec!["unset"], 6),
        (vec!["fresh", "behind"], 6),
    ] {
        let mut all = args.clone();
        all.push("--json");
        let run = scene.status(&all);
        assert_eq!(run.code, code, "{args:?}: {}\n{}", run.stdout, run.stderr);
        let report = run.json();
        let expected = if code == 0 { "success" } else { "error" };
        assert_eq!(report["status"], expected, "{args:?}");
        assert_eq!(
            report["result"]["environments"].as_array().unwrap().len(),
            args.len()
        );
    }

    // The matrix, for people: every environment a column, no colour off a terminal.
    let run = scene.status(&[]);
    assert_eq!(run.code, 5);
    assert!(!run.stdout.contains('\x1b'), "{}", run.stdout);
    let header = run.stdout.lines().next().unwrap();
    for name in ENVIRONMENTS {
        assert!(header.contains(name), "{header}");
    }
    let users_line = run
        .stdout
        .lines()
        .find(|line| line.starts_with(USERS.0))
        .unwrap();
    for cell in ["applied", "pending", "modified", "unknown"] {
        assert!(users_line.contains(cell), "{users_line}");
    }
    assert!(run.stdout.contains(GONE), "{}", run.stdout);
}

#[test]
fn every_state_at_once_on_postgresql() {
    every_state_at_once(Server::Postgres);
}

#[test]
fn every_state_at_once_on_mysql() {
    every_state_at_once(Server::Mysql);
}

#[test]
fn every_state_at_once_on_sqlite() {
    every_state_at_once(Server::Sqlite);
}

#[test]
fn unknown_environments_and_a_bad_timeout_are_refused() {
    let project = project(Server::Sqlite);
    let run = project.run(&["status", "nowhere", "--json"], &[]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(
        report["error"],
        "Environment 'nowhere' not found in configuration"
    );
    let run = project.run(&["status", "--timeout", "0", "--json"], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.json()["recovery"]["suggestions"][0]
            .as_str()
            .unwrap()
            .contains("--timeout")
    );
}

/// Schema changed by hand: a column added, an index dropped, a default
/// changed; each named, and a clean database reports none.
fn drift(server: Server) {
    let project = Project::new(server.provider());
    let target = Target::new(server, &unique("fdb_drift"), project.path());
    let env = [("DEV_DATABASE_URL", target.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    project
        .run(&["init", "dev", "--json"], &env)
        .assert_success();
    write_migration(&project, USERS);
    apply_by_hand(&target, USERS, USERS.1);

    let run = project.run(&["status", "dev", "--drift", "--json"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let dev = &run.json()["result"]["environments"][0];
    assert_eq!(dev["state"], "up-to-date");
    assert_eq!(dev["drift"]["status"], "none", "{dev}");
    assert_eq!(dev["drift"]["differences"], json!([]));
    assert!(scratch_databases(server).is_empty());

    target.query("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)");
    target.query(match server {
        Server::Mysql => "DROP INDEX users_name_idx ON users",
        _ => "DROP INDEX users_name_idx",
    });
    match server {
        Server::Postgres => target.query("ALTER TABLE users ALTER COLUMN active SET DEFAULT 0"),
        Server::Mysql => target.query("ALTER TABLE users ALTER COLUMN active SET DEFAULT 0"),
        // SQLite changes a default by rebuilding the table.
        Server::Sqlite => target.query(
            "CREATE TABLE users_new (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, \
             active INTEGER NOT NULL DEFAULT 0, nickname VARCHAR(20)); \
             INSERT INTO users_new SELECT id, name, active, nickname FROM users; \
             DROP TABLE users; ALTER TABLE users_new RENAME TO users",
        ),
    };
    let before = snapshot(&[&target], server);

    let run = project.run(&["status", "dev", "--drift", "--json"], &env);
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    let dev = &run.json()["result"]["environments"][0];
    assert_eq!(dev["state"], "drift");
    assert_eq!(dev["drift"]["status"], "found");
    let mut found: Vec<String> = dev["drift"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {} {}", d["kind"], d["object"], d["change"]).replace('"', ""))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "column users.active changed",
            "column users.nickname added",
            "index users.users_name_idx removed",
        ],
        "{dev}"
    );
    let detail = dev["drift"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["object"] == "users.active")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("default") && detail.contains('1') && detail.contains('0'),
        "{detail}"
    );
    assert_eq!(
        snapshot(&[&target], server),
        before,
        "the database was only read"
    );
    assert!(
        scratch_databases(server).is_empty(),
        "the scratch database is gone"
    );

    // And for people.
    let run = project.run(&["status", "dev", "--drift"], &env);
    assert!(
        run.stdout.contains("column users.nickname added"),
        "{}",
        run.stdout
    );
}

#[test]
fn drift_on_postgresql() {
    drift(Server::Postgres);
}

#[test]
fn drift_on_mysql() {
    drift(Server::Mysql);
}

#[test]
fn drift_on_sqlite() {
    drift(Server::Sqlite);
}

/// Opens the session `status` gives a handler, on the README's
/// superuser/root connection: the server, the host's own session in the
/// database (which removes the account's grants there with it), and the
/// handler's reading session or why there is none.
async fn try_reading_session(
    target: &Target,
    project: &Path,
) -> (
    DbServer,
    faber_db::db::Database,
    faber_db::failure::Outcome<faber_db::db::HandlerSession>,
) {
    let connection = ConnectionString::parse(&target.url(), "TEST_URL", project).unwrap();
    let mut server = DbServer::connect(&connection).await.unwrap();
    let mut admin = server.open(&connection, &target.name).await.unwrap();
    let session = server
        .open_handler_session(
            &mut admin,
            &connection,
            &target.name,
            &SessionPolicy::LeastPrivilege { fallback: false },
            Duration::from_secs(60),
            Access::Read,
        )
        .await;
    (server, admin, session)
}

async fn reading_session(
    target: &Target,
    project: &Path,
) -> (
    DbServer,
    faber_db::db::Database,
    faber_db::db::HandlerSession,
    faber_db::db::Database,
) {
    let (server, admin, session) = try_reading_session(target, project).await;
    let mut session = session.unwrap();
    let database = session.lend().unwrap();
    (server, admin, session, database)
}

/// The session `status` reads through may read its database and nothing
/// more: every write, lock-holding transaction and temporary table fails,
/// refused by the server (or SQLite's engine), with no policy in front.
#[tokio::test]
async fn the_reading_session_can_change_nothing() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = Project::empty();
        let target = Target::new(server, &unique("fdb_reading"), project.path());
        match server {
            Server::Sqlite => std::fs::write(target.file(), b"").unwrap(),
            Server::Postgres => drop(server_query(
                server,
                &format!("CREATE DATABASE \"{}\"", target.name),
            )),
            Server::Mysql => drop(server_query(
                server,
                &format!("CREATE DATABASE `{}`", target.name),
            )),
        }
        target.query("CREATE TABLE kept (x INTEGER PRIMARY KEY)");
        target.query("INSERT INTO kept VALUES (1)");

        let (mut db_server, mut admin, handler, mut session) =
            reading_session(&target, project.path()).await;
        let confinement = handler.confinement().clone();
        let read = session.query("SELECT x FROM kept", &[]).await;
        let mut attacks = vec![
            "INSERT INTO kept VALUES (2)",
            "UPDATE kept SET x = 3",
            "DELETE FROM kept",
            "CREATE TABLE made (x INTEGER)",
            "DROP TABLE kept",
            "ALTER TABLE kept ADD COLUMN y INTEGER",
            "CREATE INDEX kept_x ON kept (x)",
        ];
        attacks.extend(match server {
            Server::Postgres => vec![
                "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; INSERT INTO kept VALUES (4)",
                "BEGIN; LOCK TABLE kept IN ACCESS EXCLUSIVE MODE",
                "SELECT x FROM kept FOR UPDATE",
                "CREATE SCHEMA made",
                "CREATE TABLE public.made (x INTEGER)",
            ],
            Server::Mysql => vec![
                "SET SESSION TRANSACTION READ WRITE; INSERT INTO kept VALUES (4)",
                "LOCK TABLES kept WRITE",
                "CREATE TEMPORARY TABLE made (x INTEGER)",
                "CREATE VIEW made AS SELECT 1",
            ],
            Server::Sqlite => vec!["BEGIN", "BEGIN IMMEDIATE", "SAVEPOINT s", "PRAGMA journal_mode = WAL"],
        });
        let mut outcomes = Vec::new();
        for statement in attacks {
            outcomes.push((statement, session.execute(statement, &[]).await));
            if server == Server::Postgres {
                let _ = session.execute("ROLLBACK", &[]).await;
            }
        }
        session.close().await;
        handler
            .close(&mut db_server, Some(&mut admin), None)
            .await
            .unwrap();
        admin.close().await;
        db_server.close().await;

        assert!(read.is_ok(), "{server:?}: it reads: {read:?}");
        let kind = match server {
            Server::Sqlite => "sqlite-read-only",
            _ => "read-only-account",
        };
        assert_eq!(confinement.kind, kind);
        for (statement, result) in &outcomes {
            assert!(result.is_err(), "{server:?}: {statement} succeeded");
        }
        assert_eq!(target.query("SELECT x FROM kept"), ["1"], "{server:?}");
        let tables = match server {
            Server::Sqlite => target.query("SELECT name FROM sqlite_master"),
            Server::Postgres => target.query(
                "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
            ),
            Server::Mysql => target.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
            ),
        };
        assert!(
            tables.iter().all(|t| t.starts_with("kept")),
            "{server:?}: {tables:?}"
        );
        if let Some(account) = &confinement.account {
            assert!(
                accounts(server, account).is_empty(),
                "{server:?}: {account} is left"
            );
        }
    }
}

/// What Prisma's own `migrate status` prints for `target`.
fn prisma_status(project: &Project, target: &Target) -> String {
    prisma_cli::configure_prisma(project, target, "");
    prisma_cli::prisma(project, &["migrate", "status"]).1
}

/// Prisma's own `migrate status` says the same of each database, except
/// where it says nothing: it does not compare checksums (its `migrate dev`
/// does), and it prints nothing for migrations the database has after the
/// folder's last (its diagnosis `migrationsDirectoryIsBehind`), so it calls
/// the edited and the gone environments up to date where faber-db reports
/// `modified` and `missing`.
fn agrees_with_prisma(server: Server) {
    let scene = scene(server);
    let run = scene.status(&["--json"]);
    let report = run.json();
    for silent in ["edited", "gone"] {
        let prisma = prisma_status(&scene.project, scene.target(silent));
        assert!(
            prisma.contains("Database schema is up to date!"),
            "{silent}: {prisma}"
        );
    }
    for name in ["uptodate", "behind", "failed"] {
        let prisma = prisma_status(&scene.project, scene.target(name));
        let env = report["result"]["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|env| env["name"] == name)
            .unwrap();
        let states = env["migrations"].as_object().unwrap();
        let with = |state: &str| -> Vec<&str> {
            states
                .iter()
                .filter(|(_, s)| *s == state)
                .map(|(name, _)| name.as_str())
                .collect()
        };
        match env["state"].as_str().unwrap() {
            "up-to-date" => assert!(
                prisma.contains("Database schema is up to date!"),
                "{prisma}"
            ),
            "pending" => {
                assert!(prisma.contains("have not yet been applied"), "{prisma}");
                for pending in with("pending") {
                    assert!(prisma.contains(pending), "{pending}: {prisma}");
                }
            }
            "failed" => {
                assert!(prisma.contains("failed"), "{prisma}");
                for failed in with("failed") {
                    assert!(prisma.contains(failed), "{failed}: {prisma}");
                }
            }
            other => panic!("{name} is {other}"),
        }
    }
}

#[test]
fn agrees_with_prisma_on_postgresql() {
    agrees_with_prisma(Server::Postgres);
}

#[test]
fn agrees_with_prisma_on_sqlite() {
    agrees_with_prisma(Server::Sqlite);
}

/// A database without a tracking table is not initialized, and the folder's
/// migrations are still shown, all pending, though no environment could be
/// read.
#[test]
fn a_database_without_tracking_is_not_initialized() {
    let project = Project::new("sqlite");
    let target = Target::new(Server::Sqlite, &unique("fdb_bare"), project.path());
    std::fs::write(target.file(), b"").unwrap();
    write_migration(&project, USERS);
    let run = project.run(
        &["status", "dev", "--json"],
        &[("DEV_DATABASE_URL", &target.url())],
    );
    assert_eq!(run.code, 6, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["result"]["migrations"], json!([USERS.0]));
    let dev = &report["result"]["environments"][0];
    assert_eq!(dev["state"], "not-initialized", "{dev}");
    assert_eq!(dev["migrations"], json!({USERS.0: "pending"}));
    assert!(
        dev["detail"]
            .as_str()
            .unwrap()
            .contains("no tracking table"),
        "{dev}"
    );
    assert_eq!(
        std::fs::read(target.file()).unwrap(),
        b"",
        "nothing was written"
    );
}

/// Where PUBLIC may create (the `public` schema before PostgreSQL 15, or
/// granted by hand), a role with no privileges could still write: a
/// third party's handler is not given a reading session there, the reason
/// and the fix are named, and the role made to find out is gone.
#[tokio::test]
async fn no_reading_session_where_public_may_create() {
    let server = Server::Postgres;
    let project = Project::empty();
    let target = Target::new(server, &unique("fdb_public"), project.path());
    server_query(server, &format!("CREATE DATABASE \"{}\"", target.name));
    target.query("GRANT CREATE ON SCHEMA public TO PUBLIC");
    target.query("CREATE TABLE kept (x INTEGER)");
    let (db_server, admin, refused) = try_reading_session(&target, project.path()).await;
    let failure = refused.err().expect("refused");
    assert!(
        failure.to_string().contains("PUBLIC holds CREATE"),
        "{failure}"
    );
    assert!(
        failure
            .suggestions
            .iter()
            .any(|help| help.contains("REVOKE CREATE ON SCHEMA public FROM PUBLIC")),
        "{:?}",
        failure.suggestions
    );
    // Made and refused in one transaction: no grant to any handler account
    // is left in the database (other tests' accounts come and go meanwhile).
    let granted = target.query(&format!(
        "SELECT count(*) FROM pg_class WHERE relacl::text LIKE '%{HANDLER_ACCOUNTS}%' \
         UNION ALL SELECT count(*) FROM pg_database WHERE datacl::text LIKE '%{HANDLER_ACCOUNTS}%'"
    ));
    assert_eq!(granted, ["0", "0"]);
    admin.close().await;
    db_server.close().await;
}
