//! Faults, races and hostile input: nothing that existed is lost, nothing
//! this run created is left half-done without saying so, nothing leaks.

use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::servers::server_query;
use crate::support::{
    Project, Run, Server, Target, assert_never_shown, component, files_under, hostile_project,
    unique,
};

fn init(project: &Project, target: &Target, extra: &[&str]) -> Run {
    let mut args = vec!["init", "dev", "--json"];
    args.extend_from_slice(extra);
    project.run(&args, &[("DEV_DATABASE_URL", &target.url())])
}

fn assert_cleaned_up(run: &Run, target: &Target, step: u64) -> Value {
    let report = run.json();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(report["step"]["number"], step, "{report}");
    assert!(
        !target.exists(),
        "the database this run created is gone: {report}"
    );
    assert!(
        report["recovery"]["cleanup"]
            .to_string()
            .contains("dropped database"),
        "{report}"
    );
    report
}

#[test]
fn a_handler_that_traps_halfway_leaves_nothing_behind() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = hostile_project(server.provider(), json!({}));
        let target = Target::new(server, &unique("trap__fdb"), project.path());
        let run = init(&project, &target, &[]);
        let report = assert_cleaned_up(&run, &target, 13);
        assert!(
            report["cause"]
                .as_str()
                .unwrap()
                .contains("deliberate trap"),
            "{report}"
        );
    }
}

#[test]
fn sql_that_leaves_the_database_is_refused() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = hostile_project(server.provider(), json!({}));
        let target = Target::new(server, &unique("escape-sql__fdb"), project.path());
        let report = assert_cleaned_up(&init(&project, &target, &[]), &target, 13);
        let cause = report["cause"].as_str().unwrap();
        assert!(
            cause.contains("denied: all 8 escapes refused by policy"),
            "{server:?}: {cause}"
        );
        assert!(!cause.contains("LEAKED"));
    }
    assert!(
        server_query(
            Server::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = 'hostile_escape'"
        )
        .is_empty()
    );
    assert!(!std::path::Path::new("/tmp/hostile-attached.db").exists());
}

#[test]
fn writes_outside_the_migrations_folder_fail_even_through_a_symlink() {
    let outside = tempfile::tempdir().unwrap();
    let project = hostile_project("sqlite", json!({}));
    let migrations = project.path().join("prisma/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::os::unix::fs::symlink(outside.path(), migrations.join("link")).unwrap();
    let target = Target::new(Server::Sqlite, &unique("escape-files__fdb"), project.path());
    let report = init(&project, &target, &[]).json();
    let cause = report["cause"].as_str().unwrap();
    assert!(cause.contains("denied"), "{cause}");
    assert!(!cause.contains("LEAKED"), "{cause}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert!(!project.path().join("prisma/outside.txt").exists());
    assert!(!std::path::Path::new("/tmp/outside.txt").exists());
}

#[test]
fn a_host_call_that_never_returns_is_cut_off_and_cleaned_up() {
    let project = hostile_project("postgresql", json!({"timeout_seconds": 2}));
    let target = Target::new(Server::Postgres, &unique("sleep-sql__fdb"), project.path());
    let started = Instant::now();
    let report = assert_cleaned_up(&init(&project, &target, &[]), &target, 13);
    assert!(
        report["cause"]
            .as_str()
            .unwrap()
            .contains("did not finish within 2s"),
        "{report}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn the_server_dropping_the_connection_mid_initialization_is_reported_and_cleaned_up() {
    let project = hostile_project("postgresql", json!({}));
    let target = Target::new(Server::Postgres, &unique("pause__fdb"), project.path());
    let child = project
        .command(&["init", "dev", "--json"])
        .env("DEV_DATABASE_URL", target.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The handler pauses before its first statement; end its session meanwhile.
    let deadline = Instant::now() + Duration::from_secs(20);
    let terminated = loop {
        let killed = server_query(
            Server::Postgres,
            &format!(
                // The handler's own session: it logs in as the account
                // the host made for the call.
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{}' AND usename LIKE 'fdb\\_h\\_%'",
                target.name
            ),
        );
        if !killed.is_empty() {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(terminated, "the handler's session never appeared");
    let run = Run::from(child.wait_with_output().unwrap());
    let report = assert_cleaned_up(&run, &target, 13);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("Handler hostile-handler failed"),
        "{report}"
    );
}

/// Kills `init` with SIGKILL right after `step`, then runs it again.
fn killed_after(server: Server, step: u8) {
    let project = Project::new(server.provider());
    let target = Target::new(server, &unique(&format!("fdb_kill{step}")), project.path());
    let killed = project
        .command(&["init", "dev", "--json"])
        .env("DEV_DATABASE_URL", target.url())
        .env("FABER_DB_FAILPOINT", format!("kill-after-step:{step}"))
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        killed.status.signal(),
        Some(9),
        "step {step}: the failpoint kills the process"
    );

    let again = init(&project, &target, &[]);
    let report = match step {
        ..=11 => again.assert_success(),
        12..=14 => {
            let refused = again.json();
            assert_eq!(again.code, 1);
            assert!(
                refused["error"]
                    .as_str()
                    .unwrap()
                    .contains("left unfinished by an interrupted run"),
                "step {step}: {refused}"
            );
            assert!(
                refused["recovery"]["suggestions"][0]
                    .as_str()
                    .unwrap()
                    .contains("--resume")
            );
            assert!(target.exists(), "nothing is dropped without being asked");
            init(&project, &target, &["--resume"]).assert_success()
        }
        _ => {
            let refused = again.json();
            assert_eq!(
                refused["error"], "Database already exists",
                "step {step}: {refused}"
            );
            return assert_initialized(&project, &target);
        }
    };
    assert_eq!(report["status"], "success");
    assert_initialized(&project, &target);
}

fn assert_initialized(project: &Project, target: &Target) {
    assert_eq!(project.migration_dirs().len(), 1);
    assert_eq!(
        target.query("SELECT count(*) FROM _prisma_migrations"),
        vec!["1"]
    );
    let marker = match target.server {
        Server::Sqlite => "SELECT count(*) FROM sqlite_master WHERE name = '_faber_db_in_progress'",
        // On MariaDB information_schema spans every database: this one only.
        Server::Mysql => {
            "SELECT count(*) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = '_faber_db_in_progress'"
        }
        Server::Postgres => {
            "SELECT count(*) FROM information_schema.tables WHERE table_name = '_faber_db_in_progress'"
        }
    };
    assert_eq!(
        target.query(marker),
        vec!["0"],
        "the in-progress marker is gone: {:?} {}",
        target.server,
        target.name
    );
}

#[test]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the failpoints feature (bash tests/run.sh turns it on)"
)]
fn a_run_killed_at_any_step_boundary_can_be_completed() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        for step in 1..=16 {
            killed_after(server, step);
        }
    }
}

