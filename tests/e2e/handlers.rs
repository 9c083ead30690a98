//! The handler platform: pinning, integrity, compatibility, the conformance
//! suite and the authoring template (a handler built during the test, after the host).

use std::path::Path;

use serde_json::{Value, json};

use crate::support::servers::server_query;
use crate::support::{BIN, Project, Server, Target, component, sha256_hex, unique};

fn lock_file(project: &Project) -> String {
    std::fs::read_to_string(
        project
            .path()
            .join(".fractary/plugins/faber-db/handlers.lock"),
    )
    .unwrap_or_default()
}

fn dbmate_project() -> Project {
    Project::with_config(&json!({
        "database": {"provider": "postgresql", "hosting": "local", "migration_tool": "dbmate"},
        "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"}},
        "migrations": {"directory": "db/migrations"}
    }))
}

#[test]
fn a_second_handler_is_added_pinned_and_used_from_the_project_folder() {
    let project = dbmate_project();
    let wasm = component("handler-db-dbmate");
    let added = project
        .run(&["handler", "add", wasm.to_str().unwrap(), "--json"], &[])
        .assert_success();
    let pin = &added["result"]["pin"];
    assert_eq!(pin["name"], "handler-db-dbmate");
    assert_eq!(pin["wit"], "faber:db@0.6.0");
    assert_eq!(
        pin["sha256"],
        sha256_hex(&std::fs::read(&wasm).unwrap()).as_str()
    );
    let capabilities = added["result"]["handler"]["capabilities"].to_string();
    assert!(
        capabilities.contains("SQL on the target database"),
        "{capabilities}"
    );
    assert!(lock_file(&project).contains("name = \"handler-db-dbmate\""));
    assert!(
        project
            .path()
            .join(".fractary/plugins/faber-db/handlers/handler-db-dbmate@0.1.0.wasm")
            .is_file()
    );

    let target = Target::new(Server::Postgres, &unique("fdb_dbmate"), project.path());
    let report = project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &target.url())],
        )
        .assert_success();
    assert_eq!(report["result"]["handler"]["name"], "handler-db-dbmate");
    assert_eq!(report["result"]["handler"]["source"], "project");
    assert_eq!(report["result"]["handler"]["pin"], "verified");
    let baseline = report["result"]["migration_name"].as_str().unwrap();
    let version = baseline.split('_').next().unwrap();
    assert_eq!(
        target.query("SELECT version FROM schema_migrations"),
        vec![version]
    );
    assert!(
        project
            .path()
            .join("db/migrations")
            .join(format!("{baseline}.sql"))
            .is_file()
    );
    assert!(
        report["next_steps"].to_string().contains("dbmate"),
        "{}",
        report["next_steps"]
    );
}

#[test]
fn the_first_use_of_a_handler_writes_its_pin() {
    let project = Project::new("sqlite");
    let report = project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", "file:./first.db")],
        )
        .assert_success();
    assert_eq!(report["result"]["handler"]["pin"], "pinned on first use");
    let sha = report["result"]["handler"]["sha256"].as_str().unwrap();
    let lock = lock_file(&project);
    assert!(
        lock.contains("name = \"handler-db-prisma\"") && lock.contains(sha),
        "{lock}"
    );
    let again = project
        .run(
            &["init", "dev", "--json", "--database-name", "second"],
            &[("DEV_DATABASE_URL", "file:./first.db")],
        )
        .assert_success();
    assert_eq!(again["result"]["handler"]["pin"], "verified");
}

