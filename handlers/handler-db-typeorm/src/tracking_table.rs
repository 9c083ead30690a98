//! The table TypeORM records executed migrations in (`migrationsTableName`,
//! `migrations` by default), created and written exactly as TypeORM's
//! `MigrationExecutor` does on each provider: an `id` its driver generates,
//! the migration's `timestamp` (the last 13 digits of its name) and its
//! `name`.
//!
//! A name cannot be a bound parameter, so the table is spliced into the SQL,
//! quoted, after being held to a plain identifier.

use faber_db_handler::dialect::{self, placeholder, quote_identifier, tracking_table_name};
use faber_db_handler::sql::{SqlValue, execute, query};
use faber_db_handler::types::{HandlerError, Provider};
use faber_db_js::sha1_hex_of;

/// TypeORM's `migrationsTableName` default.
pub const DEFAULT_TABLE: &str = "migrations";

/// A row as TypeORM writes it (its `id` is the database's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub timestamp: i64,
    pub name: String,
}

#[derive(Debug)]
pub struct TrackingTable {
    provider: Provider,
    table: String,
}

impl TrackingTable {
    /// The project's `migrations.table` (TypeORM's `migrationsTableName`), or
    /// TypeORM's default.
    pub fn new(provider: Provider, configured: Option<&str>) -> Result<Self, HandlerError> {
        Ok(Self {
            provider,
            table: tracking_table_name(configured, DEFAULT_TABLE, "TypeORM's migrationsTableName")?,
        })
    }

    pub fn name(&self) -> String {
        self.table.clone()
    }

    fn quoted(&self) -> String {
        quote_identifier(self.provider, &self.table)
    }

    pub fn exists(&self) -> Result<bool, HandlerError> {
        dialect::table_exists(self.provider, &self.table)
    }

    /// Creates the table as `MigrationExecutor.createMigrationsTableIfNotExist`
    /// does, unless it exists; true when it was created.
    pub fn ensure(&self) -> Result<bool, HandlerError> {
        dialect::create_unless_exists(self.provider, &self.table, &self.create_statement())
    }

    /// TypeORM's `CREATE TABLE`, as each driver's query runner writes it for
    /// the executor's table: the driver's `migrationId`, `migrationTimestamp`
    /// and `migrationName` types, and on PostgreSQL the primary key named by
    /// TypeORM's default naming strategy.
    fn create_statement(&self) -> String {
        let table = self.quoted();
        match self.provider {
            Provider::Postgresql => format!(
                "CREATE TABLE {table} (\"id\" SERIAL NOT NULL, \"timestamp\" bigint NOT NULL, \
                 \"name\" character varying NOT NULL, CONSTRAINT \"{}\" PRIMARY KEY (\"id\"))",
                primary_key_name(&self.table, &["id"])
            ),
            Provider::Mysql => format!(
                "CREATE TABLE {table} (`id` int NOT NULL AUTO_INCREMENT, `timestamp` bigint NOT \
                 NULL, `name` varchar(255) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB"
            ),
            Provider::Sqlite => format!(
                "CREATE TABLE {table} (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \
                 \"timestamp\" bigint NOT NULL, \"name\" varchar NOT NULL)"
            ),
        }
    }

    /// Every row, in the order TypeORM reads them back (by `id`, here oldest
    /// first).
    pub fn rows(&self) -> Result<Vec<Row>, HandlerError> {
        let found = query(
            &format!(
                "SELECT {}, {} FROM {} ORDER BY {}",
                self.column("timestamp"),
                self.column("name"),
                self.quoted(),
                self.column("id")
            ),
            &[],
        )?;
        found
            .rows
            .into_iter()
            .map(|row| match row.as_slice() {
                [timestamp, SqlValue::Text(name)] => Ok(Row {
                    timestamp: integer(timestamp)?,
                    name: name.clone(),
                }),
                other => Err(unexpected(&self.table, other)),
            })
            .collect()
    }

    /// `insertExecutedMigration`: the timestamp and the name.
    pub fn insert(&self, row: &Row) -> Result<(), HandlerError> {
        execute(
            &format!(
                "INSERT INTO {}({}, {}) VALUES ({}, {})",
                self.quoted(),
                self.column("timestamp"),
                self.column("name"),
                placeholder(self.provider, 1),
                placeholder(self.provider, 2)
            ),
            &[
                SqlValue::Integer(row.timestamp),
                SqlValue::Text(row.name.clone()),
            ],
        )?;
        Ok(())
    }

    /// `deleteExecutedMigration`: by timestamp and name.
    pub fn delete(&self, row: &Row) -> Result<(), HandlerError> {
        execute(
            &format!(
                "DELETE FROM {} WHERE {} = {} AND {} = {}",
                self.quoted(),
                self.column("timestamp"),
                placeholder(self.provider, 1),
                self.column("name"),
                placeholder(self.provider, 2)
            ),
            &[
                SqlValue::Integer(row.timestamp),
                SqlValue::Text(row.name.clone()),
            ],
        )?;
        Ok(())
    }

    fn column(&self, name: &str) -> String {
        quote_identifier(self.provider, name)
    }
}

/// `DefaultNamingStrategy.primaryKeyName`: `PK_` and the first 27 hex digits
/// of the SHA-1 of `table_col1_col2` (columns sorted).
pub fn primary_key_name(table: &str, columns: &[&str]) -> String {
    let mut columns = columns.to_vec();
    columns.sort_unstable();
    let key = format!("{}_{}", table.replacen('.', "_", 1), columns.join("_"));
    format!("PK_{}", &sha1_hex_of(&key)[..27])
}

fn integer(value: &SqlValue) -> Result<i64, HandlerError> {
    match value {
        SqlValue::Integer(number) => Ok(*number),
        // MySQL's BIGINT through some drivers, SQLite's affinity: digits.
        SqlValue::Text(text) => text
            .parse()
            .map_err(|_| HandlerError::Internal(format!("timestamp {text:?} is not a number"))),
        other => Err(HandlerError::Internal(format!(
            "timestamp {other:?} is not a number"
        ))),
    }
}

fn unexpected(table: &str, row: &[SqlValue]) -> HandlerError {
    HandlerError::Conflict(format!(
        "{table} holds a row that is not TypeORM's (timestamp, name): {row:?}; is \
         migrations.table another tool's table?"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_key_is_named_as_typeorm_names_it() {
        assert_eq!(
            primary_key_name("migrations", &["id"]),
            "PK_8c82d7f526340ab734260ea46be"
        );
    }
}
