//! `faber-db init` refusing, failing and racing: the documented errors, and
//! nothing created or lost.

use crate::support::{BIN, Project, Server, Target, unique};

fn assert_error(run: &crate::support::Run, step: u64, error: &str) -> serde_json::Value {
    let report = run.json();
    assert_eq!(report["status"], "error", "{}", run.stdout);
    assert_eq!(run.code, 1);
    assert_eq!(report["step"]["number"], step, "{}", run.stdout);
    assert!(
        report["error"].as_str().unwrap().contains(error),
        "expected {error:?} in {}",
        report["error"]
    );
    assert!(
        !report["recovery"]["suggestions"]
            .as_array()
            .unwrap()
            .is_empty(),
        "every error suggests a fix"
    );
    report
}

#[test]
fn second_init_on_the_same_database_fails_and_changes_nothing() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = Project::new(server.provider());
        let target = Target::new(server, &unique("fdb_twice"), project.path());
        let env = [("DEV_DATABASE_URL", target.url())];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        project
            .run(&["init", "dev", "--json"], &env)
            .assert_success();
        target.query("CREATE TABLE marker (id INTEGER)");
        target.query("INSERT INTO marker VALUES (7)");

        let run = project.run(&["init", "dev", "--json"], &env);
        let report = assert_error(&run, 11, "Database already exists");
        assert!(report["recovery"]["cleanup"].as_array().unwrap().is_empty());
        // How to look at it, before anything else.
        assert!(
            report["recovery"]["suggestions"][0]
                .as_str()
                .unwrap()
                .ends_with("faber-db status dev"),
            "{report}"
        );
        assert_eq!(
            target.query("SELECT id FROM marker"),
            vec!["7"],
            "{server:?}"
        );
        assert_eq!(
            target.query("SELECT count(*) FROM _prisma_migrations"),
            vec!["1"]
        );
        assert_eq!(project.migration_dirs().len(), 1);
    }
}

#[test]
fn missing_configuration_names_the_path_and_the_command() {
    let project = Project::empty();
    let run = project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", "file:./x.db")],
    );
    let report = assert_error(&run, 3, "Configuration not found");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains(".fractary/plugins/faber-db/config.json")
    );
    let help = report["recovery"]["suggestions"][0].as_str().unwrap();
    assert!(help.contains("faber-db config init"), "{help}");
    assert!(!project.path().join("x.db").exists());
}

#[test]
fn unknown_environment_lists_the_configured_ones() {
    let project = Project::new("sqlite");
    let run = project.run(
        &["init", "qa", "--json"],
        &[("QA_DATABASE_URL", "file:./qa.db")],
    );
    let report = assert_error(&run, 4, "Environment 'qa' not found");
    assert!(
        report["cause"]
            .as_str()
            .unwrap()
            .contains("dev, production, staging")
    );
    assert!(!project.path().join("qa.db").exists());
}

#[test]
fn unset_connection_variable_shows_an_export_line() {
    let project = Project::new("postgresql");
    let run = project.run(&["init", "dev", "--json"], &[]);
    let report = assert_error(&run, 5, "DEV_DATABASE_URL environment variable not set");
    let help = report["recovery"]["suggestions"][0].as_str().unwrap();
    assert!(help.contains("export DEV_DATABASE_URL="), "{help}");
}

#[test]
fn malformed_configuration_names_file_line_column_and_key() {
    let project = Project::empty();
    project.write_config("{\n  \"database\": {\"provider\": \"sqlite\"},\n  \"environments\": {\"dev\": {\"connection_string_env\": 5}}\n}\n");
    let run = project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", "file:./m.db")],
    );
    let report = assert_error(&run, 3, "Invalid configuration");
    let error = report["error"].as_str().unwrap();
    assert!(error.contains("config.json:3:"), "{error}");
    assert!(
        error.contains("environments.dev.connection_string_env"),
        "{error}"
    );

    project.write_config("{\"database\": {\"provider\": \"sqlite\"},,}");
    let run = project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", "file:./m.db")],
    );
    let report = assert_error(&run, 3, "Invalid configuration");
    assert!(report["error"].as_str().unwrap().contains("config.json:1:"));
    assert!(!project.path().join("m.db").exists());
}