#[test]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the failpoints feature (bash tests/run.sh turns it on)"
)]
fn a_run_that_meets_another_run_creating_the_database_waits_for_it() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = Project::new(server.provider());
        let target = Target::new(server, &unique("fdb_meet"), project.path());
        // The first run stops for a while right after creating the database.
        let first = project
            .command(&["init", "dev", "--json"])
            .env("DEV_DATABASE_URL", target.url())
            .env("FABER_DB_FAILPOINT", "pause-after-step:12:1500")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !target.exists() {
            assert!(
                Instant::now() < deadline,
                "{server:?}: the first run created nothing"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let second = init(&project, &target, &[]);
        let first = Run::from(first.wait_with_output().unwrap());
        first.assert_success();
        let report = second.json();
        assert_eq!(
            report["error"], "Database already exists",
            "{server:?}: {report}"
        );
        assert!(
            report["cause"]
                .as_str()
                .unwrap()
                .contains("while this one waited"),
            "{server:?}: {report}"
        );
        assert!(
            second.stderr.contains("waiting for another faber-db run"),
            "{}",
            second.stderr
        );
        assert_initialized(&project, &target);
    }
}

#[test]
fn an_empty_database_made_outside_faber_db_is_adopted_only_when_asked() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = Project::new(server.provider());
        let target = Target::new(server, &unique("fdb_outside"), project.path());
        match server {
            Server::Sqlite => std::fs::write(target.file(), b"").unwrap(),
            Server::Postgres => {
                server_query(server, &format!("CREATE DATABASE {}", target.name));
            }
            Server::Mysql => {
                server_query(server, &format!("CREATE DATABASE {}", target.name));
            }
        }
        for extra in [&[][..], &["--resume"][..]] {
            let refused = init(&project, &target, extra);
            let report = refused.json();
            assert_eq!(refused.code, 1, "{report}");
            assert!(
                report["error"]
                    .as_str()
                    .unwrap()
                    .contains("exists and is empty"),
                "{server:?} {extra:?}: {report}"
            );
            assert!(
                report["recovery"]["suggestions"][0]
                    .as_str()
                    .unwrap()
                    .contains("--adopt")
            );
            assert!(target.exists(), "nothing is dropped");
            assert!(!project.migrations().exists(), "nothing is written");
        }
        let adopted = init(&project, &target, &["--adopt"]).assert_success();
        assert_eq!(adopted["result"]["database_created"], false);
        assert_initialized(&project, &target);
    }
}

