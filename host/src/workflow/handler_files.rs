//! Files a handler writes into the migrations folder are the handler's, and
//! every later run applies them as the project's own migrations: so what it
//! writes must hold the SQL it was given and nothing more. A baseline or an
//! empty migration is the tool's template (comments only); a migration made
//! from the user's SQL holds exactly those statements. Anything else is
//! refused before any run can apply it, whatever the statements say.

use std::path::Path;

use super::lint;
use crate::failure::{Failure, Outcome};
use crate::sql_text;

/// Checks that the SQL file `written` (relative to `folder`) holds the
/// statements of `given` and no other, comments aside. Files that are not
/// SQL (a lock file, a journal) run nothing and pass.
pub fn holds_only(folder: &Path, written: &str, given: &str) -> Outcome<()> {
    if !written.ends_with(".sql") {
        return Ok(());
    }
    let text = std::fs::read_to_string(folder.join(written)).map_err(|err| {
        Failure::new(format!("Cannot read {written}, which the handler wrote"))
            .cause(err.to_string())
    })?;
    let found = statements(&text);
    let expected = statements(given);
    if found == expected {
        return Ok(());
    }
    let extra = found
        .iter()
        .find(|statement| !expected.contains(statement))
        .map_or_else(
            || "it lacks statements it was given".to_owned(),
            |statement| format!("it adds: {}", lint::shown(statement)),
        );
    let what = match expected.is_empty() {
        true => "the tool's empty template (comments only)",
        false => "the SQL it was given",
    };
    Err(
        Failure::new(format!("The handler wrote SQL of its own into {written}"))
            .cause(format!(
                "a migration a handler writes holds {what}; {extra}"
            ))
            .help("The file is removed, so no run applies it; report it to the handler's author"),
    )
}

/// The statements of `sql`, each with its whitespace collapsed.
fn statements(sql: &str) -> Vec<String> {
    sql_text::statements(sql)
        .iter()
        .map(|statement| statement.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::holds_only;

    fn judged(written: &str, given: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.sql"), written).unwrap();
        holds_only(dir.path(), "m.sql", given).map_err(|failure| failure.to_string())
    }

    #[test]
    fn a_template_holds_comments_only() {
        assert!(judged("-- This is an empty migration.", "").is_ok());
        assert!(judged("-- migrate:up\n\n-- migrate:down\n", "").is_ok());
        let refused = judged(
            "-- baseline\nCREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql;",
            "",
        );
        assert!(
            refused
                .unwrap_err()
                .contains("it adds: CREATE FUNCTION f()")
        );
    }

    #[test]
    fn a_migration_from_the_users_sql_holds_those_statements_only() {
        let given = "CREATE TABLE t (id INTEGER);\nCREATE INDEX t_id ON t (id);\n";
        let laid_out = "-- migrate:up\nCREATE TABLE t (id INTEGER);\n  CREATE INDEX t_id\n ON t (id);\n\n-- migrate:down\n";
        assert!(judged(laid_out, given).is_ok());
        assert!(judged(&format!("{given}DROP TABLE users;"), given).is_err());
        assert!(judged("CREATE TABLE t (id INTEGER);", given).is_err());
    }

    #[test]
    fn files_that_are_not_sql_pass() {
        let dir = tempfile::tempdir().unwrap();
        assert!(holds_only(dir.path(), "migration_lock.toml", "").is_ok());
    }
}
