//! Shared test plumbing: projects in temporary folders, running the binary,
//! and reading outcomes back from the servers with their own clients.

pub mod cloud;
pub mod registry;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
pub use servers::{Server, Target};

pub const BIN: &str = env!("CARGO_BIN_EXE_faber-db");

/// A component built by `bash tests/run.sh` (release, wasm32-wasip2).
pub fn component(crate_name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(
        path.is_file(),
        "{} is missing: build the components with `bash tests/run.sh` (or cargo build --release --target wasm32-wasip2 -p {crate_name})",
        path.display()
    );
    path
}

/// `node` with `args`, run in the project (where a tool's `node_modules`
/// is linked) with `env`: whether it succeeded, and what it printed on
/// stdout and stderr.
pub fn node(project: &Project, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new("node")
        .args(args)
        .current_dir(project.path())
        .env("HOME", project.path())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

/// A failed command's report as one text: its error and its cause.
pub fn failure_text(report: &Value) -> String {
    format!(
        "{} {}",
        report["error"].as_str().unwrap_or_default(),
        report["cause"].as_str().unwrap_or_default()
    )
}

/// A name no other test (or earlier run) uses.
/// Where the test command installed a tool's npm packages (`target/FOLDER`,
/// or the folder `variable` names), checked to hold `entry`.
pub fn node_install(variable: &str, folder: &str, entry: &str, tool: &str) -> PathBuf {
    let dir = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target")
                .join(folder)
        });
    assert!(
        dir.join("node_modules").join(entry).is_file(),
        "{tool} is missing from {}: run `bash tests/run.sh`, which installs it",
        dir.display()
    );
    dir
}

pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

/// A short name no other test uses, for names with tight limits (a MySQL
/// user name has at most 16 characters).
pub fn short_unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id() % 100_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A project folder with a faber-db configuration.
pub struct Project {
    _temp: tempfile::TempDir,
    root: PathBuf,
    pub cache: PathBuf,
}

impl Project {
    pub fn new(provider: &str) -> Project {
        Project::with_config(&serde_json::json!({
            "database": {"provider": provider, "hosting": "local", "migration_tool": "prisma"},
            "environments": {
                "dev": {"connection_string_env": "DEV_DATABASE_URL"},
                "staging": {"connection_string_env": "STAGING_DATABASE_URL"},
                "production": {"connection_string_env": "PROD_DATABASE_URL", "require_approval": true}
            },
            "migrations": {"directory": "prisma/migrations"},
            "safety": {"protected_environments": ["production"]},
            "integration": {"logs_plugin": "fractary-logs"}
        }))
    }

    pub fn with_config(config: &Value) -> Project {
        let project = Project::empty();
        project.write_config(&serde_json::to_string_pretty(config).unwrap());
        project
    }

    pub fn empty() -> Project {
        Project::named("faber-project")
    }

    /// A project whose folder has a known name (it names derived resources).
    pub fn named(name: &str) -> Project {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().join(name);
        std::fs::create_dir(&root).unwrap();
        Project {
            _temp: temp,
            root,
            cache: shared_cache_dir(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn write_config(&self, text: &str) {
        let dir = self.path().join(".fractary/plugins/faber-db");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), text).unwrap();
    }

    /// The configuration as it is on disk.
    pub fn config(&self) -> Value {
        let path = self.path().join(".fractary/plugins/faber-db/config.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Changes the configuration in place.
    pub fn update_config(&self, change: impl FnOnce(&mut Value)) {
        let mut config = self.config();
        change(&mut config);
        self.write_config(&config.to_string());
    }

    pub fn migrations(&self) -> PathBuf {
        self.path().join("prisma/migrations")
    }

    /// Writes migration `<name>/migration.sql` into the migrations folder.
    pub fn write_migration(&self, name: &str, sql: &str) {
        let dir = self.migrations().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("migration.sql"), sql).unwrap();
    }

    /// The migration folders (not files) in the migrations directory.
    pub fn migration_dirs(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.migrations()) else {
            return Vec::new();
        };
        let mut dirs: Vec<String> = entries
            .map(|e| e.unwrap())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        dirs.sort();
        dirs
    }

    pub fn operation_log(&self) -> String {
        std::fs::read_to_string(
            self.path()
                .join(".fractary/plugins/faber-db/logs/operations.jsonl"),
        )
        .unwrap_or_default()
    }

    /// A command for the binary in this project, with a clean environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .arg("--cwd")
            .arg(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("FABER_DB_CACHE_DIR", &self.cache)
            .stdin(Stdio::null());
        command
    }

    /// `generate-migration NAME --sql FILE` with `sql` in the file; the
    /// report, the command having succeeded.
    pub fn generate_migration(&self, name: &str, sql: &str) -> Value {
        let file = self.path().join(format!("{}.sql", name.replace(' ', "_")));
        std::fs::write(&file, sql).unwrap();
        self.run(
            &[
                "generate-migration",
                name,
                "--sql",
                file.to_str().unwrap(),
                "--json",
            ],
            &[],
        )
        .assert_success()
    }

    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        Run::from(command.output().unwrap())
    }
}

