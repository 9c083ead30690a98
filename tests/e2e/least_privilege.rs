//! A handler holds only its own database: the server (or SQLite's own
//! engine) enforces it, whatever the statements say. Every test here runs on
//! the superuser/root connection the README sets up, and reads the servers'
//! and the disk's state afterwards.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use faber_db::db::handler_session::owner_account;
use faber_db::db::{Access, ConnectionString, Server as DbServer, SessionPolicy};

use crate::support::servers::{accounts, server_query};
use crate::support::{Project, Run, Server, Target, hostile_project, sha256_hex, unique};

/// What a hostile handler must not change: someone else's database on the
/// same server, a world-writable folder the server could write into, the
/// server's settings and its roles and accounts.
struct Scene {
    server: Server,
    scratch: tempfile::TempDir,
    victim: Target,
    victim_hash: Option<String>,
    settings: Vec<String>,
}

impl Scene {
    fn new(server: Server, project: &Path) -> Scene {
        let scratch = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            scratch.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        let victim = victim(server, project);
        let victim_hash =
            (server == Server::Sqlite).then(|| sha256_hex(&std::fs::read(victim.file()).unwrap()));
        Scene {
            server,
            scratch,
            victim,
            victim_hash,
            settings: global_settings(server),
        }
    }

    /// The servers' and the disk's state afterwards, and that `account`
    /// (the one made for the handler) is gone.
    fn assert_unchanged(&self, account: Option<&str>) {
        let server = self.server;
        assert_victim_intact(&self.victim);
        if let Some(hash) = &self.victim_hash {
            assert_eq!(
                &sha256_hex(&std::fs::read(self.victim.file()).unwrap()),
                hash
            );
        }
        assert_eq!(
            std::fs::read_dir(self.scratch.path()).unwrap().count(),
            0,
            "{server:?}: nothing was written to the disk"
        );
        assert_eq!(global_settings(server), self.settings, "{server:?}");
        assert!(accounts(server, "fdb_evil").is_empty(), "{server:?}");
        if let Some(account) = account {
            assert!(
                accounts(server, account).is_empty(),
                "{server:?}: {account} outlived the call"
            );
        }
        if server == Server::Postgres {
            assert!(
                server_query(
                    server,
                    "SELECT 1 FROM pg_database WHERE datname = 'fdb_evil_db'"
                )
                .is_empty()
            );
        }
        if server == Server::Mysql {
            assert!(
                server_query(
                    server,
                    "SELECT 1 FROM information_schema.schemata WHERE schema_name = 'fdb_evil_db'"
                )
                .is_empty()
            );
        }
    }
}

/// A database of someone else's on the same server, with a row in it.
fn victim(server: Server, project: &Path) -> Target {
    let victim = Target::new(server, &unique("fdb_victim"), project);
    match server {
        Server::Postgres => {
            server_query(server, &format!("CREATE DATABASE \"{}\"", victim.name));
        }
        Server::Mysql => {
            server_query(server, &format!("CREATE DATABASE `{}`", victim.name));
        }
        Server::Sqlite => {}
    }
    if server == Server::Sqlite {
        let status = std::process::Command::new("sqlite3")
            .arg(victim.file())
            .arg("CREATE TABLE precious (x INTEGER); INSERT INTO precious VALUES (1);")
            .status()
            .unwrap();
        assert!(status.success());
    } else {
        victim.query("CREATE TABLE precious (x INTEGER)");
        victim.query("INSERT INTO precious VALUES (1)");
    }
    victim
}

fn assert_victim_intact(victim: &Target) {
    assert_eq!(
        victim.query("SELECT COUNT(*) FROM precious"),
        ["1"],
        "{}",
        victim.name
    );
    if victim.server == Server::Postgres {
        assert_eq!(
            server_query(
                Server::Postgres,
                &format!(
                    "SELECT datallowconn FROM pg_database WHERE datname = '{}'",
                    victim.name
                )
            ),
            ["t"]
        );
    }
}

