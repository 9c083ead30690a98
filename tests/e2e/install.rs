//! An installed `faber-db`: the binary alone in an empty folder on `PATH`,
//! no checkout beside it, has all of its bundled handlers, and the next
//! steps a first run prints work as printed.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{BIN, Run, component, sha256_hex, shared_cache_dir};

/// `faber-db ARGS` found through `PATH` (which holds only `bin`), run in
/// `dir` with nothing else in the environment but a home of its own.
fn faber_db(bin: &Path, home: &Path, dir: &Path, args: &[&str]) -> Run {
    let output = Command::new("/bin/sh")
        .args(["-c", "exec faber-db \"$@\"", "sh"])
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", bin)
        .env("HOME", home)
        .env("FABER_DB_CACHE_DIR", shared_cache_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run::from(output)
}

#[test]
fn the_binary_alone_on_path_initializes_sqlite_and_lists_its_bundled_handlers() {
    let bin = tempfile::tempdir().unwrap();
    std::fs::copy(BIN, bin.path().join("faber-db")).unwrap();
    assert_eq!(std::fs::read_dir(bin.path()).unwrap().count(), 1);
    let home = tempfile::tempdir().unwrap();
    let project = home.path().join("shop");
    std::fs::create_dir(&project).unwrap();
    let run = |args: &[&str]| faber_db(bin.path(), home.path(), &project, args);

    run(&["config", "init", "--yes", "--json"]).assert_success();
    std::fs::write(project.join(".env"), "DEV_DATABASE_URL=\"file:./dev.db\"\n").unwrap();
    let init = run(&["init", "dev", "--json"]).assert_success();
    assert!(project.join("dev.db").is_file());
    let handler = &init["result"]["handler"];
    assert_eq!(handler["name"], "handler-db-prisma");
    assert_eq!(handler["source"], "bundled");
    // The embedded component is the one the test command built, written
    // into the user's cache under its own hash.
    let prisma = std::fs::read(component("handler-db-prisma")).unwrap();
    let sha256 = sha256_hex(&prisma);
    assert_eq!(handler["sha256"], sha256.as_str());
    let cached = home
        .path()
        .join(".cache/faber-db/handlers/sha256")
        .join(format!("{sha256}.wasm"));
    assert_eq!(std::fs::read(&cached).unwrap(), prisma);

    // A cached copy that no longer matches its name is written again.
    std::fs::write(&cached, b"tampered").unwrap();
    let listing = run(&["handler", "list", "--json"]).assert_success();
    assert_eq!(std::fs::read(&cached).unwrap(), prisma);
    let bundled: Vec<&Value> = listing["result"]["available"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["source"] == "bundled")
        .collect();
    let names: Vec<&str> = bundled
        .iter()
        .map(|entry| entry["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "handler-db-prisma",
            "handler-db-dbmate",
            "handler-cloud-aws"
        ]
    );
    for entry in &bundled {
        assert_eq!(entry["version"], env!("CARGO_PKG_VERSION"), "{entry}");
    }
    let human = run(&["handler", "list"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    let header: Vec<&str> = human
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "VERSION", "SOURCE", "PIN", "PATH"]);

    for (short, name) in [
        ("prisma", "handler-db-prisma"),
        ("dbmate", "handler-db-dbmate"),
        ("aws", "handler-cloud-aws"),
    ] {
        let info = run(&["handler", "info", short, "--json"]).assert_success();
        assert_eq!(info["result"]["name"], name);
    }

    // The next steps name commands that exist and work from here.
    let steps: Vec<String> = init["next_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step.as_str().unwrap().to_owned())
        .collect();
    let mentions = |command: &str| steps.iter().any(|step| step.contains(command));
    assert!(
        mentions("faber-db generate-migration initial_schema"),
        "{steps:?}"
    );
    assert!(mentions("faber-db migrate dev"), "{steps:?}");
    std::fs::write(
        project.join("schema.sql"),
        "CREATE TABLE shop (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    run(&[
        "generate-migration",
        "initial_schema",
        "--sql",
        "schema.sql",
        "--json",
    ])
    .assert_success();
    let migrated = run(&["migrate", "dev", "--json"]).assert_success();
    assert_eq!(migrated["result"]["applied"].as_array().unwrap().len(), 1);
    run(&["status", "dev", "--json"]).assert_success();
}
