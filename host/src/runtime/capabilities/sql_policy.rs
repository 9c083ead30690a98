//! Early, friendly refusals for statements a handler has no business sending:
//! leaving its database, acting on the server as a whole, reaching files or
//! other connections.
//!
//! This is not the boundary. The boundary is the session itself: the server
//! (or SQLite's authorizer) decides what the handler's account may do, and a
//! statement that slips past this list meets that. The list exists so that
//! an honest handler's mistake gets a clear message before it reaches the
//! server. It reads SQL the way each dialect does (string escapes, comment
//! forms, MySQL's executable comments, identifiers with `$`), reads quoted
//! identifiers as words, and reads the bodies of dollar-quoted blocks and the
//! strings given to `EXECUTE` as SQL too.

use crate::provider::Provider;

/// Leading keywords (upper-case, single-spaced) a statement may not start with.
const REFUSED_STATEMENTS: &[&str] = &[
    "CREATE DATABASE",
    "DROP DATABASE",
    "ALTER DATABASE",
    "USE",
    "ATTACH",
    "DETACH",
    "CREATE USER",
    "DROP USER",
    "ALTER USER",
    "RENAME USER",
    "CREATE ROLE",
    "DROP ROLE",
    "ALTER ROLE",
    "CREATE GROUP",
    "DROP GROUP",
    "ALTER GROUP",
    "SET ROLE",
    "SET SESSION ROLE",
    "SET LOCAL ROLE",
    "SET SESSION AUTHORIZATION",
    "SET GLOBAL",
    "SET PERSIST",
    "SET PERSIST_ONLY",
    "ALTER SYSTEM",
    "CREATE TABLESPACE",
    "DROP TABLESPACE",
    "CREATE SERVER",
    "CREATE FOREIGN DATA WRAPPER",
    "CREATE USER MAPPING",
    "IMPORT FOREIGN SCHEMA",
    "COPY",
    "LOAD",
    "SHUTDOWN",
    "KILL",
    "FLUSH",
    "PURGE",
    "INSTALL",
    "UNINSTALL",
    "CHANGE MASTER",
    "CHANGE REPLICATION",
];

/// In MySQL a schema is a database.
const REFUSED_ON_MYSQL: &[&str] = &["CREATE SCHEMA", "DROP SCHEMA", "ALTER SCHEMA"];

/// Words refused anywhere outside literals: files, other connections,
/// server settings and other sessions.
const REFUSED_WORDS: &[&str] = &[
    "PG_READ_FILE",
    "PG_READ_BINARY_FILE",
    "PG_LS_DIR",
    "PG_LS_LOGDIR",
    "PG_LS_WALDIR",
    "PG_LS_TMPDIR",
    "PG_STAT_FILE",
    "PG_FILE_WRITE",
    "LO_IMPORT",
    "LO_EXPORT",
    "DBLINK",
    "DBLINK_CONNECT",
    "DBLINK_CONNECT_U",
    "DBLINK_EXEC",
    "DBLINK_OPEN",
    "DBLINK_SEND_QUERY",
    "SET_CONFIG",
    "PG_RELOAD_CONF",
    "PG_ROTATE_LOGFILE",
    "PG_TERMINATE_BACKEND",
    "PG_CANCEL_BACKEND",
    "PG_SIGNAL_BACKEND",
    "LOAD_FILE",
    "OUTFILE",
    "DUMPFILE",
    "LOAD_EXTENSION",
    "WRITABLE_SCHEMA",
];

/// Why `statement` is refused, if it is.
pub fn refusal(provider: Provider, statement: &str) -> Option<String> {
    let tokens = Lexer::new(provider).tokens(statement);
    for words in tokens.split(|token| token == ";") {
        if let Some(reason) = judge(provider, words) {
            return Some(reason);
        }
    }
    None
}