#[test]
fn resume_never_adopts_a_database_with_other_content() {
    let project = Project::new("postgresql");
    let target = Target::new(Server::Postgres, &unique("fdb_foreign"), project.path());
    server_query(
        Server::Postgres,
        &format!("CREATE DATABASE {}", target.name),
    );
    target.query("CREATE TABLE customers (id INTEGER)");
    let run = init(&project, &target, &["--resume"]);
    let report = run.json();
    assert_eq!(report["error"], "Database already exists");
    assert!(
        report["cause"]
            .as_str()
            .unwrap()
            .contains("--resume and --adopt apply only")
    );
    assert_eq!(target.query("SELECT count(*) FROM customers"), vec!["0"]);
}

#[test]
fn a_read_only_or_full_disk_for_sqlite_fails_cleanly() {
    let mount = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(mount.path())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        mounted,
        "this test needs to mount a tmpfs (run the suite as root, as tests/run.sh does in CI)"
    );
    struct Unmount<'a>(&'a std::path::Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(mount.path());
    // Fill the disk, leaving no block free.
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", mount.path().join("filler").display()))
        .stderr(Stdio::null())
        .status();
    let project = Project::new("sqlite");
    let url = format!("file:{}/full.db", mount.path().display());
    let run = project.run(&["init", "dev", "--json"], &[("DEV_DATABASE_URL", &url)]);
    let report = run.json();
    assert_eq!(run.code, 1, "{report}");
    // The new database cannot even take its in-progress marker.
    assert_eq!(report["step"]["number"], 12, "{report}");
    assert!(
        report["cause"].as_str().unwrap().contains("full"),
        "{report}"
    );
    assert!(!mount.path().join("full.db").exists(), "{report}");
    assert!(!project.migrations().exists(), "{report}");
    assert!(
        report["recovery"]["cleanup"][0]
            .as_str()
            .unwrap()
            .starts_with("dropped database full"),
        "{report}"
    );

    // Read-only: the same folder remounted so.
    std::fs::remove_file(mount.path().join("filler")).unwrap();
    let remounted = std::process::Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(mount.path())
        .status()
        .unwrap();
    assert!(remounted.success());
    let run = project.run(
        &["init", "dev", "--json", "--database-name", "readonly"],
        &[("DEV_DATABASE_URL", &url)],
    );
    let report = run.json();
    assert_eq!(run.code, 1);
    assert_eq!(report["step"]["number"], 12, "{report}");
    assert!(
        report["cause"].as_str().unwrap().contains("Read-only"),
        "{report}"
    );
}

#[test]
fn four_racing_runs_for_one_database_leave_one_intact_winner() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = Project::new(server.provider());
        seed_migration(&project);
        let target = Target::new(server, &unique("fdb_race4"), project.path());
        let children: Vec<_> = (0..4)
            .map(|_| {
                project
                    .command(&["init", "dev", "--json"])
                    .env("DEV_DATABASE_URL", target.url())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let runs: Vec<Run> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap().into())
            .collect();
        assert_eq!(runs.iter().filter(|r| r.code == 0).count(), 1, "{server:?}");
        for loser in runs.iter().filter(|r| r.code != 0) {
            assert_eq!(
                loser.json()["error"],
                "Database already exists",
                "{}",
                loser.stdout
            );
        }
        assert_seeded_migration_ran_once(&project, &target);
    }
}

/// A first migration with real SQL, so that "recorded as applied" can be
/// checked against what the SQL did.
fn seed_migration(project: &Project) {
    let dir = project.migrations().join("20240101000000_accounts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("migration.sql"),
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL);\n",
    )
    .unwrap();
}

/// The seeded migration is recorded once, and its SQL ran (once: a second
/// run of it would have failed on the existing table).
fn assert_seeded_migration_ran_once(project: &Project, target: &Target) {
    assert_eq!(project.migration_dirs(), ["20240101000000_accounts"]);
    assert_eq!(
        target.query("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL"),
        ["20240101000000_accounts"]
    );
    assert_eq!(target.query("SELECT count(*) FROM accounts"), ["0"]);
}

