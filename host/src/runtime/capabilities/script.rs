//! `faber:db/migration-script`: a migration's own SQL, run by the host from
//! its file in the migrations folder. The handler names the file and the
//! part of it (between marker lines, as dbmate keeps up and down in one
//! file), never the text: what runs is what the project committed, on the
//! session that may change the schema, while the handler's own statements
//! (`sql`) may only keep the tracking table's rows.

use std::ffi::CStr;
use std::path::{Component, Path, PathBuf};

use crate::config::Provider;
use crate::db::{Database, ScriptFailure, SqlError as DbError};
use crate::runtime::bindings::latest::SqlError;
use crate::runtime::bindings::latest::migration_script::{Host, Script};
use crate::runtime::state::HandlerState;

/// The longest script the host reads (the `sql` capability's statement cap).
const MAX_SCRIPT_BYTES: u64 = 16 << 20;

/// What the host grants a call for running migration scripts.
pub struct Scripts {
    /// The migrations folder, on the host.
    dir: PathBuf,
    session: ScriptSession,
    /// The last script that failed after some of its statements took effect.
    partly_run: Option<PartlyRun>,
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
    /// Scripts from `dir`, run on `session`.
    pub fn new(dir: PathBuf, session: ScriptSession) -> Scripts {
        Scripts {
            dir,
            session,
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

impl Host for HandlerState {
    async fn run(&mut self, script: Script) -> Result<u64, SqlError> {
        self.sql.statements += 1;
        let Some(scripts) = self.scripts.as_mut() else {
            return Err(script_error("no migration script may run in this call"));
        };
        let text = part(&scripts.dir, &script)?;
        if !crate::sql_text::has_statements(&text) {
            return Ok(0);
        }
        crate::logging::emit(
            crate::logging::Level::Debug,
            &self.handler,
            &format!("migration script {}", script.path),
        );
        let ran = match (&mut scripts.session, self.database.as_mut()) {
            (ScriptSession::Own(database), _) => {
                run_on(database, &text, script.in_transaction).await
            }
            (ScriptSession::Shared, Some(database)) => {
                run_on(database, &text, script.in_transaction).await
            }
            (ScriptSession::Widened(table), Some(database)) => {
                let table: &'static CStr = table;
                database.allow_writes(None).await.map_err(from_db)?;
                let ran = run_on(database, &text, script.in_transaction).await;
                // Kept whatever the script did: the handler's statements
                // follow on this connection.
                database.allow_writes(Some(table)).await.map_err(from_db)?;
                ran
            }
            (_, None) => return Err(script_error("no database was granted to this call")),
        };
        ran.map_err(|failure| {
            if failure.error.denied {
                self.sql.denied += 1;
            }
            let provider = self.database.as_ref().map(Database::provider);
            if !script.in_transaction
                && failure.completed > 0
                && provider.is_some_and(|provider| provider != Provider::Postgresql)
            {
                scripts.partly_run = Some(PartlyRun::of(&script.path, &text, failure.completed));
            }
            from_db(failure.error)
        })
    }
}

impl PartlyRun {
    /// The first `completed` statements of `text`, and the one after them.
    fn of(path: &str, text: &str, completed: usize) -> PartlyRun {
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

fn from_db(err: DbError) -> SqlError {
    SqlError {
        code: err.code,
        message: err.message,
    }
}

/// The script as one text, in a transaction when asked.
async fn run_on(
    database: &mut Database,
    text: &str,
    in_transaction: bool,
) -> Result<u64, ScriptFailure> {
    let nothing_completed = |error| ScriptFailure {
        completed: 0,
        error,
    };
    if !in_transaction {
        return database.execute_script(text).await;
    }
    database
        .execute("BEGIN", &[])
        .await
        .map_err(nothing_completed)?;
    match database.execute(text, &[]).await {
        Ok(affected) => database
            .execute("COMMIT", &[])
            .await
            .map(|_| affected)
            .map_err(nothing_completed),
        Err(err) => {
            let _ = database.execute("ROLLBACK", &[]).await;
            Err(nothing_completed(err))
        }
    }
}

/// The part of the file `script` names: a UTF-8 file inside `dir`, from
/// after its `after-line` to before its `before-line`.
fn part(dir: &Path, script: &Script) -> Result<String, SqlError> {
    let relative = Path::new(&script.path);
    let plain = relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    if !plain || script.path.is_empty() {
        return Err(script_error(format!(
            "{:?} is not a path inside the migrations folder",
            script.path
        )));
    }
    let root = dir
        .canonicalize()
        .map_err(|err| script_error(format!("the migrations folder: {err}")))?;
    let file = root
        .join(relative)
        .canonicalize()
        .ok()
        .filter(|real| real.starts_with(&root) && real.is_file())
        .ok_or_else(|| {
            script_error(format!(
                "{} is not a file in the migrations folder",
                script.path
            ))
        })?;
    let size = std::fs::metadata(&file).map(|meta| meta.len()).unwrap_or(0);
    if size > MAX_SCRIPT_BYTES {
        return Err(script_error(format!(
            "{} holds {size} bytes, over the limit of {MAX_SCRIPT_BYTES}",
            script.path
        )));
    }
    let text = std::fs::read_to_string(&file).map_err(|err| {
        script_error(format!(
            "{} cannot be read as UTF-8 text: {err}",
            script.path
        ))
    })?;
    between(
        &text,
        script.after_line.as_deref(),
        script.before_line.as_deref(),
    )
    .map(str::to_owned)
    .ok_or_else(|| {
        script_error(format!(
            "{} has no line starting with {:?}",
            script.path,
            script.after_line.as_deref().unwrap_or_default()
        ))
    })
}

/// The text after the first line beginning with `after` (from the start
/// when none) up to the first later line beginning with `before` (to the
/// end when none, or when there is no such line).
fn between<'a>(text: &'a str, after: Option<&str>, before: Option<&str>) -> Option<&'a str> {
    let mut start = 0;
    if let Some(marker) = after {
        let line = line_starts(text).find(|&at| text[at..].starts_with(marker))?;
        start = text[line..]
            .find('\n')
            .map_or(text.len(), |end| line + end + 1);
    }
    let end = before
        .and_then(|marker| {
            line_starts(text)
                .filter(|&at| at >= start)
                .find(|&at| text[at..].starts_with(marker))
        })
        .unwrap_or(text.len());
    Some(&text[start..end])
}

/// Where each line of `text` starts.
fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1))
}

