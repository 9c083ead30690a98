//! The whole `init` workflow in-process, on SQLite files in a temporary
//! folder, with the bundled Prisma handler component through the real runtime:
//! signal in seconds from `cargo test -p faber-db --lib`, no servers. The
//! end-to-end suite (`tests/e2e`) runs the binary against every provider.

use std::path::PathBuf;
use std::sync::Once;

use sqlx::Connection;

use super::{InitOptions, init};
use crate::report::StepStatus;
use crate::report::{Connectivity, HealthCheck, InitReport, Status};

/// The variable the test projects read their connection string from. Its
/// value is relative, so each project's database is a file in its own folder.
const URL_VARIABLE: &str = "FABER_DB_IN_PROCESS_TEST_URL";

/// A SQLite project using Prisma, through the handler bundled with the host.
struct Project {
    _temp: tempfile::TempDir,
    dir: PathBuf,
}

impl Project {
    fn new() -> Project {
        static SET: Once = Once::new();
        SET.call_once(|| {
            // SAFETY: set once, before any test of this module reads it, to
            // a value no other code in this process reads or writes.
            unsafe { std::env::set_var(URL_VARIABLE, "file:./dev.db") };
        });
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("shop");
        let config_dir = dir.join(".fractary/plugins/faber-db");
        std::fs::create_dir_all(&config_dir).unwrap();
        let config = serde_json::json!({
            "database": {"provider": "sqlite", "hosting": "local", "migration_tool": "prisma"},
            "environments": {"dev": {"connection_string_env": URL_VARIABLE}},
            "migrations": {"directory": "prisma/migrations"},
        });
        std::fs::write(config_dir.join("config.json"), config.to_string()).unwrap();
        Project { _temp: temp, dir }
    }

    async fn init(&self, change: impl FnOnce(&mut InitOptions)) -> InitReport {
        let mut options = InitOptions {
            environment: "dev".to_owned(),
            database_name: None,
            cwd: Some(self.dir.clone()),
            approve: false,
            dry_run: false,
            resume: false,
            adopt: false,
            live: false,
            target: None,
        };
        change(&mut options);
        init(options).await
    }

    fn database(&self) -> PathBuf {
        self.dir.join("dev.db")
    }

    fn migrations(&self) -> PathBuf {
        self.dir.join("prisma/migrations")
    }

    /// The tables of the database file, read back through SQLite.
    async fn tables(&self) -> Vec<String> {
        let url = format!("sqlite://{}?mode=ro", self.database().display());
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let tables: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&mut connection)
                .await
                .unwrap();
        connection.close().await.unwrap();
        tables.into_iter().map(|(name,)| name).collect()
    }
}

fn assert_success(report: &InitReport) {
    assert_eq!(
        report.status,
        Status::Success,
        "{}",
        serde_json::to_string_pretty(report).unwrap()
    );
}

#[tokio::test]
async fn init_creates_the_database_its_tracking_table_and_the_baseline() {
    let project = Project::new();

    let report = project.init(|_| {}).await;

    assert_success(&report);
    let result = report.init_result();
    assert_eq!(result.database_name.as_deref(), Some("dev"));
    assert!(result.database_created && result.schema_initialized);
    assert!(result.migration_table_created);
    assert_eq!(
        (result.connectivity, result.health_check),
        (Connectivity::Verified, HealthCheck::Passed)
    );
    let handler = result.handler.as_ref().unwrap();
    assert_eq!(
        (handler.name.as_str(), handler.wit_version.as_str()),
        ("handler-db-prisma", crate::runtime::CONTRACT_VERSION)
    );
    assert!(
        result
            .steps
            .iter()
            .all(|step| matches!(step.status, StepStatus::Done | StepStatus::Skipped)),
        "{:?}",
        result.steps
    );
    assert_eq!(result.steps.len(), 17);

    // What the report says is what the disk holds.
    assert_eq!(project.tables().await, ["_prisma_migrations"]);
    let baseline = result.migration_name.as_deref().unwrap();
    assert!(baseline.ends_with("_init"), "{baseline}");
    assert!(
        project
            .migrations()
            .join(baseline)
            .join("migration.sql")
            .is_file()
    );
    assert!(project.migrations().join("migration_lock.toml").is_file());
    let lock = std::fs::read_to_string(crate::components::lock::path(&project.dir)).unwrap();
    assert!(
        lock.contains(&handler.sha256),
        "the handler is pinned on first use: {lock}"
    );
}

#[tokio::test]
async fn a_second_init_refuses_the_existing_database_and_changes_nothing() {
    let project = Project::new();
    assert_success(&project.init(|_| {}).await);
    let before = std::fs::read(project.database()).unwrap();

    let report = project.init(|_| {}).await;

    assert_eq!(report.status, Status::Error);
    assert_eq!(report.error.as_deref(), Some("Database already exists"));
    assert_eq!(report.step.as_ref().map(|step| step.number), Some(11));
    let recovery = report.recovery.as_ref().unwrap();
    assert_eq!(recovery.cleanup, Some(Vec::new()));
    assert_eq!(std::fs::read(project.database()).unwrap(), before);
}

#[tokio::test]
async fn a_failure_after_creation_removes_only_what_the_run_created() {
    let project = Project::new();
    // A file where the migrations folder's parent should be: step 13 fails
    // after step 12 created the database.
    std::fs::write(project.dir.join("prisma"), "not a folder").unwrap();

    let report = project.init(|_| {}).await;

    assert_eq!(report.status, Status::Error);
    assert_eq!(report.step.as_ref().map(|step| step.number), Some(13));
    assert!(!report.init_result().database_created);
    let cleanup = report
        .recovery
        .as_ref()
        .unwrap()
        .cleanup
        .as_deref()
        .unwrap();
    assert!(
        cleanup
            .iter()
            .any(|done| done.starts_with("dropped database dev")),
        "{cleanup:?}"
    );
    assert!(
        !project.database().exists(),
        "the database this run created is gone"
    );
    assert_eq!(
        std::fs::read_to_string(project.dir.join("prisma")).unwrap(),
        "not a folder",
        "what existed before the run is kept"
    );
}

#[tokio::test]
async fn a_dry_run_loads_the_handler_and_changes_nothing() {
    let project = Project::new();

    let report = project.init(|options| options.dry_run = true).await;

    assert_success(&report);
    assert!(
        report.init_result().handler.is_some(),
        "the handler was loaded"
    );
    assert!(!report.init_result().database_created);
    assert!(!project.database().exists());
    assert!(!project.migrations().exists());
    let skipped: Vec<u8> = report
        .init_result()
        .steps
        .iter()
        .filter(|step| step.status == StepStatus::Skipped)
        .map(|step| step.number)
        .collect();
    for step in [12, 13, 14, 15] {
        assert!(skipped.contains(&step), "step {step}: {skipped:?}");
    }
}
