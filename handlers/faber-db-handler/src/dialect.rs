//! What differs between the three providers in the SQL a handler writes:
//! parameter markers, identifier quoting, and how to ask whether a table
//! exists.

use crate::sql::{SqlValue, query};
use crate::types::{HandlerError, Provider};

/// The longest identifier PostgreSQL keeps whole (MySQL allows 64, SQLite
/// any length): a name within it means the same on every provider.
pub const MAX_IDENTIFIER_LENGTH: usize = 63;

/// The parameter marker number `n` (1-based): `$n` on PostgreSQL, `?` on
/// MySQL and SQLite. Parameters are bound by the database, never spliced.
pub fn placeholder(provider: Provider, n: usize) -> String {
    match provider {
        Provider::Postgresql => format!("${n}"),
        Provider::Mysql | Provider::Sqlite => "?".to_string(),
    }
}

/// `name` as a quoted identifier: a name that is a keyword (`order`) then
/// works, and PostgreSQL keeps its case. A quote inside the name is doubled.
pub fn quote_identifier(provider: Provider, name: &str) -> String {
    match provider {
        Provider::Postgresql | Provider::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
        Provider::Mysql => format!("`{}`", name.replace('`', "``")),
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`, at most [`MAX_IDENTIFIER_LENGTH`] characters: a
/// table name that is safe to splice (quoted) into SQL on every provider and
/// that every migration tool accepts.
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    starts_well
        && name.len() <= MAX_IDENTIFIER_LENGTH
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The tracking table a request names (the project's `migrations.table`),
/// or the tool's `default`: held to a plain identifier, since a table name
/// is spliced into SQL, and otherwise refused as `invalid-request` naming
/// `setting`, the tool's own name for it.
pub fn tracking_table_name(
    configured: Option<&str>,
    default: &str,
    setting: &str,
) -> Result<String, HandlerError> {
    let name = configured.unwrap_or(default);
    if !is_plain_identifier(name) {
        return Err(HandlerError::InvalidRequest(format!(
            "tracking-table: `{name}` is not a plain table name (a letter or `_`, then up to {} \
             letters, digits or `_`); set migrations.table to {setting}, e.g. {default}",
            MAX_IDENTIFIER_LENGTH - 1
        )));
    }
    Ok(name.to_string())
}

/// Runs `create` unless `table` exists; true when this call created it.
pub fn create_unless_exists(
    provider: Provider,
    table: &str,
    create: &str,
) -> Result<bool, HandlerError> {
    if table_exists(provider, table)? {
        return Ok(false);
    }
    crate::sql::execute(create, &[])?;
    Ok(true)
}

/// A query returning a row when the table named by its one parameter
/// exists where an unqualified name resolves: PostgreSQL's current schema,
/// MySQL's current database, SQLite's main database (whose names ignore
/// case).
pub fn table_exists_query(provider: Provider) -> &'static str {
    match provider {
        // pg_tables, not information_schema: the latter checks privileges
        // row by row, which is slow for a session that is not the owner.
        Provider::Postgresql => {
            "SELECT 1 FROM pg_catalog.pg_tables \
             WHERE schemaname = current_schema() AND tablename = $1"
        }
        Provider::Mysql => {
            "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = ?"
        }
        Provider::Sqlite => {
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE"
        }
    }
}

/// True when `table` exists (see [`table_exists_query`]).
pub fn table_exists(provider: Provider, table: &str) -> Result<bool, HandlerError> {
    let found = query(
        table_exists_query(provider),
        &[SqlValue::Text(table.to_string())],
    )?;
    Ok(!found.rows.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_per_provider() {
        assert_eq!(placeholder(Provider::Postgresql, 3), "$3");
        assert_eq!(placeholder(Provider::Mysql, 3), "?");
        assert_eq!(placeholder(Provider::Sqlite, 1), "?");
        assert!(table_exists_query(Provider::Postgresql).ends_with("= $1"));
        for provider in [Provider::Mysql, Provider::Sqlite] {
            assert_eq!(table_exists_query(provider).matches('?').count(), 1);
        }
    }

    #[test]
    fn quotes_per_provider_doubling_quotes() {
        assert_eq!(quote_identifier(Provider::Postgresql, "order"), "\"order\"");
        assert_eq!(quote_identifier(Provider::Sqlite, "a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_identifier(Provider::Mysql, "a`b"), "`a``b`");
    }

    #[test]
    fn plain_identifiers() {
        let longest = format!("t{}", "_9".repeat(31));
        for name in ["migrations", "_private", "Schema_V2", "x", longest.as_str()] {
            assert!(is_plain_identifier(name), "{name}");
        }
        let too_long = "t".repeat(64);
        for name in [
            "",
            "2fast",
            "public.schema_migrations",
            "schema-migrations",
            "with space",
            "quote\"d",
            "tablé",
            too_long.as_str(),
        ] {
            assert!(!is_plain_identifier(name), "{name}");
        }
    }
}