fn judge(provider: Provider, words: &[String]) -> Option<String> {
    if let Some(first) = words.first()
        && first.starts_with('\\')
    {
        return Some(format!(
            "psql meta-commands such as {first} are not SQL and are refused"
        ));
    }
    let plain: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|word| *word != ".")
        .collect();
    let leading = plain.iter().take(6).copied().collect::<Vec<_>>().join(" ");
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
    if plain.first() == Some(&"VACUUM") && plain.contains(&"INTO") {
        return Some("VACUUM INTO is refused: a handler may not write files".to_owned());
    }
    if plain.first() == Some(&"GRANT")
        && (plain.contains(&"IDENTIFIED") || words.windows(3).any(|w| w == ["*", ".", "*"]))
    {
        return Some(
            "GRANT on the whole server, or one that creates an account, is refused".to_owned(),
        );
    }
    if let Some(word) = plain.iter().find(|word| REFUSED_WORDS.contains(word)) {
        return Some(format!(
            "{word} is refused: a handler may not reach files, settings, other sessions or other connections"
        ));
    }
    if plain
        .windows(2)
        .any(|pair| pair[1] == "PROGRAM" && matches!(pair[0], "TO" | "FROM"))
    {
        return Some("COPY … PROGRAM is refused: a handler may not run commands".to_owned());
    }
    other_database(provider, words)
}

/// A table named in another database (MySQL `other.t`) or in the server's
/// catalogs (`UPDATE pg_database`): after the keywords that name a table.
fn other_database(provider: Provider, words: &[String]) -> Option<String> {
    const NAMING: &[&str] = &["TABLE", "FROM", "JOIN", "INTO", "UPDATE"];
    let writes = matches!(
        words.first().map(String::as_str),
        Some("UPDATE" | "INSERT" | "DELETE" | "ALTER" | "DROP" | "TRUNCATE")
    );
    for (i, word) in words.iter().enumerate() {
        if !NAMING.contains(&word.as_str()) {
            continue;
        }
        let Some(name) = words.get(i + 1) else {
            continue;
        };
        let qualified = words.get(i + 2).is_some_and(|dot| dot == ".");
        if provider == Provider::Mysql && qualified && name != "INFORMATION_SCHEMA" {
            return Some(format!(
                "{name}.… names another database: a handler works inside its one database (leave tables unqualified)"
            ));
        }
        if provider == Provider::Postgresql
            && writes
            && (name.starts_with("PG_") || name == "INFORMATION_SCHEMA")
        {
            return Some(format!(
                "writing to the server's catalog ({name}) is refused"
            ));
        }
    }
    None
}

/// Upper-cased words, `.` and `;` of a statement, as its dialect reads it.
struct Lexer {
    provider: Provider,
    tokens: Vec<String>,
}

impl Lexer {
    fn new(provider: Provider) -> Lexer {
        Lexer {
            provider,
            tokens: Vec::new(),
        }
    }

    fn tokens(mut self, sql: &str) -> Vec<String> {
        let mysql = self.provider == Provider::Mysql;
        let chars: Vec<char> = sql.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match c {
                '-' if next == Some('-') => i = skip_until(&chars, i, "\n"),
                '#' if mysql => i = skip_until(&chars, i, "\n"),
                // MySQL runs the contents of `/*! … */` and `/*M! … */`.
                '/' if next == Some('*')
                    && mysql
                    && matches!(chars.get(i + 2), Some('!' | 'M')) =>
                {
                    i += 3;
                    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '!') {
                        i += 1;
                    }
                }
                '/' if next == Some('*') => i = skip_until(&chars, i + 2, "*/"),
                '*' if next == Some('/') && mysql => i += 2,
                '\'' => {
                    let escapes = mysql
                        || (self.provider == Provider::Postgresql
                            && i > 0
                            && matches!(chars[i - 1], 'E' | 'e'));
                    let end = skip_quoted(&chars, i, '\'', escapes);
                    // The string EXECUTE (or PREPARE … FROM) runs is SQL.
                    if matches!(
                        self.tokens.last().map(String::as_str),
                        Some("EXECUTE" | "FROM")
                    ) {
                        let inner: String = chars[i + 1..end.saturating_sub(1).max(i + 1)]
                            .iter()
                            .collect();
                        self.nested(&inner);
                    }
                    i = end;
                }
                '"' | '`' => {
                    let end = skip_quoted(&chars, i, c, mysql && c == '"');
                    let inner: String = chars[i + 1..end.saturating_sub(1).max(i + 1)]
                        .iter()
                        .collect();
                    self.tokens.push(
                        inner
                            .replace(&format!("{c}{c}"), &c.to_string())
                            .to_uppercase(),
                    );
                    i = end;
                }
                '$' if self.provider == Provider::Postgresql => match dollar_tag(&chars, i) {
                    Some(tag) => {
                        let body_start = i + tag.chars().count();
                        let end = skip_until(&chars, body_start, &tag);
                        let body_end = end.saturating_sub(tag.chars().count()).max(body_start);
                        let body: String = chars[body_start..body_end].iter().collect();
                        self.nested(&body);
                        i = end;
                    }
                    None => i += 1,
                },
                ';' | '.' | '*' => {
                    self.tokens.push(c.to_string());
                    i += 1;
                }
                c if c.is_alphanumeric() || c == '_' || c == '\\' => {
                    let start = i;
                    while i < chars.len()
                        && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '\\' | '$'))
                    {
                        i += 1;
                    }
                    self.tokens
                        .push(chars[start..i].iter().collect::<String>().to_uppercase());
                }
                _ => i += 1,
            }
        }
        self.tokens
    }

    /// Code inside a body or a dynamic string: its tokens join the stream
    /// (without its own `;`, so its statements are judged by their words).
    fn nested(&mut self, sql: &str) {
        let inner = Lexer::new(self.provider).tokens(sql);
        self.tokens
            .extend(inner.into_iter().filter(|token| token != ";"));
    }
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