#[test]
fn racing_environments_share_one_baseline() {
    let envs = ["dev", "staging", "qa", "test"];
    let project = Project::with_config(&json!({
        "database": {"provider": "postgresql"},
        "environments": envs.iter().map(|e| (e.to_string(), json!({"connection_string_env": format!("{}_URL", e.to_uppercase())}))).collect::<serde_json::Map<_, _>>(),
    }));
    seed_migration(&project);
    let targets: Vec<Target> = envs
        .iter()
        .map(|e| {
            Target::new(
                Server::Postgres,
                &unique(&format!("fdb_{e}")),
                project.path(),
            )
        })
        .collect();
    let children: Vec<_> = envs
        .iter()
        .zip(&targets)
        .map(|(env, target)| {
            project
                .command(&["init", env, "--json"])
                .env(format!("{}_URL", env.to_uppercase()), target.url())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        Run::from(child.wait_with_output().unwrap()).assert_success();
    }
    for target in &targets {
        assert_seeded_migration_ran_once(&project, target);
    }
}

#[test]
fn a_failure_removes_the_files_this_run_wrote_and_keeps_the_others() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = hostile_project(server.provider(), json!({}));
        seed_migration(&project);
        let before = files_under(&project.migrations());
        let target = Target::new(server, &unique("write-then-fail__fdb"), project.path());
        let report = assert_cleaned_up(&init(&project, &target, &[]), &target, 13);
        assert_eq!(
            files_under(&project.migrations()),
            before,
            "{server:?}: exactly the files that were there, byte for byte"
        );
        let cleanup = report["recovery"]["cleanup"].to_string();
        assert!(
            cleanup.contains("20990101000000_hostile") && cleanup.contains("stray.txt"),
            "{cleanup}"
        );
    }
}

#[test]
fn hostile_input_gets_a_clear_error_or_is_handled_safely() {
    // Reserved words are valid, quoted names.
    for server in [Server::Postgres, Server::Mysql] {
        let project = Project::new(server.provider());
        let target = Target::new(server, "select", project.path());
        target.drop_database();
        project
            .run(
                &["init", "dev", "--json", "--database-name", "select"],
                &[("DEV_DATABASE_URL", &target.url())],
            )
            .assert_success();
    }
    let project = Project::new("sqlite");
    let refused = |args: &[&str], env: &[(&str, &str)], step: u64, needle: &str| {
        let run = project.run(args, env);
        let report = run.json();
        assert_eq!(run.code, 1, "{report}");
        assert_eq!(report["step"]["number"], step, "{report}");
        assert!(report.to_string().contains(needle), "{needle}: {report}");
    };
    refused(
        &["init", "../dev", "--json"],
        &[],
        1,
        "Invalid environment name",
    );
    refused(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", "postgresql://u:p@/x")],
        5,
        "not a valid connection string",
    );
    refused(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", "sqlite::memory:")],
        5,
        "in-memory",
    );
    refused(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", "file:./%FF%FE.db")],
        5,
        "UTF-8",
    );
    let mut raw = project.command(&["init", "dev", "--json"]);
    raw.env(
        "DEV_DATABASE_URL",
        std::ffi::OsStr::from_bytes(b"file:./\xff.db"),
    );
    let run = Run::from(raw.output().unwrap());
    assert_eq!(run.json()["error"], "DEV_DATABASE_URL is not valid UTF-8");

    let big = format!(
        "{{\"database\": {{}}, \"padding\": \"{}\"}}",
        "x".repeat(4 << 20)
    );
    project.write_config(&big);
    refused(
        &["init", "dev", "--json"],
        &[],
        3,
        "Configuration too large",
    );
    project.write_config(&format!("{{\"database\": {}}}", "[".repeat(10_000)));
    refused(&["init", "dev", "--json"], &[], 3, "Invalid configuration");
    project.write_config(
        &json!({
            "database": {"provider": "sqlite"},
            "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"}},
            "migrations": {"directory": "../../etc"}
        })
        .to_string(),
    );
    refused(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", "file:./x.db")],
        3,
        "points outside the project",
    );
    assert!(!project.path().join("x.db").exists());
}

