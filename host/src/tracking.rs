//! What each migration's state is, from the tracking rows and the folder a
//! migration-tool handler read (`read-state`). `migrate` and `status` both
//! judge a database here, so they never disagree.
//!
//! A tool may keep several rows for one migration (Prisma keeps a failed
//! attempt, rolled back, beside the attempt that later succeeded); the
//! migration's state is that of its last row that was not rolled back, else
//! rolled back. Prisma lists rows oldest first, so "last" is the latest.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::runtime::{FolderMigration, TrackingRow, TrackingState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Finished, and the file is as it was when it ran (or no checksum is kept).
    Applied,
    /// In the folder, never attempted (or every attempt rolled back, and the
    /// tool applies it again: see [`Migration::rolled_back`]).
    Pending,
    /// Started and neither finished nor rolled back: the tool refuses to
    /// apply anything after it until it is resolved.
    Failed,
    /// Every attempt was rolled back, and it is no longer in the folder.
    RolledBack,
    /// Applied, but the file's checksum is no longer the recorded one.
    Modified,
    /// Recorded in the database, not in the folder.
    Missing,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Failed => "failed",
            State::RolledBack => "rolled-back",
            State::Modified => "modified",
            State::Missing => "missing",
        }
    }
}

/// One migration, as the database and the folder together say it is.
#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    pub name: String,
    pub state: State,
    /// True when some attempt was rolled back (a pending migration that
    /// failed before and will run again).
    pub rolled_back: bool,
    /// The row that decided the state, if any.
    #[serde(skip)]
    pub row: Option<TrackingRow>,
    /// Its SQL, when it is in the folder.
    #[serde(skip)]
    pub sql: Option<String>,
}

/// Every migration of the folder (in the tool's order), then those only
/// the database knows (in the order it recorded them).
pub fn classify(state: &TrackingState) -> Vec<Migration> {
    let in_folder: BTreeSet<&str> = state.folder.iter().map(|m| m.name.as_str()).collect();
    let mut migrations: Vec<Migration> = state
        .folder
        .iter()
        .map(|file| judge(&file.name, rows_of(state, &file.name), Some(file)))
        .collect();
    let mut seen = BTreeSet::new();
    for row in &state.rows {
        if !in_folder.contains(row.name.as_str()) && seen.insert(row.name.as_str()) {
            migrations.push(judge(&row.name, rows_of(state, &row.name), None));
        }
    }
    migrations
}

fn rows_of<'a>(state: &'a TrackingState, name: &str) -> Vec<&'a TrackingRow> {
    state.rows.iter().filter(|row| row.name == name).collect()
}

fn judge(name: &str, rows: Vec<&TrackingRow>, file: Option<&FolderMigration>) -> Migration {
    let rolled_back = rows.iter().any(|row| row.rolled_back_at.is_some());
    let live = rows.iter().rev().find(|row| row.rolled_back_at.is_none());
    let state = match (live, file) {
        (None, Some(_)) => State::Pending,
        (None, None) => State::RolledBack,
        (Some(row), _) if failed(row) => State::Failed,
        (Some(_), None) => State::Missing,
        (Some(row), Some(file)) => match (&row.checksum, &file.checksum) {
            (Some(recorded), Some(now)) if recorded != now => State::Modified,
            _ => State::Applied,
        },
    };
    Migration {
        name: name.to_owned(),
        state,
        rolled_back,
        row: live.or(rows.last()).map(|row| (*row).clone()),
        sql: file.map(|f| f.sql.clone()),
    }
}

/// Started and not finished, and not a tool's record of a finished
/// migration that keeps no times (dbmate: one applied step, no time).
fn failed(row: &TrackingRow) -> bool {
    row.finished_at.is_none()
        && row.rolled_back_at.is_none()
        && !(row.started_at.is_none() && row.applied_steps_count > 0)
}

/// The names in one state, in order.
pub fn named(migrations: &[Migration], state: State) -> Vec<String> {
    migrations
        .iter()
        .filter(|m| m.state == state)
        .map(|m| m.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, checksum: &str, finished: bool, rolled_back: bool) -> TrackingRow {
        TrackingRow {
            name: name.to_owned(),
            checksum: Some(checksum.to_owned()),
            started_at: Some("2026-11-24T00:00:00Z".to_owned()),
            finished_at: finished.then(|| "2026-11-24T00:00:01Z".to_owned()),
            rolled_back_at: rolled_back.then(|| "2026-11-24T00:00:02Z".to_owned()),
            logs: None,
            applied_steps_count: u32::from(finished),
        }
    }

    fn file(name: &str, checksum: &str) -> FolderMigration {
        FolderMigration {
            name: name.to_owned(),
            checksum: Some(checksum.to_owned()),
            sql: String::new(),
        }
    }

    fn states(state: &TrackingState) -> Vec<(String, State)> {
        classify(state)
            .into_iter()
            .map(|m| (m.name, m.state))
            .collect()
    }

    #[test]
    fn every_state_from_rows_and_folder() {
        let state = TrackingState {
            tracking_table: "_prisma_migrations".to_owned(),
            initialized: true,
            rows: vec![
                row("1_a", "x", true, false),
                row("2_b", "old", true, false),
                row("3_c", "x", false, true),
                row("3_c", "x", true, false),
                row("4_d", "x", false, false),
                row("6_gone", "x", true, false),
                row("7_undone", "x", false, true),
            ],
            folder: vec![
                file("1_a", "x"),
                file("2_b", "new"),
                file("3_c", "x"),
                file("4_d", "x"),
                file("5_e", "x"),
            ],
        };
        assert_eq!(
            states(&state),
            [
                ("1_a".to_owned(), State::Applied),
                ("2_b".to_owned(), State::Modified),
                ("3_c".to_owned(), State::Applied),
                ("4_d".to_owned(), State::Failed),
                ("5_e".to_owned(), State::Pending),
                ("6_gone".to_owned(), State::Missing),
                ("7_undone".to_owned(), State::RolledBack),
            ]
        );
    }

    #[test]
    fn a_rolled_back_attempt_in_the_folder_is_pending_again() {
        let state = TrackingState {
            tracking_table: "_prisma_migrations".to_owned(),
            initialized: true,
            rows: vec![row("1_a", "x", false, true)],
            folder: vec![file("1_a", "x")],
        };
        let judged = classify(&state);
        assert_eq!(judged[0].state, State::Pending);
        assert!(judged[0].rolled_back);
    }

    #[test]
    fn a_tool_without_times_or_checksums_is_applied_by_its_row() {
        let state = TrackingState {
            tracking_table: "schema_migrations".to_owned(),
            initialized: true,
            rows: vec![TrackingRow {
                name: "1_a".to_owned(),
                checksum: None,
                started_at: None,
                finished_at: None,
                rolled_back_at: None,
                logs: None,
                applied_steps_count: 1,
            }],
            folder: vec![FolderMigration {
                name: "1_a".to_owned(),
                checksum: None,
                sql: String::new(),
            }],
        };
        assert_eq!(states(&state), [("1_a".to_owned(), State::Applied)]);
    }
}