/// Past a quoted run opened at `start`; a doubled quote is an escaped one,
/// and so is a backslashed one where the dialect says so.
fn skip_quoted(chars: &[char], start: usize, quote: char, backslash_escapes: bool) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '\\' && backslash_escapes {
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
            "VACUUM main INTO '/tmp/copy.db'",
            "SELECT load_extension('evil')",
            "CREATE GROUP evil",
            "SET SESSION ROLE postgres",
            "SELECT set_config('role', 'postgres', false)",
            "LOAD 'auto_explain'",
            "SELECT pg_reload_conf()",
            "SET GLOBAL general_log = 1",
            "SELECT \"pg_read_file\"('/etc/passwd')",
            "PRAGMA \"writable_schema\" = 1",
        ] {
            assert!(refused(sql), "{sql}");
        }
    }

    #[test]
    fn reads_bodies_and_dynamic_sql() {
        for sql in [
            "DO $$ BEGIN EXECUTE 'COPY t TO PROGRAM ''id'''; END $$",
            "DO $x$ BEGIN PERFORM dblink_exec('dbname=postgres', 'DROP DATABASE a'); END $x$",
            "CREATE FUNCTION f() RETURNS void AS $$ SELECT pg_read_file('/etc/passwd') $$ LANGUAGE sql",
        ] {
            assert!(refusal(Provider::Postgresql, sql).is_some(), "{sql}");
        }
        assert!(
            refusal(
                Provider::Postgresql,
                "UPDATE pg_database SET datallowconn = false"
            )
            .is_some()
        );
    }

    #[test]
    fn reads_each_dialects_strings_and_comments() {
        // PostgreSQL: a backslash does not escape in a standard string, so
        // the statement after it is real.
        assert!(refusal(Provider::Postgresql, "SELECT 'a\\'; CREATE ROLE eve").is_some());
        assert!(refusal(Provider::Sqlite, "SELECT 'a\\'; ATTACH 'x.db' AS x").is_some());
        // MySQL: `#` starts a comment, and `/*! … */` runs.
        assert!(refusal(Provider::Mysql, "SELECT 1 /*! ; SET GLOBAL x = 1 */").is_some());
        assert!(refusal(Provider::Mysql, "SELECT 1 # '\n; CREATE USER eve").is_some());
        // PostgreSQL: `#` is an operator, not a comment.
        assert!(refusal(Provider::Postgresql, "SELECT 2 # 3; CREATE ROLE eve").is_some());
        assert!(refusal(Provider::Mysql, "DROP TABLE other_db.t").is_some());
        assert!(refusal(Provider::Mysql, "SELECT * FROM mysql.user").is_some());
        assert!(
            refusal(
                Provider::Mysql,
                "GRANT ALL ON app.* TO 'e'@'%' IDENTIFIED BY 'x'"
            )
            .is_some()
        );
        // PostgreSQL: `$` inside an identifier does not open a dollar quote.
        assert!(
            refusal(
                Provider::Postgresql,
                "SELECT a$b, 1; CREATE ROLE eve; SELECT $b"
            )
            .is_some()
        );
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
            "SELECT users.id FROM users JOIN posts ON posts.user_id = users.id",
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'x'",
        ] {
            for provider in Provider::ALL {
                assert_eq!(refusal(provider, sql), None, "{sql}");
            }
        }
    }
}
