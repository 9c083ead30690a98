//! Defects a team meets in its first days with faber-db, each reproduced
//! as a user met it: usage errors that break a script reading `--json`, a
//! typo in an environment's name, run-time files that dirty the working
//! tree, and SQL appended to a generated migration that never ran.

use std::process::Command;

use crate::support::{Project, Server, Target, unique};

/// With `--json`, a command line clap refuses is one JSON document too
/// (operation `usage`, exit code 2), so a script parsing the output reads
/// the error instead of failing on text.
#[test]
fn usage_errors_with_json_are_one_json_document() {
    let project = Project::new("sqlite");
    for args in [
        &["migrate", "--json"][..],
        &["init", "dev", "--json", "--no-such-flag"],
        &["status", "--output", "json", "--timeout", "soon"],
    ] {
        let run = project.run(args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        let report = run.json();
        assert_eq!(report["status"], "error", "{args:?}");
        assert_eq!(report["operation"], "usage", "{args:?}");
        assert!(!report["error"].as_str().unwrap().is_empty(), "{report}");
        let help = report["recovery"]["suggestions"].to_string();
        assert!(
            help.contains(&format!("faber-db {} --help", args[0])),
            "{report}"
        );
    }
    // Without it, clap's own text, on stderr.
    let run = project.run(&["migrate"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.is_empty() && run.stderr.contains("Usage:"),
        "{}",
        run.stderr
    );
}

/// `--yes` means one thing, take the defaults (`config init --yes`): a
/// habit of typing it never approves a protected environment. On a command
/// that changes a database it is refused, pointing to `--approve`, and the
/// database is left alone.
#[test]
fn yes_never_approves_a_protected_environment() {
    let project = Project::new("sqlite");
    let target = Target::new(Server::Sqlite, &unique("fdb_yes"), project.path());
    let env = [("PROD_DATABASE_URL", target.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for flag in ["--yes", "-y"] {
        let run = project.run(&["init", "production", flag, "--json"], &env);
        assert_eq!(run.code, 2, "{}", run.stdout);
        let report = run.json();
        assert_eq!(report["operation"], "usage");
        assert!(
            report["recovery"]["suggestions"]
                .to_string()
                .contains("to approve a protected environment, pass --approve"),
            "{report}"
        );
        let run = project.run(&["migrate", "production", flag], &env);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("pass --approve"), "{}", run.stderr);
    }
    assert!(!target.exists(), "nothing was created");
}

/// A mistyped environment is answered with the one it most likely meant.
#[test]
fn a_mistyped_environment_is_answered_with_the_one_meant() {
    let project = Project::new("sqlite");
    let run = project.run(&["migrate", "stagng", "--json"], &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = run.json();
    assert!(
        report["recovery"]["suggestions"]
            .to_string()
            .contains("Did you mean 'staging'?"),
        "{report}"
    );
}

/// What faber-db writes as it runs (the operation log, the project lock)
/// is ignored by git from the first run on, so a teammate's first `init`
/// leaves only what is meant to be committed.
#[test]
fn run_time_files_stay_out_of_version_control() {
    let project = Project::new("sqlite");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(project.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap()
    };
    assert!(git(&["init", "-q"]).status.success());
    let target = Target::new(Server::Sqlite, &unique("fdb_daily"), project.path());
    project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &target.url())],
        )
        .assert_success();
    let dir = ".fractary/plugins/faber-db";
    for written in [
        format!("{dir}/logs/operations.jsonl"),
        format!("{dir}/.lock"),
    ] {
        assert!(project.path().join(&written).is_file(), "{written}");
        assert!(
            git(&["check-ignore", "-q", &written]).status.success(),
            "{written} is ignored"
        );
    }
    for kept in [format!("{dir}/config.json"), format!("{dir}/handlers.lock")] {
        assert!(
            !git(&["check-ignore", "-q", &kept]).status.success(),
            "{kept} is not ignored"
        );
    }
}

/// A generated migration ends with a newline, so SQL appended to it with
/// `echo … >>` starts a line of its own and runs; a migration that is
/// still only comments is named as such in the report.
#[test]
fn sql_appended_to_a_generated_migration_runs() {
    let project = Project::new("sqlite");
    let target = Target::new(Server::Sqlite, &unique("fdb_daily"), project.path());
    let env = [("DEV_DATABASE_URL", target.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    project
        .run(&["init", "dev", "--json"], &env)
        .assert_success();
    let generated = project
        .run(&["generate-migration", "add_t", "--json"], &env)
        .assert_success();
    let path = project
        .path()
        .join(generated["result"]["path"].as_str().unwrap());
    let appended = Command::new("sh")
        .arg("-c")
        .arg("echo 'CREATE TABLE t (id INTEGER);' >> \"$0\"")
        .arg(&path)
        .status()
        .unwrap();
    assert!(appended.success());
    let migrated = project
        .run(&["migrate", "dev", "--json"], &env)
        .assert_success();
    assert_eq!(migrated["result"]["applied"].as_array().unwrap().len(), 1);
    assert_eq!(
        target.query("SELECT name FROM sqlite_master WHERE name = 't'"),
        ["t"]
    );

    project
        .run(&["generate-migration", "nothing_yet", "--json"], &env)
        .assert_success();
    let migrated = project
        .run(&["migrate", "dev", "--json"], &env)
        .assert_success();
    assert!(
        migrated["result"]["warnings"]
            .to_string()
            .contains("holds only comments"),
        "{migrated}"
    );
}

/// The question to a person on a protected environment is asked before the
/// migration tool's lock is taken: another run (a teammate's, Prisma's
/// deploy) is not held up while they read it, and what is pending is read
/// again once the lock is held, so what that other run applied meanwhile is
/// not applied twice.
#[test]
fn the_approval_question_holds_no_lock() {
    use std::io::{Read, Write};
    let m = crate::migrate::Migrating::new(Server::Postgres, "production");
    m.write("20990101000000_t", "CREATE TABLE t (id INTEGER);\n");
    let command = format!(
        "{} migrate production --cwd {}",
        crate::support::BIN,
        m.project.path().display()
    );
    let mut asking = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env(m.variable, m.url())
        .env("FABER_DB_CACHE_DIR", &m.project.cache)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    let mut screen = asking.stdout.take().unwrap();
    let (shown, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read @ 1..) = screen.read(&mut buffer) {
            let _ = shown.send(String::from_utf8_lossy(&buffer[..read]).into_owned());
        }
    });
    let mut text = String::new();
    while !text.contains("Enter choice") {
        let more = seen
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the question is asked");
        text.push_str(&more);
    }
    assert!(!m.lock_held(), "the lock is free while the person reads");
    let other = m.run(&["migrate", "production", "--approve", "--json"]);
    assert_eq!(
        other.json()["result"]["applied"],
        serde_json::json!(["20990101000000_t"])
    );

    asking.stdin.take().unwrap().write_all(b"1\n").unwrap();
    let status = asking.wait().unwrap();
    while let Ok(more) = seen.recv_timeout(std::time::Duration::from_secs(1)) {
        text.push_str(&more);
    }
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("up to date"), "{text}");
    assert_eq!(
        m.rows().len(),
        2,
        "the migration is recorded once: {:?}",
        m.rows()
    );
}

