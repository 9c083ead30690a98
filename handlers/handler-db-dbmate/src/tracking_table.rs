//! The table dbmate records applied versions in, and the SQL that uses it on
//! each provider.
//!
//! A table name cannot be a bound parameter, so it is spliced into the SQL;
//! it is therefore held to a plain identifier first, which also keeps it a
//! name dbmate accepts on every provider.

use crate::faber::db::types::{HandlerError, Provider};

/// dbmate's default (`--migrations-table`).
pub const DEFAULT_NAME: &str = "schema_migrations";

/// The longest identifier PostgreSQL keeps whole (MySQL allows 64).
const MAX_LENGTH: usize = 63;

/// A checked tracking table name.
#[derive(Debug)]
pub struct TrackingTable {
    name: String,
}

impl TrackingTable {
    /// The configured table, or dbmate's default when none is configured.
    pub fn new(configured: Option<&str>) -> Result<Self, HandlerError> {
        let name = configured.unwrap_or(DEFAULT_NAME);
        if !is_plain_identifier(name) {
            return Err(HandlerError::InvalidRequest(format!(
                "tracking-table: `{name}` is not a plain table name (a letter or `_`, then up \
                 to {} letters, digits or `_`); set migrations.table to one such as \
                 {DEFAULT_NAME}",
                MAX_LENGTH - 1
            )));
        }
        Ok(Self {
            name: name.to_string(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The table as dbmate creates it.
    pub fn create(&self, provider: Provider) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version VARCHAR(128) PRIMARY KEY)",
            self.quoted(provider)
        )
    }

    pub fn select_versions(&self, provider: Provider) -> String {
        format!("SELECT version FROM {}", self.quoted(provider))
    }

    /// Records one version, its one parameter.
    pub fn insert_version(&self, provider: Provider) -> String {
        let marker = match provider {
            Provider::Postgresql => "$1",
            Provider::Mysql | Provider::Sqlite => "?",
        };
        format!(
            "INSERT INTO {} (version) VALUES ({marker})",
            self.quoted(provider)
        )
    }

    /// Forgets one version, its one parameter (`dbmate rollback`).
    pub fn delete_version(&self, provider: Provider) -> String {
        let marker = match provider {
            Provider::Postgresql => "$1",
            Provider::Mysql | Provider::Sqlite => "?",
        };
        format!(
            "DELETE FROM {} WHERE version = {marker}",
            self.quoted(provider)
        )
    }

    /// Quoted so that a name that happens to be a keyword (`order`) works,
    /// and so that PostgreSQL keeps its case as configured.
    fn quoted(&self, provider: Provider) -> String {
        match provider {
            Provider::Postgresql | Provider::Sqlite => format!("\"{}\"", self.name),
            Provider::Mysql => format!("`{}`", self.name),
        }
    }
}

/// A query returning a row when the table named by its one parameter exists
/// where an unqualified name resolves: PostgreSQL's current schema, MySQL's
/// current database, SQLite's main database (whose names ignore case).
pub fn exists_query(provider: Provider) -> &'static str {
    match provider {
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

/// `[A-Za-z_][A-Za-z0-9_]{0,62}`.
fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    starts_well && name.len() <= MAX_LENGTH && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(configured: &str) -> String {
        match TrackingTable::new(Some(configured)) {
            Err(HandlerError::InvalidRequest(message)) => message,
            other => panic!("expected invalid-request for {configured:?}, got {other:?}"),
        }
    }

    #[test]
    fn defaults_to_dbmates_table() {
        assert_eq!(
            TrackingTable::new(None).unwrap().name(),
            "schema_migrations"
        );
    }

    #[test]
    fn accepts_plain_identifiers_up_to_63_characters() {
        let longest = format!("t{}", "_9".repeat(31));
        for name in ["migrations", "_private", "Schema_V2", "x", longest.as_str()] {
            assert_eq!(TrackingTable::new(Some(name)).unwrap().name(), name);
        }
    }

    #[test]
    fn refuses_anything_else_naming_it() {
        let too_long = "t".repeat(64);
        for name in [
            "",
            "2fast",
            "public.schema_migrations",
            "schema-migrations",
            "with space",
            "quote\"d",
            "back`tick",
            "x; DROP TABLE users",
            "tablé",
            too_long.as_str(),
        ] {
            let message = invalid(name);
            assert!(message.contains(&format!("`{name}`")), "{message}");
        }
    }

    #[test]
    fn quotes_per_provider() {
        let table = TrackingTable::new(Some("order")).unwrap();
        assert_eq!(
            table.create(Provider::Postgresql),
            "CREATE TABLE IF NOT EXISTS \"order\" (version VARCHAR(128) PRIMARY KEY)"
        );
        assert_eq!(
            table.select_versions(Provider::Sqlite),
            "SELECT version FROM \"order\""
        );
        assert_eq!(
            table.create(Provider::Mysql),
            "CREATE TABLE IF NOT EXISTS `order` (version VARCHAR(128) PRIMARY KEY)"
        );
    }

    #[test]
    fn parameters_use_each_providers_markers() {
        let table = TrackingTable::new(None).unwrap();
        assert_eq!(
            table.insert_version(Provider::Postgresql),
            "INSERT INTO \"schema_migrations\" (version) VALUES ($1)"
        );
        assert_eq!(
            table.insert_version(Provider::Mysql),
            "INSERT INTO `schema_migrations` (version) VALUES (?)"
        );
        assert_eq!(
            table.insert_version(Provider::Sqlite),
            "INSERT INTO \"schema_migrations\" (version) VALUES (?)"
        );
        assert!(exists_query(Provider::Postgresql).ends_with("= $1"));
        for provider in [Provider::Mysql, Provider::Sqlite] {
            assert_eq!(exists_query(provider).matches('?').count(), 1);
        }
    }
}
