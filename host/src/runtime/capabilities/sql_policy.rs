//! What the `sql` capability refuses: statements that would leave the one
//! database the host opened, act on the server as a whole, or reach the
//! server's filesystem. The database user's privileges remain the real
//! boundary; this policy stops a handler from even trying the obvious.
//!
//! Statements are split on `;` outside quotes, dollar quotes and comments, and
//! each is judged by its leading keywords; a few functions and clauses are
//! refused wherever they appear.

use crate::config::Provider;

/// Leading keywords (upper-case, single-spaced) a statement may not start with.
const REFUSED_STATEMENTS: &[&str] = &[
    "CREATE DATABASE",
    "DROP DATABASE",
    "ALTER DATABASE",
    "USE",
    "ATTACH",
    "DETACH",
    "VACUUM INTO",
    "CREATE USER",
    "DROP USER",
    "ALTER USER",
    "RENAME USER",
    "CREATE ROLE",
    "DROP ROLE",
    "ALTER ROLE",
    "SET ROLE",
    "SET SESSION AUTHORIZATION",
    "ALTER SYSTEM",
    "CREATE TABLESPACE",
    "DROP TABLESPACE",
    "COPY",
    "LOAD DATA",
    "LOAD EXTENSION",
    "SHUTDOWN",
    "KILL",
    "INSTALL PLUGIN",
];

/// In MySQL a schema is a database.
const REFUSED_ON_MYSQL: &[&str] = &["CREATE SCHEMA", "DROP SCHEMA", "ALTER SCHEMA"];

/// Words refused anywhere outside literals: file access and other connections.
const REFUSED_WORDS: &[&str] = &[
    "PG_READ_FILE",
    "PG_READ_BINARY_FILE",
    "PG_LS_DIR",
    "LO_IMPORT",
    "LO_EXPORT",
    "DBLINK",
    "DBLINK_CONNECT",
    "LOAD_FILE",
    "OUTFILE",
    "DUMPFILE",
    "LOAD_EXTENSION",
    "PG_TERMINATE_BACKEND",
];

/// Why `statement` is refused, if it is.
pub fn refusal(provider: Provider, statement: &str) -> Option<String> {
    let tokens = tokenize(statement);
    for words in tokens.split(|token| token == ";") {
        if let Some(first) = words.first()
            && first.starts_with('\\')
        {
            return Some(format!(
                "psql meta-commands such as {first} are not SQL and are refused"
            ));
        }
        let leading = words.iter().take(6).cloned().collect::<Vec<_>>().join(" ");
        let mysql_only: &[&str] = if provider == Provider::Mysql {
            REFUSED_ON_MYSQL
        } else {
            &[]
        };
        if let Some(refused) = REFUSED_STATEMENTS
            .iter()
            .chain(mysql_only)
            .find(|prefix| leading == **prefix || leading.starts_with(&format!("{prefix} ")))
        {
            return Some(format!(
                "{refused} statements are refused: a handler works inside its one database"
            ));
        }
        if let Some(word) = words
            .iter()
            .find(|word| REFUSED_WORDS.contains(&word.as_str()))
        {
            return Some(format!(
                "{word} is refused: a handler may not reach files or other connections"
            ));
        }
        if provider == Provider::Sqlite
            && leading.starts_with("PRAGMA")
            && leading.contains("WRITABLE_SCHEMA")
        {
            return Some("PRAGMA writable_schema is refused".to_owned());
        }
    }
    None
}

/// Upper-cased words and `;` separators of `sql`, skipping string literals,
/// quoted identifiers, dollar-quoted bodies and comments.
fn tokenize(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '-' if next == Some('-') => i = skip_until(&chars, i, "\n"),
            '#' => i = skip_until(&chars, i, "\n"),
            '/' if next == Some('*') => i = skip_until(&chars, i + 2, "*/"),
            '\'' | '"' | '`' => i = skip_quoted(&chars, i, c),
            '$' => match dollar_tag(&chars, i) {
                Some(tag) => i = skip_until(&chars, i + tag.len(), &tag),
                None => i += 1,
            },
            ';' => {
                tokens.push(";".to_owned());
                i += 1;
            }
            c if c.is_alphanumeric() || c == '_' || c == '\\' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '\\')
                {
                    i += 1;
                }
                tokens.push(chars[start..i].iter().collect::<String>().to_uppercase());
            }
            _ => i += 1,
        }
    }
    tokens
}

/// The index just past the first `end` at or after `from` (or the end).
fn skip_until(chars: &[char], from: usize, end: &str) -> usize {
    let end: Vec<char> = end.chars().collect();
    let mut i = from;
    while i < chars.len() {
        if chars[i..].starts_with(&end) {
            return i + end.len();
        }
        i += 1;
    }
    chars.len()
}

/// Past a quoted run opened at `start`; a doubled quote is an escaped one.
fn skip_quoted(chars: &[char], start: usize, quote: char) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '\\' && quote == '\'' {
            i += 2;
            continue;
        }
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    chars.len()
}

/// `$tag$` (or `$$`) opening a PostgreSQL dollar-quoted body at `start`.
fn dollar_tag(chars: &[char], start: usize) -> Option<String> {
    let mut i = start + 1;
    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
        i += 1;
    }
    (chars.get(i) == Some(&'$')).then(|| chars[start..=i].iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> bool {
        Provider::ALL
            .iter()
            .all(|provider| refusal(*provider, sql).is_some())
    }

    #[test]
    fn refuses_leaving_the_database() {
        for sql in [
            "CREATE DATABASE other",
            "  drop   database postgres",
            "SELECT 1; DROP DATABASE x",
            "use mysql",
            "ATTACH DATABASE '/tmp/x.db' AS x",
            "\\connect postgres",
            "/* hi */ CREATE USER eve",
            "ALTER SYSTEM SET fsync = off",
            "COPY t TO '/tmp/out'",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT * FROM t INTO OUTFILE '/tmp/x'",
            "VACUUM INTO '/tmp/copy.db'",
            "SELECT load_extension('evil')",
        ] {
            assert!(refused(sql), "{sql}");
        }
    }

    #[test]
    fn a_mysql_schema_is_a_database() {
        assert!(refusal(Provider::Mysql, "CREATE SCHEMA other").is_some());
        assert_eq!(
            refusal(Provider::Postgresql, "CREATE SCHEMA reporting"),
            None
        );
    }

    #[test]
    fn allows_ordinary_migrations() {
        for sql in [
            "CREATE TABLE users (id INTEGER PRIMARY KEY, used_by TEXT)",
            "INSERT INTO t VALUES ('DROP DATABASE x; USE mysql')",
            "-- CREATE DATABASE in a comment\nCREATE INDEX i ON t (a)",
            "CREATE FUNCTION f() RETURNS void AS $$ BEGIN DROP DATABASE x; END $$ LANGUAGE plpgsql",
            "GRANT SELECT ON users TO reporting",
            "SELECT \"copy\" FROM t",
            "BEGIN; CREATE TABLE a (x INT); COMMIT",
            "UPDATE t SET user_name = 'use'",
        ] {
            for provider in Provider::ALL {
                assert_eq!(refusal(provider, sql), None, "{sql}");
            }
        }
    }
}