/// Environments are listed as the configuration lists them, not sorted.
#[test]
fn environments_are_listed_in_the_configurations_order() {
    // Written as text: a JSON value built here would sort its keys.
    let project = Project::empty();
    project.write_config(
        r#"{
  "database": {"provider": "sqlite", "hosting": "local", "migration_tool": "prisma"},
  "environments": {
    "production": {"connection_string_env": "PROD_DATABASE_URL"},
    "dev": {"connection_string_env": "DEV_DATABASE_URL"},
    "staging": {"connection_string_env": "STAGING_DATABASE_URL"}
  },
  "migrations": {"directory": "prisma/migrations"}
}"#,
    );
    std::fs::create_dir_all(project.migrations()).unwrap();
    let report = project.run(&["status", "--json"], &[]).json();
    let listed: Vec<&str> = report["result"]["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|env| env["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["production", "dev", "staging"], "{report}");
}

/// An empty generated migration says how to fill it with Prisma's own
/// diff, in the flags of the Prisma the project uses: Prisma 7 dropped
/// `--to-schema-datamodel` and the URL flags (its shadow database is the
/// config's), Prisma 6 still takes them.
#[test]
fn the_diff_hint_speaks_the_projects_prisma() {
    let hint = |files: &[(&str, &str)]| {
        let project = Project::new("sqlite");
        for (path, text) in files {
            let path = project.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let report = project
            .run(&["generate-migration", "add users", "--json"], &[])
            .assert_success();
        report["next_steps"].to_string()
    };
    let schema = "datasource db {\n  provider = \"sqlite\"\n}\n";
    let seven = hint(&[
        (
            "prisma.config.ts",
            "import { defineConfig } from \"prisma/config\";\nexport default defineConfig({\n  schema: \"db/schema.prisma\",\n  datasource: { url: process.env[\"DATABASE_URL\"] },\n});\n",
        ),
        ("db/schema.prisma", schema),
    ]);
    assert!(
        seven.contains("--to-schema db/schema.prisma --script >>")
            && seven.contains("datasource.shadowDatabaseUrl")
            && !seven.contains("--to-schema-datamodel")
            && !seven.contains("--shadow-database-url"),
        "{seven}"
    );
    let six = hint(&[(
        "prisma/schema.prisma",
        "datasource db {\n  provider = \"sqlite\"\n  url = env(\"DATABASE_URL\")\n}\n",
    )]);
    assert!(
        six.contains("--to-schema-datamodel prisma/schema.prisma --shadow-database-url"),
        "{six}"
    );
}

/// A SQLite migration that fails, without a pragma, leaves nothing of
/// itself: its statements and its rows share one transaction.
#[test]
fn a_failed_sqlite_migration_leaves_none_of_its_statements() {
    let m = crate::migrate::Migrating::new(Server::Sqlite, "dev");
    let name = "20990101000000_accounts";
    m.write(
        name,
        "CREATE TABLE account (id INTEGER PRIMARY KEY);\n\
         INSERT INTO plan (id) VALUES (1);\n",
    );
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 1, "{report}");
    assert!(!m.tables().contains(&"account".to_owned()), "{report}");
    // Recorded as Prisma records a failure: started, unfinished, its logs.
    assert!(
        m.rows().contains(&format!("{name}|unfinished|-|0|logs")),
        "{:?}",
        m.rows()
    );
}

