//! The table dbmate records applied versions in, and the SQL that uses it on
//! each provider.
//!
//! A table name cannot be a bound parameter, so it is spliced into the SQL;
//! it is therefore held to a plain identifier first, which also keeps it a
//! name dbmate accepts on every provider.

use faber_db_handler::dialect::{placeholder, quote_identifier, tracking_table_name};
use faber_db_handler::types::{HandlerError, Provider};

/// dbmate's default (`--migrations-table`).
pub const DEFAULT_NAME: &str = "schema_migrations";

/// A checked tracking table name.
#[derive(Debug)]
pub struct TrackingTable {
    name: String,
}

impl TrackingTable {
    /// The configured table, or dbmate's default when none is configured.
    pub fn new(configured: Option<&str>) -> Result<Self, HandlerError> {
        Ok(Self {
            name: tracking_table_name(configured, DEFAULT_NAME, "dbmate's --migrations-table")?,
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

    /// Finds one version, its one parameter.
    pub fn select_version(&self, provider: Provider) -> String {
        format!(
            "SELECT version FROM {} WHERE version = {}",
            self.quoted(provider),
            placeholder(provider, 1)
        )
    }

    /// Records one version, its one parameter.
    pub fn insert_version(&self, provider: Provider) -> String {
        format!(
            "INSERT INTO {} (version) VALUES ({})",
            self.quoted(provider),
            placeholder(provider, 1)
        )
    }

    /// Forgets one version, its one parameter (`dbmate rollback`).
    pub fn delete_version(&self, provider: Provider) -> String {
        format!(
            "DELETE FROM {} WHERE version = {}",
            self.quoted(provider),
            placeholder(provider, 1)
        )
    }

    fn quoted(&self, provider: Provider) -> String {
        quote_identifier(provider, &self.name)
    }
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
    fn a_configured_name_is_kept_and_a_bad_one_named_in_the_refusal() {
        assert_eq!(
            TrackingTable::new(Some("Schema_V2")).unwrap().name(),
            "Schema_V2"
        );
        for name in ["public.schema_migrations", "x; DROP TABLE users"] {
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
    }
}
