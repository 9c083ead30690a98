//! The destructive-change lint: statements of a migration that lose data or
//! break what reads it (dropped tables, columns, types and enum values,
//! column type changes, `TRUNCATE`, `DELETE`/`UPDATE` without `WHERE`, …).
//! It reads SQL as text, so it flags what a reviewer should look at; it
//! never decides whether a migration runs.

use serde::Serialize;

use crate::sql_text;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub migration: String,
    /// The statement, whitespace collapsed, cut to 200 characters.
    pub statement: String,
    pub reason: &'static str,
}

impl Finding {
    /// One line for prompts and the human report.
    pub fn line(&self) -> String {
        format!("{}: {} ({})", self.migration, self.statement, self.reason)
    }
}

/// The findings of one migration's SQL, in statement order.
pub fn check(migration: &str, sql: &str) -> Vec<Finding> {
    sql_text::statements(sql)
        .into_iter()
        .filter_map(|statement| {
            let words = normalized(&statement);
            reason(&words).map(|reason| Finding {
                migration: migration.to_owned(),
                statement: shown(&statement),
                reason,
            })
        })
        .collect()
}

/// Why a statement (upper case, single spaces, no quotes) is destructive.
fn reason(words: &str) -> Option<&'static str> {
    let starts = |prefix: &str| words.starts_with(prefix);
    let has = |part: &str| words.contains(part);
    if starts("DROP TABLE") {
        Some("drops a table and its data")
    } else if starts("DROP SCHEMA") || starts("DROP DATABASE") {
        Some("drops a schema and everything in it")
    } else if starts("DROP TYPE") || starts("DROP DOMAIN") {
        Some("drops a type (an enum: its values)")
    } else if starts("TRUNCATE") {
        Some("deletes every row")
    } else if starts("DELETE") && !has(" WHERE ") {
        Some("DELETE without WHERE deletes every row")
    } else if starts("UPDATE") && !has(" WHERE ") {
        Some("UPDATE without WHERE changes every row")
    } else if starts("ALTER TYPE") && (has(" DROP VALUE") || has(" RENAME VALUE")) {
        Some("removes or renames an enum value that rows may hold")
    } else if starts("ALTER TABLE") && drops_a_column(words) {
        Some("drops a column and its data")
    } else if starts("ALTER TABLE") && (has(" TYPE ") || has(" SET DATA TYPE ")) {
        Some("changes a column's type (values may be cast or lost)")
    } else if starts("ALTER TABLE") && (has(" MODIFY ") || has(" CHANGE ")) {
        Some("redefines a column (its type may narrow)")
    } else if starts("ALTER TABLE") && has(" RENAME ") {
        Some("renames what existing queries name")
    } else {
        None
    }
}

/// `DROP COLUMN c`, or MySQL's bare `DROP c`; not a dropped constraint,
/// default, index or key.
fn drops_a_column(words: &str) -> bool {
    words.contains(" DROP COLUMN ")
        || words.split(" DROP ").skip(1).any(|rest| {
            ![
                "CONSTRAINT",
                "DEFAULT",
                "NOT NULL",
                "INDEX",
                "FOREIGN KEY",
                "PRIMARY KEY",
                "CHECK",
                "IDENTITY",
                "EXPRESSION",
            ]
            .iter()
            .any(|kept| rest.starts_with(kept))
        })
}

fn normalized(statement: &str) -> String {
    let spaced = statement
        .replace(['"', '`'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    format!("{spaced} ")
}

pub(super) fn shown(statement: &str) -> String {
    let text = statement.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(sql: &str) -> Vec<&'static str> {
        check("m", sql).into_iter().map(|f| f.reason).collect()
    }

    #[test]
    fn flags_what_loses_data() {
        let sql = r#"
            -- DropTable
            DROP TABLE "Post";
            ALTER TABLE "User" DROP COLUMN "age";
            ALTER TABLE users ALTER COLUMN name TYPE varchar(10);
            ALTER TABLE t MODIFY name VARCHAR(10);
            DROP TYPE "Role";
            TRUNCATE logs;
            DELETE FROM sessions;
            UPDATE users SET active = false;
            ALTER TABLE t DROP `c`;
        "#;
        assert_eq!(reasons(sql).len(), 9, "{:?}", check("m", sql));
    }

    #[test]
    fn leaves_what_keeps_data_alone() {
        let sql = r#"
            CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "name" TEXT);
            CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
            ALTER TABLE "Post" ADD CONSTRAINT "fk" FOREIGN KEY ("userId") REFERENCES "User"("id");
            ALTER TABLE "Post" DROP CONSTRAINT "fk";
            ALTER TABLE t ALTER COLUMN c DROP DEFAULT;
            CREATE INDEX "i" ON "Post"("userId");
            DELETE FROM sessions WHERE expired;
            UPDATE users SET a = 1 WHERE id = 2;
            INSERT INTO t VALUES ('DROP TABLE x; TRUNCATE y');
            CREATE FUNCTION f() RETURNS void AS $$ BEGIN DELETE FROM t; END $$ LANGUAGE plpgsql;
        "#;
        assert!(reasons(sql).is_empty(), "{:?}", check("m", sql));
    }
}