fn global_settings(server: Server) -> Vec<String> {
    match server {
        Server::Postgres => server_query(
            server,
            "SELECT name || '=' || setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY 1",
        ),
        Server::Mysql => server_query(
            server,
            "SELECT CONCAT(@@global.max_connections, ',', @@global.general_log, ',', @@global.read_only)",
        ),
        Server::Sqlite => Vec::new(),
    }
}

/// The statements tried directly on the session a handler gets, with no
/// policy in front: each must fail because of what the session may do.
fn raw_attacks(server: Server, victim: &Target, scratch: &Path) -> Vec<String> {
    let marker = scratch.join("ran-a-command");
    let file = scratch.join("server-wrote-this");
    let copy = scratch.join("vacuumed.db");
    let victim_name = &victim.name;
    let statements: Vec<String> = match server {
        Server::Postgres => vec![
            "CREATE ROLE fdb_evil_raw SUPERUSER LOGIN".into(),
            "CREATE GROUP fdb_evil_group".into(),
            format!("COPY (SELECT 1) TO PROGRAM 'touch {}'", marker.display()),
            format!("COPY (SELECT 1) TO '{}'", file.display()),
            "ALTER SYSTEM SET work_mem = '77MB'".into(),
            format!("UPDATE pg_database SET datallowconn = false WHERE datname = '{victim_name}'"),
            format!("DROP DATABASE \"{victim_name}\""),
            "CREATE DATABASE fdb_evil_db".into(),
            "CREATE EXTENSION dblink".into(),
            "SELECT pg_read_file('/etc/hostname')".into(),
            "SELECT pg_ls_dir('.')".into(),
            "SET ROLE postgres".into(),
            "SET SESSION AUTHORIZATION postgres".into(),
            "SELECT set_config('role', 'postgres', false)".into(),
            "SELECT pg_reload_conf()".into(),
            "LOAD 'auto_explain'".into(),
        ],
        Server::Mysql => vec![
            "SET GLOBAL max_connections = 997".into(),
            "SET GLOBAL general_log = 1".into(),
            format!("DROP TABLE `{victim_name}`.precious"),
            format!("DROP DATABASE `{victim_name}`"),
            "CREATE DATABASE fdb_evil_db".into(),
            "GRANT ALL ON *.* TO 'fdb_evil_g'@'%' IDENTIFIED BY 'x'".into(),
            "CREATE USER 'fdb_evil_u'@'%'".into(),
            "SELECT user FROM mysql.user".into(),
            format!("SELECT 1 INTO OUTFILE '{}'", file.display()),
        ],
        Server::Sqlite => vec![
            format!("VACUUM main INTO '{}'", copy.display()),
            format!("VACUUM INTO '{}'", copy.display()),
            format!("ATTACH DATABASE '{}' AS other", victim.file().display()),
            "PRAGMA writable_schema = 1".into(),
            "PRAGMA database_list".into(),
            "PRAGMA journal_mode = OFF".into(),
            "SELECT load_extension('/nonexistent/evil')".into(),
        ],
    };
    statements
}

/// Opens the handler's session exactly as `init` does, on the README's
/// superuser/root connection, and returns it with the server connection.
async fn handler_session(
    target: &Target,
    project: &Path,
) -> (
    DbServer,
    ConnectionString,
    faber_db::db::HandlerSession,
    faber_db::db::Database,
) {
    let connection = ConnectionString::parse(&target.url(), "TEST_URL", project).unwrap();
    let mut server = DbServer::connect(&connection).await.unwrap();
    if target.server == Server::Sqlite {
        std::fs::write(target.file(), b"").unwrap();
    } else {
        server_query(
            target.server,
            &match target.server {
                Server::Postgres => format!("CREATE DATABASE \"{}\"", target.name),
                _ => format!("CREATE DATABASE `{}`", target.name),
            },
        );
    }
    let mut admin = server.open(&connection, &target.name).await.unwrap();
    let mut handler = server
        .open_handler_session(
            &mut admin,
            &connection,
            &target.name,
            &SessionPolicy::LeastPrivilege { fallback: false },
            Duration::from_secs(60),
            Access::Write,
        )
        .await
        .unwrap();
    admin.close().await;
    let session = handler.lend().unwrap();
    (server, connection, handler, session)
}

