//! An installed `faber-db`: the binary alone in an empty folder on `PATH`,
//! no checkout beside it, has all of its bundled handlers, and the next
//! steps a first run prints work as printed.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{BIN, Run, component, sha256_hex, shared_cache_dir};

/// `program ARGS` with `path` as the whole `PATH`, run in `dir` with
/// nothing else in the environment but a home of its own.
fn isolated(path: &std::ffi::OsStr, home: &Path, dir: &Path, program: &str, args: &[&str]) -> Run {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("FABER_DB_CACHE_DIR", shared_cache_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run::from(output)
}

/// `faber-db ARGS` found through `PATH`, which holds only `bin`.
fn faber_db(bin: &Path, home: &Path, dir: &Path, args: &[&str]) -> Run {
    let mut line = vec!["-c", "exec faber-db \"$@\"", "sh"];
    line.extend_from_slice(args);
    isolated(bin.as_os_str(), home, dir, "/bin/sh", &line)
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
            "handler-db-drizzle",
            "handler-db-typeorm",
            "handler-db-sequelize",
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
        ("drizzle", "handler-db-drizzle"),
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

/// A command run with only the system's folders on `PATH` (node and npm,
/// no Rust toolchain).
fn without_rust(home: &Path, dir: &Path, program: &str, args: &[&str]) -> Run {
    isolated(
        "/usr/local/bin:/usr/bin:/bin".as_ref(),
        home,
        dir,
        program,
        args,
    )
}

/// What `command` printed, once it has succeeded.
fn stdout_of(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The packaging script, run on the binary under test into `out`.
fn package(out: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/build.sh");
    stdout_of(
        Command::new("bash")
            .arg(script)
            .args(["--binary", BIN, "--out"])
            .arg(out),
    );
}

#[test]
fn npx_runs_faber_db_from_the_packed_npm_packages_with_no_rust_toolchain() {
    let dist = tempfile::tempdir().unwrap();
    package(dist.path());
    let home = tempfile::tempdir().unwrap();
    let app = home.path().join("app");
    std::fs::create_dir(&app).unwrap();
    let sh = |script: &str| without_rust(home.path(), &app, "sh", &["-c", script]);
    assert_ne!(sh("command -v cargo || command -v rustc").code, 0);
    assert_eq!(sh("npm init -y").code, 0);
    let tarballs: Vec<String> = std::fs::read_dir(dist.path().join("npm"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "tgz"))
        .map(|path| path.display().to_string())
        .collect();
    assert_eq!(tarballs.len(), 2, "{tarballs:?}");
    // The other platforms' packages are not published anywhere this test
    // can reach: npm skips them, as optional dependencies for other machines.
    let mut install = vec![
        "install",
        "--save-dev",
        "--no-audit",
        "--no-fund",
        "--registry",
        "http://127.0.0.1:9",
        "--fetch-retries",
        "0",
    ];
    install.extend(tarballs.iter().map(String::as_str));
    let installed = without_rust(home.path(), &app, "npm", &install);
    assert_eq!(installed.code, 0, "{}", installed.stderr);

    let npx = |args: &[&str]| {
        let mut line = vec!["faber-db"];
        line.extend_from_slice(args);
        without_rust(home.path(), &app, "npx", &line)
    };
    let version = npx(&["--version"]);
    assert!(
        version
            .stdout
            .contains(concat!("faber-db ", env!("CARGO_PKG_VERSION")))
            && version.stdout.contains("0.6.0")
            && version.stdout.contains("handler-db-prisma"),
        "{}",
        version.stdout
    );
    npx(&["config", "init", "--yes", "--json"]).assert_success();
    std::fs::write(
        app.join(".env"),
        "DEV_DATABASE_URL=\"file:./dev.db\"\n\
         STAGING_DATABASE_URL=\"file:./staging.db\"\n\
         PRODUCTION_DATABASE_URL=\"file:./production.db\"\n",
    )
    .unwrap();
    npx(&["init", "dev", "--json"]).assert_success();
    assert!(app.join("dev.db").is_file());
    npx(&["init", "staging", "--json"]).assert_success();
    npx(&["init", "production", "--approve", "--json"]).assert_success();
    let status = npx(&["status", "--json"]).assert_success();
    for environment in status["result"]["environments"].as_array().unwrap() {
        assert_eq!(environment["state"], "up-to-date", "{environment}");
    }

    // The archive holds the binary, completions, man pages, license and
    // README, and every file has its checksum.
    stdout_of(
        Command::new("sha256sum")
            .args(["-c", "SHA256SUMS"])
            .current_dir(dist.path()),
    );
    let archive = format!(
        "faber-db-{}-x86_64-unknown-linux-gnu",
        env!("CARGO_PKG_VERSION")
    );
    let files = stdout_of(
        Command::new("tar")
            .arg("tzf")
            .arg(dist.path().join(format!("{archive}.tar.gz"))),
    );
    for file in [
        "faber-db",
        "completions/faber-db.bash",
        "completions/_faber-db",
        "completions/faber-db.fish",
        "man/man1/faber-db.1",
        "man/man1/faber-db-migrate.1",
        "LICENSE",
        "README.md",
    ] {
        assert!(
            files.contains(&format!("{archive}/{file}\n")),
            "{file}: {files}"
        );
    }
}

#[test]
fn bash_completes_commands_and_flags_and_man_renders_the_page() {
    let complete = |line: &str| {
        let script = format!(
            "source <(\"$0\" completions bash)\n\
             COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n\
             read -ra COMP_WORDS <<<\"$COMP_LINE\"; COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n\
             $(complete -p faber-db | sed 's/.*-F \\([^ ]*\\).*/\\1/') faber-db \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        stdout_of(Command::new("bash").args(["-c", &script, BIN]))
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(complete("faber-db mig"), ["migrate"]);
    assert_eq!(complete("faber-db migrate --env"), ["--env-file"]);
    assert!(complete("faber-db init --ap").contains(&"--approve".to_owned()));

    let pages = tempfile::tempdir().unwrap();
    stdout_of(Command::new(BIN).args(["man", "--dir"]).arg(pages.path()));
    let page = stdout_of(
        Command::new("man")
            .args(["-l", "-P", "cat"])
            .arg(pages.path().join("faber-db-migrate.1"))
            .env("MANWIDTH", "100"),
    );
    assert!(
        page.contains("faber-db-migrate") && page.contains("--dry-run"),
        "{page}"
    );
}