/// A project whose migration tool is the hostile fixture, added as a third
/// party's handler would be.
pub fn hostile_project(provider: &str, sandbox: Value) -> Project {
    third_party_project(provider, "hostile-handler", sandbox)
}

/// A project whose migration tool is the hostile migrator (contract 0.3.0:
/// `init` and `migrate`), added as a third party's handler would be. It
/// runs what a test leaves in the migrations folder's `attack-init.sql` and
/// `attack-migrate.sql`.
pub fn hostile_migrator_project(provider: &str) -> Project {
    third_party_project(provider, "hostile-migrator", serde_json::json!({}))
}

/// A project whose migration tool is the fixture component `handler` (its
/// crate and its handler name alike), added with `handler add`.
fn third_party_project(provider: &str, handler: &str, sandbox: Value) -> Project {
    let project = Project::with_config(&serde_json::json!({
        "database": {"provider": provider, "migration_tool": handler},
        "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"}},
        "sandbox": sandbox,
        "integration": {"logs_plugin": "fractary-logs"},
    }));
    let wasm = component(handler);
    project
        .run(&["handler", "add", wasm.to_str().unwrap(), "--json"], &[])
        .assert_success();
    project
}

/// Compiled components are cached across tests, as across a user's runs.
pub fn shared_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-component-cache")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// The one JSON document on stdout.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not one JSON document ({err}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn assert_success(&self) -> Value {
        let json = self.json();
        assert_eq!(
            json["status"], "success",
            "{}\n{}",
            self.stdout, self.stderr
        );
        assert_eq!(self.code, 0);
        json
    }
}

/// Every file under `dir`, as bytes.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path, bytes));
        }
    }
    found.sort();
    found
}

/// `secret` is in none of the `outputs` (name, text) and in no file under
/// any of `dirs` (the operation log among them).
pub fn assert_never_shown(secret: &str, outputs: &[(String, String)], dirs: &[&Path]) {
    for (what, text) in outputs {
        assert!(!text.contains(secret), "secret leaked in {what}:\n{text}");
    }
    for (path, bytes) in dirs.iter().flat_map(|dir| files_under(dir)) {
        let leaked = bytes
            .windows(secret.len())
            .any(|window| window == secret.as_bytes());
        assert!(!leaked, "secret written to {}", path.display());
    }
}

/// What a helper program printed on stdout; it must succeed.
pub fn stdout_of(command: &mut Command) -> Vec<u8> {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Runs `command` (a shell command line) on a pseudo-terminal (util-linux
/// `script`), typing `answer`; returns its exit code and what it showed.
pub fn through_a_terminal(
    command: &str,
    env: &[(&str, String)],
    cache: &Path,
    answer: &str,
) -> (i32, String) {
    let mut child = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .envs(env.iter().map(|(key, value)| (key, value)))
        .env("FABER_DB_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Every file below `dir`, so a test can prove nothing new appeared.
pub fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}
