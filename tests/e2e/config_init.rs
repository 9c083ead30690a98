//! `faber-db config init` and `config schema`.

use crate::support::{BIN, Project};

#[test]
fn writes_a_configuration_that_init_accepts_and_refuses_to_overwrite() {
    let project = Project::empty();
    let run = project.run(
        &["config", "init", "--yes", "--provider", "sqlite", "--json"],
        &[],
    );
    let report = run.assert_success();
    assert_eq!(report["result"]["provider"], "sqlite");
    let path = project
        .path()
        .join(".fractary/plugins/faber-db/config.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(config["database"]["migration_tool"], "prisma");
    assert_eq!(
        config["environments"]["dev"]["connection_string_env"],
        "DEV_DATABASE_URL"
    );
    assert_eq!(config["safety"]["protected_environments"][0], "production");

    let written = std::fs::read(&path).unwrap();
    let again = project.run(&["config", "init", "--yes", "--json"], &[]);
    assert_eq!(again.code, 1);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        written,
        "the file is untouched"
    );
    assert!(
        again.json()["recovery"]["suggestions"][0]
            .as_str()
            .unwrap()
            .contains("--force")
    );
    let forced = project.run(
        &[
            "config",
            "init",
            "--yes",
            "--force",
            "--provider",
            "postgresql",
            "--json",
        ],
        &[],
    );
    forced.assert_success();

    project
        .run(&["config", "init", "--yes", "--force", "--json"], &[])
        .assert_success();
    project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", "file:./fresh.db")],
        )
        .assert_success();
}

#[test]
fn schema_is_published() {
    let output = std::process::Command::new(BIN)
        .args(["config", "schema"])
        .output()
        .unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(schema["properties"]["environments"].is_object());
}

#[test]
fn usage_errors_exit_with_2() {
    let output = std::process::Command::new(BIN)
        .args(["init"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn on_a_terminal_config_init_asks_and_takes_the_answers() {
    let project = Project::empty();
    let command = format!("{BIN} config init --cwd {}", project.path().display());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"postgresql\n\ndbmate\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(screen.contains("Database provider"), "{screen}");
    let path = project
        .path()
        .join(".fractary/plugins/faber-db/config.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(config["database"]["provider"], "postgresql");
    assert_eq!(
        config["database"]["hosting"], "local",
        "an empty answer takes the default"
    );
    assert_eq!(config["database"]["migration_tool"], "dbmate");
}