/// A SQLite migration that sets a pragma runs as Prisma runs it, outside a
/// transaction (SQLite ignores `foreign_keys` inside one), so when it fails
/// half-way the statements before the failure stay (SQLite commits each
/// one). The error names them and the one that failed, and the recovery it
/// suggests, followed word for word, works.
#[test]
fn a_half_failed_sqlite_migration_names_what_ran_and_its_recovery_works() {
    let m = crate::migrate::Migrating::new(Server::Sqlite, "dev");
    let name = "20990101000000_accounts";
    m.write(
        name,
        "PRAGMA foreign_keys=OFF;\n\
         CREATE TABLE account (id INTEGER PRIMARY KEY);\n\
         CREATE INDEX account_id ON account (id);\n\
         INSERT INTO plan (id) VALUES (1);\n\
         CREATE TABLE invoice (id INTEGER PRIMARY KEY);\n",
    );
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 1, "{report}");
    let cause = report["cause"].as_str().unwrap();
    assert!(
        cause.contains("stopped at statement 4")
            && cause.contains("(2) CREATE TABLE account (id INTEGER PRIMARY KEY)")
            && cause.contains("(3) CREATE INDEX account_id ON account (id)")
            && cause.contains("the statement that failed: INSERT INTO plan (id) VALUES (1)"),
        "{cause}"
    );
    assert!(m.tables().contains(&"account".to_owned()), "it stays");
    assert!(!m.tables().contains(&"invoice".to_owned()));
    let suggestions = report["recovery"]["suggestions"].as_array().unwrap();
    let again = suggestions
        .iter()
        .filter_map(|help| help.as_str()?.split_once("then: "))
        .map(|(_, command)| command.to_owned())
        .find(|command| command.contains("--rolled-back"))
        .unwrap_or_else(|| panic!("{suggestions:?}"));
    assert_eq!(
        again,
        format!("faber-db resolve dev --rolled-back {name} && faber-db migrate dev")
    );

    // Undo what ran, fix the file, then the suggested commands, as given.
    m.target.query("DROP TABLE account");
    m.write(
        name,
        "CREATE TABLE plan (id INTEGER PRIMARY KEY);\n\
         CREATE TABLE account (id INTEGER PRIMARY KEY);\n\
         CREATE INDEX account_id ON account (id);\n\
         INSERT INTO plan (id) VALUES (1);\n\
         CREATE TABLE invoice (id INTEGER PRIMARY KEY);\n",
    );
    for command in again.split(" && ") {
        let args: Vec<&str> = command.split(' ').skip(1).chain(["--json"]).collect();
        m.run(&args).assert_success();
    }
    let tables = m.tables();
    for table in ["plan", "account", "invoice"] {
        assert!(tables.contains(&table.to_owned()), "{table} in {tables:?}");
    }
    assert!(
        m.rows().contains(&format!("{name}|finished|-|1|no-logs")),
        "{:?}",
        m.rows()
    );
}
