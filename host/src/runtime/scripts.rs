//! The `migration-script` grant: where a call's scripts are, the session they
//! run on, and what one that stopped part-way left (run by
//! `capabilities::script`).

use std::ffi::CStr;
use std::path::PathBuf;

use crate::db::Database;

/// What the host grants a call for running migration scripts.
pub struct Scripts {
    /// The migrations folder, on the host.
    pub(super) dir: PathBuf,
    pub(super) session: ScriptSession,
    /// The table `bookkeeping` writes, where the call has one.
    pub(super) table: Option<String>,
    /// The last script that failed after some of its statements took effect.
    pub(super) partly_run: Option<PartlyRun>,
}

/// A script that stopped part-way, outside a transaction, on a server that
/// commits each statement on its own (SQLite, MySQL): what it did stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartlyRun {
    /// The file, relative to the migrations folder.
    pub path: String,
    /// The statements that completed, as the host reads the script (the
    /// first line of each, shortened).
    pub completed: Vec<String>,
    /// The statement that failed, likewise.
    pub failed: Option<String>,
}

/// The session a migration's script runs on.
pub enum ScriptSession {
    /// One of its own: the writing session, beside the handler's, which may
    /// only keep its tracking table's rows.
    Own(Database),
    /// The `sql` capability's, which is not restricted.
    Shared,
    /// SQLite's one connection (only it may hold the file's lock), kept to
    /// this table's rows by its authorizer except while a script runs.
    Widened(&'static CStr),
}

impl ScriptSession {
    /// Where a handler session's scripts run: the writing session kept
    /// apart from it, else its own connection, widened for the script's
    /// length where it is kept to a table's rows (SQLite).
    pub fn of(writer: Option<Database>, rows_only: Option<&'static CStr>) -> ScriptSession {
        match (writer, rows_only) {
            (Some(writer), _) => ScriptSession::Own(writer),
            (None, Some(table)) => ScriptSession::Widened(table),
            (None, None) => ScriptSession::Shared,
        }
    }
}

impl Scripts {
    /// Scripts from `dir`, run on `session`, their bookkeeping written to
    /// `table` (the handler's tracking table).
    pub fn new(dir: PathBuf, table: Option<String>, session: ScriptSession) -> Scripts {
        Scripts {
            dir,
            session,
            table,
            partly_run: None,
        }
    }

    /// The session of its own, given back with the call's end, and the
    /// script that stopped part-way, if one did.
    pub fn into_parts(self) -> (Option<Database>, Option<PartlyRun>) {
        let database = match self.session {
            ScriptSession::Own(database) => Some(database),
            ScriptSession::Shared | ScriptSession::Widened(_) => None,
        };
        (database, self.partly_run)
    }
}

impl PartlyRun {
    /// The first `completed` statements of `text`, and the one after them.
    pub(super) fn of(path: &str, text: &str, completed: usize) -> PartlyRun {
        let mut statements = crate::sql_text::statements(text)
            .into_iter()
            .map(|statement| {
                let line = statement.split_whitespace().collect::<Vec<_>>().join(" ");
                match line.char_indices().nth(80) {
                    Some((end, _)) => format!("{}…", &line[..end]),
                    None => line,
                }
            });
        PartlyRun {
            path: path.to_owned(),
            completed: statements.by_ref().take(completed).collect(),
            failed: statements.next(),
        }
    }
}