/// A bundled handler's pin records the faber-db that bundled it. A
/// teammate whose faber-db is another build is told which build has the
/// pinned bytes, or how to move the pin; never to restore a file nobody
/// committed. Following the second help works.
#[test]
fn a_bundled_pin_from_another_build_says_which_build_or_how_to_move_it() {
    let project = Project::new("sqlite");
    let env = [("DEV_DATABASE_URL", "file:./first.db")];
    project
        .run(&["init", "dev", "--json"], &env)
        .assert_success();
    let lock = lock_file(&project);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        lock.contains(&format!("bundled_with = \"{version}\"")),
        "{lock}"
    );

    // The lock as another build wrote it: its bundled Prisma handler hashed otherwise.
    let pinned = lock.split("sha256 = \"").nth(1).unwrap()[..64].to_owned();
    let other = lock.replace(&pinned, &"ab".repeat(32)).replace(
        &format!("bundled_with = \"{version}\""),
        "bundled_with = \"0.0.1\"",
    );
    let lock_path = project
        .path()
        .join(".fractary/plugins/faber-db/handlers.lock");
    std::fs::write(&lock_path, other).unwrap();

    let second = [("DEV_DATABASE_URL", "file:./second.db")];
    let run = project.run(&["init", "dev", "--json"], &second);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = run.json();
    assert_eq!(
        report["error"],
        "Handler handler-db-prisma does not match its pin"
    );
    assert!(
        report["cause"]
            .as_str()
            .unwrap()
            .contains("bundled with faber-db 0.0.1"),
        "{report}"
    );
    let help = report["recovery"]["suggestions"].to_string();
    assert!(help.contains("run faber-db 0.0.1"), "{help}");
    assert!(!help.contains("version control"), "{help}");
    assert!(
        !project.path().join("second.db").exists(),
        "nothing was created"
    );

    project
        .run(&["handler", "add", "handler-db-prisma", "--json"], &[])
        .assert_success();
    assert!(
        project
            .path()
            .join(".fractary/plugins/faber-db/handlers")
            .read_dir()
            .unwrap()
            .any(|entry| entry
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("handler-db-prisma@")),
        "vendored into the project"
    );
    let moved = lock_file(&project);
    assert!(
        moved.contains(&pinned) && !moved.contains("bundled_with"),
        "{moved}"
    );
    project
        .run(&["init", "dev", "--json"], &second)
        .assert_success();
}

#[test]
fn a_tampered_handler_is_refused_before_any_database_is_touched() {
    let project = dbmate_project();
    let wasm = component("handler-db-dbmate");
    project
        .run(&["handler", "add", wasm.to_str().unwrap(), "--json"], &[])
        .assert_success();
    let installed = project
        .path()
        .join(".fractary/plugins/faber-db/handlers/handler-db-dbmate@0.1.0.wasm");
    let mut bytes = std::fs::read(&installed).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&installed, bytes).unwrap();

    let target = Target::new(Server::Postgres, &unique("fdb_tamper"), project.path());
    let run = project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", &target.url())],
    );
    let report = run.json();
    assert_eq!(run.code, 1);
    assert_eq!(
        report["error"], "Handler handler-db-dbmate does not match its pin",
        "{report}"
    );
    assert!(
        report["recovery"]["suggestions"]
            .to_string()
            .contains("faber-db handler add")
    );
    assert!(!target.exists(), "nothing was created");
    assert!(!project.path().join("db").exists());

    let verify = project.run(&["handler", "verify", "--json"], &[]);
    assert_eq!(verify.code, 1);
    let verified = verify.json();
    assert_eq!(verified["status"], "error");
    assert_eq!(verified["result"][0]["status"], "mismatch");
}

#[test]
fn an_incompatible_contract_version_is_refused_naming_both_versions() {
    let project = Project::new("sqlite");
    let wasm = component("future-handler");
    let run = project.run(&["handler", "add", wasm.to_str().unwrap(), "--json"], &[]);
    assert_eq!(run.code, 1);
    let cause = run.json()["cause"].as_str().unwrap().to_owned();
    assert!(cause.contains("faber:db@1.0.0"), "{cause}");
    assert!(cause.contains("faber:db@0.3.0"), "{cause}");
    assert!(lock_file(&project).is_empty(), "nothing pinned");
}

#[test]
fn a_handler_built_for_the_older_contract_still_works() {
    let project = Project::with_config(&json!({
        "database": {"provider": "sqlite", "migration_tool": "legacy-handler"},
        "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"}},
        "migrations": {"directory": "migrations"}
    }));
    let wasm = component("legacy-handler-v0-1-0");
    let added = project
        .run(&["handler", "add", wasm.to_str().unwrap(), "--json"], &[])
        .assert_success();
    assert_eq!(added["result"]["pin"]["wit"], "faber:db@0.1.0");
    let report = project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", "file:./legacy.db")],
        )
        .assert_success();
    assert_eq!(report["result"]["handler"]["wit_version"], "0.1.0");
    assert_eq!(report["result"]["migration_name"], "0001_legacy_baseline");
    let target = Target::new(Server::Sqlite, "legacy", project.path());
    assert_eq!(
        target.query("SELECT name FROM legacy_migrations"),
        vec!["0001_legacy_baseline"]
    );
    assert!(
        !report["next_steps"].as_array().unwrap().is_empty(),
        "generic next steps for a 0.1.0 handler"
    );
}