#[tokio::test]
async fn the_database_itself_confines_the_handler_session() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = Project::empty();
        let scene = Scene::new(server, project.path());
        let target = Target::new(server, &unique("fdb_confined"), project.path());

        let (mut db_server, connection, handler, mut session) =
            handler_session(&target, project.path()).await;
        let confinement = handler.confinement().clone();
        let mut outcomes = Vec::new();
        for statement in raw_attacks(server, &scene.victim, scene.scratch.path()) {
            let result = session.execute(&statement, &[]).await;
            outcomes.push((statement, result));
        }
        // What the session may do: create, fill and read its own tables.
        session
            .execute("CREATE TABLE own (x INTEGER)", &[])
            .await
            .unwrap();
        session
            .execute("INSERT INTO own VALUES (1)", &[])
            .await
            .unwrap();
        session.close().await;
        let mut admin = db_server.open(&connection, &target.name).await.unwrap();
        handler
            .close(&mut db_server, Some(&mut admin), None)
            .await
            .unwrap();
        admin.close().await;
        db_server.close().await;

        for (statement, result) in &outcomes {
            assert!(result.is_err(), "{server:?}: {statement} succeeded");
        }
        let denied = outcomes
            .iter()
            .filter(|(_, result)| result.as_ref().is_err_and(|err| err.denied))
            .count();
        assert!(
            denied * 2 >= outcomes.len(),
            "{server:?}: most are privilege denials: {outcomes:?}"
        );
        scene.assert_unchanged(confinement.ephemeral_account());
        if server == Server::Postgres {
            assert!(
                target
                    .query("SELECT 1 FROM pg_extension WHERE extname = 'dblink'")
                    .is_empty()
            );
        }
        assert_eq!(target.query("SELECT COUNT(*) FROM own"), ["1"]);
    }
}

/// What a hostile handler built against `wit/` sends through `init`: the
/// README's classes of escape, each spelled to slip past a word list.
fn attack_script(server: Server, victim: &Target, scratch: &Path) -> String {
    let marker = scratch.join("ran-a-command");
    let file = scratch.join("server-wrote-this");
    let victim_name = &victim.name;
    let statements: Vec<String> = match server {
        Server::Postgres => vec![
            "DO $$ BEGIN EXECUTE 'CREATE ROLE fdb_evil_do SUPER' || 'USER LOGIN'; END $$".into(),
            format!("DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PRO' || 'GRAM ''touch {}'''; END $$", marker.display()),
            format!("DO $$ BEGIN EXECUTE 'CO' || 'PY (SELECT 1) TO ''{}'''; END $$", file.display()),
            "CREATE EXTENSION IF NOT EXISTS dblink".into(),
            format!("SELECT \"dblink_exec\"('dbname={victim_name}', 'DROP TABLE precious')"),
            format!("DO $$ BEGIN EXECUTE 'UPDATE pg_' || 'database SET datallowconn = false WHERE datname = ''{victim_name}'''; END $$"),
            "CREATE TABLE loot (data TEXT)".into(),
            "DO $$ BEGIN EXECUTE 'INSERT INTO loot SELECT pg_read' || '_file(''/etc/hostname'')'; END $$".into(),
            "DO $$ BEGIN EXECUTE 'INSERT INTO loot SELECT pg_ls' || '_dir(''.'')'; END $$".into(),
            "CREATE GROUP fdb_evil_group".into(),
            "SET SESSION ROLE postgres".into(),
            "DO $$ BEGIN EXECUTE 'SELECT set_' || 'config(''role'', ''postgres'', false)'; EXECUTE 'CREATE ROLE fdb_evil_cfg'; END $$".into(),
            "DO $$ BEGIN EXECUTE 'SELECT pg_reload' || '_conf()'; END $$".into(),
            "ALTER SYSTEM SET work_mem = '77MB'".into(),
            "SELECT 'a\\'; CREATE ROLE fdb_evil_bs LOGIN; -- '".into(),
            "SELECT 1 AS a$b; CREATE ROLE fdb_evil_dollar; SELECT $b".into(),
        ],
        Server::Mysql => vec![
            "SET @q = CONCAT('SET GLOBAL max_', 'connections = 997')".into(),
            "PREPARE s FROM @q".into(),
            "EXECUTE s".into(),
            format!("SET @q = CONCAT('DROP TABLE ', '{victim_name}', '.precious')"),
            "PREPARE d FROM @q".into(),
            "EXECUTE d".into(),
            "SET @q = CONCAT('GRANT ALL ON *.* TO ', '''fdb_evil_g''@''%'' IDENTIFIED BY ''x''')".into(),
            "PREPARE g FROM @q".into(),
            "EXECUTE g".into(),
            "CREATE TABLE loot (data TEXT)".into(),
            "SET @q = CONCAT('INSERT INTO loot SELECT user FROM ', 'mysql', '.user')".into(),
            "PREPARE r FROM @q".into(),
            "EXECUTE r".into(),
            format!("SET @q = CONCAT('SELECT 1 INTO OUT', 'FILE ''{}''')", file.display()),
            "PREPARE o FROM @q".into(),
            "EXECUTE o".into(),
            "SELECT 1 /*!50000 ; SET GLOBAL max_connections = 998 */".into(),
            "SELECT 1 # '\n; CREATE USER fdb_evil_hash".into(),
        ],
        Server::Sqlite => vec![
            format!("VACUUM main INTO '{}'", file.display()),
            format!("SELECT 'a\\'; ATTACH '{}' AS other; --'", victim.file().display()),
            "PRAGMA \"writable_schema\" = 1".into(),
            "SELECT load_extension('/nonexistent/evil')".into(),
        ],
    };
    statements.join("\n-- next\n")
}