#[test]
fn a_password_appears_in_no_output_log_or_file() {
    const PASSWORD: &str = "Sup3rS3cretPassw0rdXyz";
    let project = Project::with_config(&json!({
        "database": {"provider": "postgresql"},
        "environments": {
            "dev": {"connection_string_env": "DEV_DATABASE_URL"},
            "staging": {"connection_string_env": "STAGING_DATABASE_URL"},
            "production": {"connection_string_env": "PROD_DATABASE_URL", "require_approval": true},
            "down": {"connection_string_env": "DOWN_DATABASE_URL"},
            "typo": {"connection_string_env": "TYPO_DATABASE_URL"}
        },
        "integration": {"logs_plugin": "fractary-logs"}
    }));
    let dev = Target::new(Server::Postgres, &unique("fdb_secret"), project.path());
    let prod = Target::new(Server::Postgres, &unique("fdb_secret_prod"), project.path());
    let env = [
        ("DEV_DATABASE_URL", dev.url_with_password(PASSWORD)),
        (
            "STAGING_DATABASE_URL",
            format!(
                "postgresql://postgres:{PASSWORD}@127.0.0.1:5432/fdb_secret_{}?sslpassword={PASSWORD}",
                std::process::id()
            ),
        ),
        ("PROD_DATABASE_URL", prod.url_with_password(PASSWORD)),
        (
            "DOWN_DATABASE_URL",
            format!("postgresql://postgres:{PASSWORD}@127.0.0.1:1/nowhere"),
        ),
        (
            "TYPO_DATABASE_URL",
            format!("postgersql://postgres:{PASSWORD}@127.0.0.1/x"),
        ),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let hostile = component("hostile-handler").display().to_string();
    let prisma = component("handler-db-prisma").display().to_string();
    let scratch_dir = tempfile::tempdir().unwrap();
    let scratch = scratch_dir.path().display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["init", "dev", "--json"],
        vec!["init", "dev", "--json"],
        vec!["init", "dev", "-vv"],
        vec![
            "init",
            "dev",
            "--dry-run",
            "--database-name",
            "other",
            "-vv",
        ],
        vec!["init", "staging", "--dry-run", "--json"],
        vec!["init", "production", "--json"],
        vec!["init", "production"],
        vec!["init", "down", "--json"],
        vec!["init", "down"],
        vec!["init", "typo", "--json"],
        vec!["init", "typo"],
        vec!["status", "--json", "--drift"],
        vec!["status", "-vv", "--drift"],
        vec!["status", "dev", "staging"],
        vec!["handler", "list", "--json"],
        vec!["handler", "list"],
        vec!["handler", "verify"],
        vec!["handler", "verify", "--json"],
        vec!["handler", "info", "handler-db-prisma"],
        vec!["handler", "info", "handler-db-prisma", "--json"],
        vec!["handler", "add", &hostile, "--json"],
        vec!["handler", "add", &hostile],
        vec!["handler", "remove", "hostile-handler", "--json"],
        vec!["handler", "test", &prisma, "--json"],
        vec!["handler", "test", &prisma],
        vec!["handler", "new", "handler-db-secretive", "--dir", &scratch],
        vec!["handler", "install", "--json"],
        vec!["handler", "outdated"],
        vec!["handler", "update", "handler-db-prisma", "--json"],
        vec!["config", "schema"],
    ];
    let mut outputs = Vec::new();
    for args in &commands {
        let run = project.run(args, &env);
        outputs.push((format!("{args:?} stdout"), run.stdout));
        outputs.push((format!("{args:?} stderr"), run.stderr));
    }
    let blank = Project::empty();
    for args in [
        &["config", "init", "--yes", "--json"][..],
        &["config", "init", "--yes", "--force"][..],
    ] {
        let run = blank.run(args, &env);
        outputs.push((format!("{args:?} stdout"), run.stdout));
        outputs.push((format!("{args:?} stderr"), run.stderr));
    }
    // A run that fails after creating its database, and cleans up.
    let failing = hostile_project("postgresql", json!({}));
    let doomed = Target::new(Server::Postgres, &unique("trap__fdb"), failing.path());
    for args in [&["init", "dev", "--json"][..], &["init", "dev", "-vv"][..]] {
        let run = failing.run(
            args,
            &[("DEV_DATABASE_URL", &doomed.url_with_password(PASSWORD))],
        );
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(
            format!("{}{}", run.stdout, run.stderr).contains("dropped database"),
            "the cleanup path ran: {}{}",
            run.stdout,
            run.stderr
        );
        outputs.push((format!("cleanup {args:?} stdout"), run.stdout));
        outputs.push((format!("cleanup {args:?} stderr"), run.stderr));
    }
    // A failed authentication, whose message comes from the server.
    let mysql = Project::new("mysql");
    let run = mysql.run(
        &["init", "dev", "--json", "-vv"],
        &[(
            "DEV_DATABASE_URL",
            &format!("mysql://root:{PASSWORD}@127.0.0.1:3306/fdb_nope"),
        )],
    );
    assert_eq!(run.code, 1);
    outputs.push(("mysql stdout".into(), run.stdout));
    outputs.push(("mysql stderr".into(), run.stderr));
    assert!(
        project.operation_log().lines().count() >= 8,
        "every run was logged"
    );
    assert_never_shown(
        PASSWORD,
        &outputs,
        &[
            project.path(),
            mysql.path(),
            failing.path(),
            blank.path(),
            scratch_dir.path(),
        ],
    );
}