fn conformance(path: &Path) -> (i32, Value) {
    conformance_on(path, Server::Sqlite)
}

/// `handler test` on `server` (SQLite: its default temporary file).
fn conformance_on(path: &Path, server: Server) -> (i32, Value) {
    let mut command = std::process::Command::new(BIN);
    command
        .args(["handler", "test", "--json"])
        .arg(path)
        .env("FABER_DB_CACHE_DIR", crate::support::shared_cache_dir());
    if server != Server::Sqlite {
        command.args(["--database-url", &server.base_url()]);
    }
    let run = crate::support::Run::from(command.output().unwrap());
    (run.code, run.json())
}

/// Asserts a passing run on `server` that went through the whole
/// life of a migration, in a scratch database that is gone afterwards.
pub(crate) fn assert_conforms_on(path: &Path, server: Server) {
    let (code, report) = conformance_on(path, server);
    assert_eq!(code, 0, "{server:?}: {report}");
    let checks = report["result"].as_array().unwrap();
    let scratch = checks
        .iter()
        .find(|c| c["name"] == "scratch database")
        .unwrap_or_else(|| panic!("no scratch database check: {report}"));
    let detail = scratch["detail"].as_str().unwrap();
    let expected = match server {
        Server::Postgres => "PostgreSQL database faber_conformance_",
        Server::Mysql => "MySQL database faber_conformance_",
        Server::Sqlite => "SQLite database conformance",
    };
    assert!(detail.starts_with(expected), "{detail}");
    assert!(
        checks
            .iter()
            .any(|c| c["name"] == "apply-migration runs it and records it"),
        "{server:?}: {report}"
    );
    if server != Server::Sqlite {
        let name = detail.split(' ').nth(2).unwrap();
        let left = match server {
            Server::Postgres => server_query(
                server,
                &format!("SELECT datname FROM pg_database WHERE datname = '{name}'"),
            ),
            _ => server_query(server, &format!("SHOW DATABASES LIKE '{name}'")),
        };
        assert!(left.is_empty(), "{name} was not dropped: {left:?}");
    }
}

