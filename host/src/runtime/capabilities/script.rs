//! `faber:db/migration-script`: a migration's own SQL, run by the host from
//! its file in the migrations folder. The handler names the file and the
//! part of it (between marker lines, as dbmate keeps up and down in one
//! file), never the text: what runs is what the project committed, on the
//! session that may change the schema, while the handler's own statements
//! (`sql`) may only keep the tracking table's rows.

use std::path::{Component, Path};

use super::bookkeeping::{Bookkeeping, Statement};
use crate::db::{Database, ScriptFailure, SqlError as DbError};
use crate::provider::Provider;
use crate::runtime::bindings::latest::SqlError;
use crate::runtime::bindings::latest::migration_script::{Host, Script};
use crate::runtime::scripts::{PartlyRun, ScriptSession};
use crate::runtime::state::HandlerState;

/// The longest script the host reads (the `sql` capability's statement cap).
const MAX_SCRIPT_BYTES: u64 = 16 << 20;

impl Host for HandlerState {
    async fn run(&mut self, script: Script) -> Result<u64, SqlError> {
        self.sql.statements += 1;
        let Some(scripts) = self.scripts.as_mut() else {
            return Err(script_error("no migration script may run in this call"));
        };
        let text = part(&scripts.dir, &script)?;
        let (database, widened) = match (&mut scripts.session, self.database.as_mut()) {
            (ScriptSession::Own(database), _) => (database, None),
            (ScriptSession::Shared, Some(database)) => (database, None),
            (ScriptSession::Widened(table), Some(database)) => (database, Some(*table)),
            (_, None) => return Err(script_error("no database was granted to this call")),
        };
        let provider = database.provider();
        let bookkeeping = match script.bookkeeping {
            None => Bookkeeping::default(),
            Some(requested) => {
                let table = scripts.table.as_deref().ok_or_else(|| {
                    script_error("this call has no tracking table to keep a migration's rows in")
                })?;
                Bookkeeping::new(provider, table, requested).map_err(script_error)?
            }
        };
        if !crate::sql_text::has_statements(&text) && bookkeeping.is_empty() {
            return Ok(0);
        }
        crate::logging::emit(
            crate::logging::Level::Debug,
            &self.handler,
            &format!("migration script {}", script.path),
        );
        if widened.is_some() {
            database.allow_writes(None).await.map_err(from_db)?;
        }
        let ran = run_on(database, &text, script.in_transaction, &bookkeeping).await;
        if let Some(table) = widened {
            // Kept whatever the script did: the handler's statements
            // follow on this connection.
            database.allow_writes(Some(table)).await.map_err(from_db)?;
        }
        ran.map_err(|failure| {
            if failure.error.denied {
                self.sql.denied += 1;
            }
            if failure.completed > 0 && provider != Provider::Postgresql {
                scripts.partly_run = Some(PartlyRun::of(&script.path, &text, failure.completed));
            }
            from_db(failure.error)
        })
    }
}

fn from_db(err: DbError) -> SqlError {
    SqlError {
        code: err.code,
        message: err.message,
    }
}

/// The part and its bookkeeping, together in one transaction where the
/// database can hold them in one (see `migration-script.bookkeeping`),
/// else one after another as the tool's deploy runs them.
async fn run_on(
    database: &mut Database,
    text: &str,
    in_transaction: bool,
    bookkeeping: &Bookkeeping,
) -> Result<u64, ScriptFailure> {
    let provider = database.provider();
    // MySQL commits a schema change, and the rows before it, on its own:
    // `before` goes first, as the tool's deploy writes it, and stays.
    let (first, inside): (&[Statement], &[Statement]) = match provider {
        Provider::Mysql => (&bookkeeping.before, &[]),
        Provider::Postgresql | Provider::Sqlite => (&[], &bookkeeping.before),
    };
    let together =
        in_transaction || (!bookkeeping.is_empty() && holds_in_a_transaction(provider, text));
    if together {
        each(database, first).await.map_err(nothing_completed)?;
        match in_one_transaction(database, inside, text, &bookkeeping.after).await {
            Ok(affected) => return Ok(affected),
            Err(Stopped::Script(error))
                if !in_transaction && error.code.as_deref() == Some(NOT_IN_A_TRANSACTION) => {}
            Err(Stopped::Script(error)) => {
                // What the tool's deploy leaves at a failed migration: its
                // `before` rows, which the handler completes with the failure.
                if let Err(lost) = each(database, inside).await {
                    crate::logging::emit(
                        crate::logging::Level::Warn,
                        "migration-script",
                        &format!(
                            "the failed migration's rows could not be written back: {}",
                            lost.message
                        ),
                    );
                }
                return Err(nothing_completed(error));
            }
            Err(Stopped::Bookkeeping(error)) => return Err(nothing_completed(error)),
        }
    }
    each(database, &bookkeeping.before)
        .await
        .map_err(nothing_completed)?;
    let affected = if crate::sql_text::has_statements(text) {
        database.execute_script(text).await?
    } else {
        0
    };
    each(database, &bookkeeping.after)
        .await
        .map_err(|error| nothing_completed(unrecorded(error)))?;
    Ok(affected)
}

