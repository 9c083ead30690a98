//! Step 16: one JSON line per run in the project's operation log, when
//! `integration.logs_plugin` is configured. Nothing secret goes in it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::config::config_dir;
use crate::db::Confinement;
use crate::report::Status;
use crate::runtime::SqlTally;

pub fn path(project: &Path) -> PathBuf {
    config_dir(project).join("logs").join("operations.jsonl")
}

#[derive(Serialize)]
pub struct Record<'a> {
    pub log_type: &'static str,
    pub operation: &'static str,
    pub environment: &'a str,
    pub database_name: Option<&'a str>,
    pub status: &'a str,
    pub timestamp: String,
    pub duration_ms: u64,
    pub logs_plugin: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    /// The handler's statements: sent, refused by faber-db, denied by the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler_sql: Option<SqlTally>,
    /// The session was not confined (see the report's warnings).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unconfined_handler: bool,
    /// A dry run: nothing was changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Migrations applied (or, in a dry run, that would be), oldest first.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub migrations: &'a [String],
}

impl<'a> Record<'a> {
    /// The record of a run of `operation` that began at `started` and
    /// ended with `status`; what only some runs have is left empty.
    pub fn new(
        operation: &'static str,
        environment: &'a str,
        status: Status,
        started: Instant,
        logs_plugin: &'a str,
    ) -> Record<'a> {
        Record {
            log_type: "database_operation",
            operation,
            environment,
            database_name: None,
            status: status.as_str(),
            timestamp: now_rfc3339(),
            duration_ms: started.elapsed().as_millis() as u64,
            logs_plugin,
            error: None,
            handler_sql: None,
            unconfined_handler: false,
            dry_run: false,
            migrations: &[],
        }
    }

    /// Notes whether the handler's session, as the report describes it,
    /// was confined (an unconfined one carries a warning).
    pub fn session(mut self, session: Option<&Confinement>) -> Record<'a> {
        self.unconfined_handler = session.is_some_and(|session| session.warning.is_some());
        self
    }
}

/// Appends one line. `O_APPEND` writes of one short line are atomic, so
/// concurrent runs never interleave within a record.
pub fn append(project: &Path, record: &Record<'_>) -> std::io::Result<PathBuf> {
    let path = path(project);
    crate::config::ignore_run_time_files(project)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_vec(record)?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    file.write_all(&line)?;
    Ok(path)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
