//! `faber-db config init` and `config schema`.

use serde_json::json;

use crate::support::{BIN, Project, Run, component, hostile_migrator_project};

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

/// `faber-db config init --yes ARGS --json` in `project`.
fn config_init(project: &Project, args: &[&str]) -> Run {
    let mut all = vec!["config", "init", "--yes"];
    all.extend_from_slice(args);
    all.push("--json");
    project.run(&all, &[])
}

#[test]
fn the_readme_configuration_example_is_what_config_init_writes() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("\n## Configuration\n").nth(1).unwrap();
    let example = section
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .unwrap();
    let example: serde_json::Value = serde_json::from_str(example).unwrap();
    let project = Project::empty();
    config_init(&project, &["--provider", "postgresql"]).assert_success();
    assert_eq!(project.config(), example);
}

#[test]
fn config_init_writes_the_tools_folder_and_the_sandbox_defaults_and_refuses_an_unknown_tool() {
    let project = Project::named("shop");
    let report = config_init(
        &project,
        &["--provider", "postgresql", "--migration-tool", "dbmate"],
    )
    .assert_success();
    assert_eq!(report["result"]["migration_handler"], "handler-db-dbmate");
    let config = project.config();
    assert_eq!(config["migrations"]["directory"], "db/migrations");
    assert_eq!(
        config["sandbox"],
        json!({"memory_mib": 256, "fuel": 20_000_000_000u64, "timeout_seconds": 60})
    );
    assert_eq!(
        config["environments"]["production"]["connection_string_env"],
        "PRODUCTION_DATABASE_URL"
    );
    // The suggested connection string names the environment's own database.
    let next = report["next_steps"][0].as_str().unwrap();
    assert!(next.contains("localhost:5432/shop_dev\""), "{next}");
    let staging = project.run(&["init", "staging", "--json"], &[]);
    let help = staging.json()["recovery"]["suggestions"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(help.contains("/shop_staging\""), "{help}");
    assert!(help.contains(".env"), "{help}");

    let before = project.config();
    let unknown = config_init(&project, &["--force", "--migration-tool", "flyway"]);
    assert_eq!(unknown.code, 1, "{}", unknown.stdout);
    let report = unknown.json();
    assert!(
        report["cause"].as_str().unwrap().contains("prisma, dbmate"),
        "{report}"
    );
    assert_eq!(project.config(), before, "nothing was written");
}

#[test]
fn a_handler_added_with_use_becomes_the_migration_tool_and_config_init_accepts_it() {
    let project = Project::empty();
    project
        .run(&["config", "init", "--yes", "--json"], &[])
        .assert_success();
    project.update_config(|config| config["team"] = json!({"owner": "data"}));
    let wasm = component("hostile-handler");
    let added = project
        .run(
            &["handler", "add", wasm.to_str().unwrap(), "--use", "--json"],
            &[],
        )
        .assert_success();
    assert_eq!(
        added["result"]["configured"],
        "database.migration_tool = \"hostile-handler\""
    );
    let config = project.config();
    assert_eq!(config["database"]["migration_tool"], "hostile-handler");
    assert_eq!(config["team"]["owner"], "data", "other keys are kept");

    let report = config_init(
        &project,
        &["--force", "--migration-tool", "hostile-handler"],
    )
    .assert_success();
    assert_eq!(report["result"]["migration_handler"], "hostile-handler");
    assert_eq!(project.config()["migrations"]["directory"], "migrations");

    // A bundled handler by its short name, made the tool again.
    let back = project
        .run(&["handler", "add", "prisma", "--use", "--json"], &[])
        .assert_success();
    assert_eq!(back["result"]["pin"]["name"], "handler-db-prisma");
    assert_eq!(
        project.config()["database"]["migration_tool"],
        "handler-db-prisma"
    );
    let removed = project
        .run(&["handler", "remove", "prisma", "--json"], &[])
        .assert_success();
    assert_eq!(removed["result"]["pin"]["name"], "handler-db-prisma");
    assert!(
        removed["next_steps"][0]
            .as_str()
            .unwrap()
            .contains("still uses handler-db-prisma"),
        "{removed}"
    );
}

/// A tool's handler reads the project's files only through the host, which
/// gives it what it names inside the project and nothing else: the hostile
/// migrator asks for the `.env` files, paths out of the project and links
/// out of it or to the `.env`, and reports every byte it was given.
#[test]
fn a_handler_reading_the_project_gets_nothing_outside_it_and_no_env_file() {
    let project = hostile_migrator_project("sqlite");
    let root = project.path();
    std::fs::write(
        root.join("package.json"),
        r#"{"name": "readable-manifest"}"#,
    )
    .unwrap();
    std::fs::write(
        root.join(".env"),
        "DATABASE_URL=postgres://app:env-secret-one@db/app\n",
    )
    .unwrap();
    std::fs::write(root.join(".env.local"), "TOKEN=env-secret-two\n").unwrap();
    let outside = root.parent().unwrap();
    std::fs::write(outside.join("outside.txt"), "outside-secret-three").unwrap();
    std::os::unix::fs::symlink(outside, root.join("escape")).unwrap();
    std::os::unix::fs::symlink(root.join(".env"), root.join("linked-env")).unwrap();

    let run = config_init(
        &project,
        &["--force", "--migration-tool", "hostile-migrator"],
    );
    let report = run.assert_success();
    assert!(
        report["result"]["hostile_migrator_project"]["given"]
            .as_str()
            .unwrap()
            .contains("readable-manifest"),
        "what it may read reaches the report: {report}"
    );
    let config =
        std::fs::read_to_string(root.join(".fractary/plugins/faber-db/config.json")).unwrap();
    for secret in ["env-secret-one", "env-secret-two", "outside-secret-three"] {
        for (what, text) in [
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
            ("config", &config),
        ] {
            assert!(
                !text.contains(secret),
                "{secret} reached the {what}: {text}"
            );
        }
    }
}

#[test]
fn config_schema_takes_json_like_every_command() {
    let output = std::process::Command::new(BIN)
        .args(["config", "schema", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "success");
    assert_eq!(report["operation"], "config-schema");
    let sandbox = &report["result"]["properties"]["sandbox"]["properties"];
    assert_eq!(sandbox["memory_mib"]["default"], 256);
    assert!(sandbox["fuel"]["description"].is_string());
}

/// In a Prisma project `config init` needs no answers: the provider comes
/// from the schema, the migrations folder from Prisma's config (else the
/// schema's folder), and `dev` reads the variable the application and
/// Prisma's CLI already read; the report says where each came from.
#[test]
fn a_prisma_project_is_adopted_as_prisma_reads_it() {
    // (files, provider, migrations folder, dev's variable, read from)
    type Layout<'a> = (
        &'a [(&'a str, &'a str)],
        &'a str,
        &'a str,
        &'a str,
        &'a [&'a str],
    );
    let layouts: [Layout; 2] = [
        (
            &[
                (
                    "prisma.config.ts",
                    "import \"dotenv/config\";\nimport { defineConfig } from \"prisma/config\";\nexport default defineConfig({\n  schema: \"prisma/schema.prisma\",\n  migrations: { path: \"db/migrations\" },\n  datasource: { url: process.env[\"DATABASE_URL\"] },\n});\n",
                ),
                (
                    "prisma/schema.prisma",
                    "datasource db {\n  provider = \"postgresql\"\n}\n",
                ),
            ],
            "postgresql",
            "db/migrations",
            "DATABASE_URL",
            &["prisma.config.ts", "prisma/schema.prisma"],
        ),
        (
            &[(
                "prisma/schema.prisma",
                "datasource db {\n  provider = \"mysql\"\n  url      = env(\"APP_DATABASE_URL\")\n}\n",
            )],
            "mysql",
            "prisma/migrations",
            "APP_DATABASE_URL",
            &["prisma/schema.prisma"],
        ),
    ];
    for (files, provider, folder, variable, read_from) in layouts {
        let project = Project::empty();
        for (path, text) in files {
            let path = project.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let report = project
            .run(&["config", "init", "--yes", "--json"], &[])
            .assert_success();
        assert_eq!(report["result"]["provider"], provider, "{report}");
        assert_eq!(
            report["result"]["prisma_project"]["read_from"],
            json!(read_from)
        );
        let config = project.config();
        assert_eq!(config["database"]["provider"], provider);
        assert_eq!(config["database"]["migration_tool"], "prisma");
        assert_eq!(config["migrations"]["directory"], folder, "{config}");
        assert_eq!(
            config["environments"]["dev"]["connection_string_env"],
            variable
        );
        assert_eq!(
            config["environments"]["staging"]["connection_string_env"],
            "STAGING_DATABASE_URL"
        );
        assert!(
            report["next_steps"].to_string().contains(variable),
            "{report}"
        );
    }
}