fn init(project: &Project, target: &Target) -> Run {
    project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", &target.url())],
    )
}

#[test]
fn a_hostile_handler_through_init_changes_nothing_outside_its_database() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = hostile_project(server.provider(), json!({}));
        let scene = Scene::new(server, project.path());
        std::fs::create_dir_all(project.migrations()).unwrap();
        std::fs::write(
            project.migrations().join("attack.sql"),
            attack_script(server, &scene.victim, scene.scratch.path()),
        )
        .unwrap();
        let target = Target::new(server, &unique("attack__fdb"), project.path());

        let report = init(&project, &target).assert_success();

        // The report and the log say what was refused, though the handler
        // swallowed every error.
        let sql = &report["result"]["handler_sql"];
        let stopped = sql["refused"].as_u64().unwrap() + sql["denied"].as_u64().unwrap();
        assert!(stopped >= 3, "{server:?}: {report}");
        let log: Value =
            serde_json::from_str(project.operation_log().lines().last().unwrap()).unwrap();
        assert_eq!(log["handler_sql"], *sql);

        let session = &report["result"]["handler_session"];
        let account = session["account"].as_str();
        let owner = owner_account(&target.name);
        match server {
            Server::Sqlite => assert_eq!(session["kind"], "sqlite-authorizer"),
            Server::Postgres => {
                assert_eq!(session["kind"], "ephemeral-account", "{report}");
                scene.assert_unchanged(account);
            }
            Server::Mysql => {
                // The database's owner account stays, locked, with its one
                // database; nothing else of the handler's does.
                assert_eq!(session["kind"], "database-account", "{report}");
                assert_eq!(account, Some(owner.as_str()));
                scene.assert_unchanged(None);
                assert_owner_locked_to(&target);
            }
        }
        if server != Server::Sqlite {
            assert_eq!(
                target.query("SELECT COUNT(*) FROM loot"),
                ["0"],
                "{server:?}"
            );
        }
        if server == Server::Postgres {
            assert!(
                target
                    .query("SELECT 1 FROM pg_extension WHERE extname = 'dblink'")
                    .is_empty()
            );
            // What the handler created belongs to the database's owner
            // role, which holds nothing outside it.
            assert_eq!(
                target.query(
                    "SELECT tableowner FROM pg_tables WHERE tablename IN ('hostile', 'loot') GROUP BY tableowner"
                ),
                [owner.as_str()]
            );
            assert_eq!(
                server_query(
                    server,
                    &format!(
                        "SELECT rolcanlogin::text || rolsuper::text || rolcreaterole::text || rolcreatedb::text \
                         || (SELECT COUNT(*) FROM pg_auth_members WHERE member = r.oid)::text \
                         FROM pg_roles r WHERE rolname = '{owner}'"
                    )
                ),
                ["falsefalsefalsefalse0"]
            );
        }
    }
}