#[test]
fn hostile_database_names_are_refused_before_anything_happens() {
    let project = Project::new("postgresql");
    for name in [
        "x\"; DROP DATABASE postgres; --",
        "a'b",
        "naïve",
        &"n".repeat(64),
        "../x",
    ] {
        // Nothing listens on port 1: a run that got as far as connecting
        // would fail with "Cannot connect" instead.
        let run = project.run(
            &["init", "dev", "--json", "--database-name", name],
            &[(
                "DEV_DATABASE_URL",
                "postgresql://postgres@127.0.0.1:1/ignored",
            )],
        );
        let report = assert_error(&run, 1, "Invalid database name");
        let touched: Vec<&serde_json::Value> = report["result"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|step| (2..=15).contains(&step["number"].as_u64().unwrap()))
            .filter(|step| step["status"] != "not-run")
            .collect();
        assert!(touched.is_empty(), "{touched:?}");
    }
    assert!(
        !project.path().join("prisma").exists(),
        "no folder was written"
    );
}

#[test]
fn protected_environment_without_a_terminal_is_refused_unless_approved() {
    let project = Project::new("postgresql");
    let target = Target::new(Server::Postgres, &unique("fdb_prod"), project.path());
    let env = [("PROD_DATABASE_URL", target.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let refused = project.run(&["init", "production", "--json"], &env);
    let report = assert_error(&refused, 6, "production is protected");
    assert!(
        report["recovery"]["suggestions"][0]
            .as_str()
            .unwrap()
            .contains("--approve")
    );
    assert!(!target.exists());

    let approved = project
        .run(&["init", "production", "--json", "--approve"], &env)
        .assert_success();
    assert_eq!(approved["result"]["steps"][5]["status"], "done");
    assert!(target.exists());
}

/// Answers the approval prompt through a pseudo-terminal (util-linux `script`).
fn answer_prompt(project: &Project, target: &Target, answer: &str) -> (i32, String) {
    let command = format!("{BIN} init production --cwd {}", project.path().display());
    crate::support::through_a_terminal(
        &command,
        &[("PROD_DATABASE_URL", target.url())],
        &project.cache,
        answer,
    )
}

#[test]
fn approval_prompt_answered_yes_proceeds() {
    let project = Project::new("postgresql");
    let target = Target::new(Server::Postgres, &unique("fdb_yes"), project.path());
    let (code, screen) = answer_prompt(&project, &target, "1\n");
    assert!(
        screen.contains("PRODUCTION OPERATION REQUIRES APPROVAL"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("Database: {}", target.name)),
        "{screen}"
    );
    assert_eq!(code, 0, "{screen}");
    assert!(target.exists());
}

#[test]
fn approval_prompt_answered_no_cancels_and_creates_nothing() {
    let project = Project::new("postgresql");
    let target = Target::new(Server::Postgres, &unique("fdb_no"), project.path());
    let (code, screen) = answer_prompt(&project, &target, "2\n");
    assert!(screen.contains("Enter choice:"), "{screen}");
    assert_eq!(code, 3, "cancelled has its own exit code: {screen}");
    assert!(screen.contains("Operation cancelled"), "{screen}");
    assert!(!target.exists());
    assert!(!project.migrations().exists());
}

#[test]
fn failure_after_creation_drops_the_new_database_and_its_files() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = Project::new(server.provider());
        let target = Target::new(server, &unique("fdb_fail"), project.path());
        // A file where the migrations folder's parent should be: creating the
        // folder fails after the database was created.
        std::fs::write(project.path().join("prisma"), "not a folder").unwrap();
        let run = project.run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &target.url())],
        );
        let report = assert_error(&run, 13, "Cannot create the migrations folder");
        let cleanup = report["recovery"]["cleanup"].to_string();
        assert!(
            cleanup.contains(&format!("dropped database {}", target.name)),
            "{cleanup}"
        );
        assert!(
            !target.exists(),
            "{server:?}: the database this run created is gone"
        );
        assert_eq!(report["result"]["database_created"], false);
        assert_eq!(
            std::fs::read_to_string(project.path().join("prisma")).unwrap(),
            "not a folder"
        );
    }
}