#[test]
fn the_conformance_suite_passes_the_real_handlers_and_fails_a_liar() {
    for handler in [
        "handler-db-prisma",
        "handler-db-dbmate",
        "handler-db-drizzle",
        "handler-db-typeorm",
        "handler-db-sequelize",
        "handler-cloud-aws",
        "legacy-handler-v0-1-0",
    ] {
        let (code, report) = conformance(&component(handler));
        assert_eq!(code, 0, "{handler}: {report}");
        assert_eq!(report["status"], "success");
        let checks = report["result"].to_string();
        // The 0.3.0 operations are exercised on the handlers that have them.
        let migrates = handler.starts_with("handler-db-");
        assert_eq!(
            checks.contains("apply-migration runs it and records it"),
            migrates,
            "{handler}: {report}"
        );
    }
    let (code, report) = conformance(&component("lying-handler"));
    assert_eq!(code, 1);
    let failed: Vec<&Value> = report["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .collect();
    assert!(
        failed.iter().any(|c| c["detail"]
            .as_str()
            .unwrap()
            .contains("no table \"_lying_migrations\"")),
        "{report}"
    );
}

#[test]
fn info_list_and_remove() {
    let project = Project::new("sqlite");
    let info = project
        .run(&["handler", "info", "handler-db-prisma", "--json"], &[])
        .assert_success();
    assert_eq!(info["result"]["world"], "migration-tool");
    assert_eq!(
        info["result"]["host_supports"],
        json!(["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0"])
    );
    assert!(
        info["result"]["exports"]
            .to_string()
            .contains("initialize-schema")
    );
    let cloud = project
        .run(&["handler", "info", "handler-cloud-aws", "--json"], &[])
        .assert_success();
    assert!(
        cloud["result"]["capabilities"]
            .to_string()
            .contains("AWS RDS")
    );
    assert_eq!(
        cloud["result"]["hostings"],
        json!(["aws-aurora", "aws-rds"])
    );

    let wasm = component("handler-db-prisma");
    project
        .run(&["handler", "add", wasm.to_str().unwrap(), "--json"], &[])
        .assert_success();
    let listing = project
        .run(&["handler", "list", "--json"], &[])
        .assert_success();
    assert_eq!(listing["result"]["pinned"][0]["name"], "handler-db-prisma");
    assert!(
        listing["result"]["available"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["source"] == "project" && a["pin"] == "pinned")
    );

    let removed = project
        .run(&["handler", "remove", "handler-db-prisma", "--json"], &[])
        .assert_success();
    assert!(removed["next_steps"].to_string().contains("still uses"));
    assert!(!lock_file(&project).contains("handler-db-prisma"));
    let again = project.run(&["handler", "remove", "handler-db-prisma", "--json"], &[]);
    assert_eq!(again.code, 1);
}

#[test]
fn a_new_handler_from_the_template_builds_and_conforms() {
    let workspace = tempfile::tempdir().unwrap();
    let sdk_home = tempfile::tempdir().unwrap();
    let created = std::process::Command::new(BIN)
        .args(["handler", "new", "handler-db-plain", "--json", "--dir"])
        .arg(workspace.path())
        .env("FABER_DB_SDK_DIR", sdk_home.path())
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stdout)
    );
    let crate_dir = workspace.path().join("handler-db-plain");
    // It depends on the SDK that `handler new` installed, its version
    // pinned, and on nothing a network would have to bring.
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let sdk = sdk_home.path().join("0.6.0/handlers/faber-db-handler");
    assert!(
        manifest.contains(&format!(
            r#"faber-db-handler = {{ version = "=0.6.0", path = "{}" }}"#,
            sdk.display()
        )),
        "{manifest}"
    );
    assert!(!crate_dir.join("vendor").exists(), "no copy of the SDK");
    assert!(!manifest.contains("wit-bindgen"), "{manifest}");
    assert!(
        !crate_dir.join("wit").exists(),
        "no WIT file to copy by hand: the SDK carries it"
    );
    // A target folder of its own, kept between runs, so the build is incremental.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/handler-template");
    let build = std::process::Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--offline",
            "--quiet",
        ])
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let wasm = target.join("wasm32-wasip2/release/handler_db_plain.wasm");
    for server in [Server::Sqlite, Server::Postgres, Server::Mysql] {
        assert_conforms_on(&wasm, server);
    }
    let (_, report) = conformance(&wasm);
    assert!(
        report["result"]
            .to_string()
            .contains("handler-db-plain 0.1.0 for faber:db@0.6.0"),
        "info names the crate's version and the SDK's contract: {report}"
    );
}

/// The bundled migration tools pass on every provider, not only SQLite.
#[test]
fn the_bundled_migration_tools_conform_on_postgresql_and_mysql() {
    for handler in [
        "handler-db-prisma",
        "handler-db-dbmate",
        "handler-db-drizzle",
        "handler-db-typeorm",
        "handler-db-sequelize",
    ] {
        for server in [Server::Postgres, Server::Mysql] {
            assert_conforms_on(&component(handler), server);
        }
    }
}

/// The server's password appears nowhere in what `handler test` prints,
/// whether the URL comes on the command line or in its variable.
#[test]
fn a_conformance_run_on_a_server_never_shows_its_password() {
    let mut url = url::Url::parse(&Server::Postgres.base_url()).unwrap();
    if url.password().is_none() {
        // The test server trusts loopback, so any password logs in.
        url.set_password(Some("never-shown-5b1e")).unwrap();
    }
    let password = url.password().unwrap().to_owned();
    let wasm = component("handler-db-dbmate");
    let by_flag = crate::support::Run::from(
        std::process::Command::new(BIN)
            .args(["handler", "test"])
            .arg(&wasm)
            .args(["--database-url", url.as_str()])
            .output()
            .unwrap(),
    );
    let by_variable = crate::support::Run::from(
        std::process::Command::new(BIN)
            .args(["handler", "test", "--json"])
            .arg(&wasm)
            .env("FABER_DB_HANDLER_TEST_DATABASE_URL", url.as_str())
            .output()
            .unwrap(),
    );
    for run in [&by_flag, &by_variable] {
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(
            !run.stdout.contains(&password) && !run.stderr.contains(&password),
            "{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    assert!(
        by_flag
            .stdout
            .contains("✓ scratch database: PostgreSQL database faber_conformance_"),
        "{}",
        by_flag.stdout
    );
    assert!(
        by_variable
            .stdout
            .contains("PostgreSQL database faber_conformance_"),
        "{}",
        by_variable.stdout
    );
}