/// PostgreSQL's `active_sql_transaction`: a statement that cannot run
/// inside a transaction block (`CREATE INDEX CONCURRENTLY`).
const NOT_IN_A_TRANSACTION: &str = "25001";

/// Whether the part runs inside the host's transaction as it would outside
/// one. PostgreSQL and SQLite take schema changes back with the rest; MySQL
/// commits them on their own. A part that begins, ends or vacuums itself
/// would end the host's transaction, and SQLite ignores some pragmas inside
/// one (`foreign_keys`, which Prisma's table rewrites turn off): such a
/// part runs as the tool runs it.
fn holds_in_a_transaction(provider: Provider, text: &str) -> bool {
    const ITS_OWN: [&str; 9] = [
        "BEGIN",
        "START",
        "COMMIT",
        "END",
        "ROLLBACK",
        "ABORT",
        "SAVEPOINT",
        "RELEASE",
        "VACUUM",
    ];
    provider != Provider::Mysql
        && !crate::sql_text::statements(text).iter().any(|statement| {
            let word = statement.split_whitespace().next().unwrap_or_default();
            ITS_OWN.iter().any(|own| own.eq_ignore_ascii_case(word))
                || (provider == Provider::Sqlite && word.eq_ignore_ascii_case("PRAGMA"))
        })
}

/// Where a transaction holding a script stopped.
enum Stopped {
    Script(DbError),
    Bookkeeping(DbError),
}

async fn in_one_transaction(
    database: &mut Database,
    before: &[Statement],
    text: &str,
    after: &[Statement],
) -> Result<u64, Stopped> {
    database
        .execute("BEGIN", &[])
        .await
        .map_err(Stopped::Bookkeeping)?;
    let ran = async {
        each(database, before).await.map_err(Stopped::Bookkeeping)?;
        let affected = if crate::sql_text::has_statements(text) {
            database.execute(text, &[]).await.map_err(Stopped::Script)?
        } else {
            0
        };
        each(database, after).await.map_err(Stopped::Bookkeeping)?;
        // A deferred constraint the script broke fails here.
        database
            .execute("COMMIT", &[])
            .await
            .map_err(Stopped::Script)?;
        Ok(affected)
    }
    .await;
    if ran.is_err()
        && let Err(err) = database.execute("ROLLBACK", &[]).await
    {
        // The session may still be inside the transaction: nothing more
        // is written on it, and its end takes the transaction back.
        return Err(Stopped::Bookkeeping(DbError {
            message: format!("rolling the failed migration back failed: {}", err.message),
            ..err
        }));
    }
    ran
}

/// A script that ran, outside a transaction, whose rows could not be
/// written after it: named so, as the tool's own deploy would leave it.
fn unrecorded(error: DbError) -> DbError {
    DbError {
        code: Some("faber-db:bookkeeping".to_owned()),
        message: format!(
            "the migration's SQL ran, but recording it in the tracking table failed ({}); \
             once its changes are checked, record it with faber-db resolve --applied",
            error.message
        ),
        ..error
    }
}

async fn each(database: &mut Database, statements: &[Statement]) -> Result<(), DbError> {
    for statement in statements {
        database.execute(&statement.text, &statement.params).await?;
    }
    Ok(())
}

fn nothing_completed(error: DbError) -> ScriptFailure {
    ScriptFailure {
        completed: 0,
        error,
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
    use super::{Script, between, holds_in_a_transaction, part};

    fn script(path: &str) -> Script {
        Script {
            path: path.to_owned(),
            after_line: None,
            before_line: None,
            in_transaction: false,
            bookkeeping: None,
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
    fn a_part_that_ends_transactions_or_sets_a_sqlite_pragma_runs_on_its_own() {
        use crate::provider::Provider::{Mysql, Postgresql, Sqlite};
        let plain = "-- CreateTable\nCREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);";
        assert!(holds_in_a_transaction(Postgresql, plain));
        assert!(holds_in_a_transaction(Sqlite, plain));
        assert!(!holds_in_a_transaction(Mysql, plain));
        for own in [
            "BEGIN;\nCREATE TABLE t (id INT);\nCOMMIT;",
            "vacuum",
            "SAVEPOINT a",
        ] {
            assert!(!holds_in_a_transaction(Postgresql, own), "{own}");
        }
        let pragma = "PRAGMA foreign_keys=OFF;\nDROP TABLE t;";
        assert!(!holds_in_a_transaction(Sqlite, pragma));
        // A body's own words are not the script's.
        let body = "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;";
        assert!(holds_in_a_transaction(Postgresql, body));
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