/// The MySQL owner account of `target`'s database: locked between runs,
/// privileges on that database only.
fn assert_owner_locked_to(target: &Target) {
    let owner = owner_account(&target.name);
    let created = server_query(
        Server::Mysql,
        &format!(
            "SELECT CONCAT(\"'\", user, \"'@'\", host, \"'\") FROM mysql.user WHERE user = '{owner}'"
        ),
    );
    assert_eq!(created.len(), 1, "{owner}: {created:?}");
    let shown = server_query(Server::Mysql, &format!("SHOW CREATE USER {}", created[0]));
    assert!(shown.concat().contains("ACCOUNT LOCK"), "{shown:?}");
    let grants = server_query(Server::Mysql, &format!("SHOW GRANTS FOR {}", created[0]));
    assert!(
        grants
            .iter()
            .all(|grant| grant.starts_with("GRANT USAGE ON *.*")
                || grant.replace('\\', "").contains(&target.name)),
        "{grants:?}"
    );
}

/// What a handler leaves in its database never runs with anyone else's
/// privileges: `init` refuses a routine or a view the handler made (here a
/// SECURITY DEFINER one, which would run as its owner, and a tracking
/// "table" that is a view calling a routine), removes what the run created,
/// and never runs the trap on the host's session.
#[test]
fn what_a_handler_leaves_behind_never_runs_with_the_connections_privileges() {
    let server = Server::Postgres;
    let project = hostile_project(server.provider(), json!({}));
    std::fs::create_dir_all(project.migrations()).unwrap();
    let script = project.migrations().join("attack.sql");

    std::fs::write(
        &script,
        "CREATE FUNCTION hostile_definer() RETURNS integer LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
    )
    .unwrap();
    let target = Target::new(server, &unique("attack__fdb"), project.path());
    let report = refused_init(&project, &target);
    assert!(
        report
            .to_string()
            .contains("function public.hostile_definer()"),
        "{report}"
    );

    let trap = unique("fdb_trap");
    std::fs::write(
        &script,
        format!(
            "CREATE FUNCTION hostile_trap() RETURNS text LANGUAGE plpgsql AS $$ BEGIN CREATE ROLE {trap}; RETURN 'x'; END $$\n-- next\n\
             CREATE VIEW hostile AS SELECT hostile_trap() AS name"
        ),
    )
    .unwrap();
    let target = Target::new(server, &unique("booby-trap__fdb"), project.path());
    let report = refused_init(&project, &target);
    for named in ["function public.hostile_trap()", "view public.hostile"] {
        assert!(report.to_string().contains(named), "{named}: {report}");
    }
    assert!(accounts(server, &trap).is_empty(), "the trap never ran");
    assert!(
        accounts(server, "fdb_h_")
            .iter()
            .all(|account| { !report.to_string().contains(account.as_str()) })
    );
}

/// `init` that fails at step 13 for what the handler left, with the
/// database it created and the database's owner role gone; its report.
fn refused_init(project: &Project, target: &Target) -> Value {
    let run = init(project, target);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = run.json();
    assert_eq!(report["step"]["number"], 13, "{report}");
    assert!(!target.exists(), "the database is gone");
    assert!(
        accounts(target.server, &owner_account(&target.name)).is_empty(),
        "its owner role is gone"
    );
    report
}