fn script_error(message: impl Into<String>) -> SqlError {
    SqlError {
        code: Some("faber-db:script".to_owned()),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Script, between, part};

    fn script(path: &str) -> Script {
        Script {
            path: path.to_owned(),
            after_line: None,
            before_line: None,
            in_transaction: false,
        }
    }

    #[test]
    fn only_a_file_inside_the_folder_is_read() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("migrations");
        std::fs::create_dir_all(folder.join("1_init")).unwrap();
        std::fs::write(folder.join("1_init/migration.sql"), "SELECT 1;").unwrap();
        std::fs::write(root.path().join("secret.sql"), "DROP TABLE users;").unwrap();
        std::os::unix::fs::symlink(root.path().join("secret.sql"), folder.join("link.sql"))
            .unwrap();
        assert_eq!(
            part(&folder, &script("1_init/migration.sql")).unwrap(),
            "SELECT 1;"
        );
        for outside in [
            "../secret.sql",
            "/etc/passwd",
            "link.sql",
            "1_init",
            "",
            "missing.sql",
        ] {
            let refused = part(&folder, &script(outside)).unwrap_err();
            assert_eq!(
                refused.code.as_deref(),
                Some("faber-db:script"),
                "{outside}"
            );
        }
    }

    #[test]
    fn the_part_between_marker_lines() {
        let file = "-- migrate:up transaction:false\nCREATE TABLE t (id INT);\n\n-- migrate:down\nDROP TABLE t;\n";
        assert_eq!(
            between(file, Some("-- migrate:up"), Some("-- migrate:down")),
            Some("CREATE TABLE t (id INT);\n\n")
        );
        assert_eq!(between(file, None, None), Some(file));
        assert_eq!(
            between("CREATE TABLE t (id INT);", Some("-- migrate:up"), None),
            None
        );
        assert_eq!(
            between(
                "-- migrate:up\nSELECT 1;",
                Some("-- migrate:up"),
                Some("-- migrate:down")
            ),
            Some("SELECT 1;")
        );
    }
}
