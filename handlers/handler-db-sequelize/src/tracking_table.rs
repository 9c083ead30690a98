//! The table sequelize-cli records executed migrations in
//! (`migrationStorageTableName`, `SequelizeMeta` by default): one `name`
//! column holding each applied migration's file name, created and written
//! exactly as sequelize-cli's storage does on each provider.
//!
//! A name cannot be a bound parameter, so the table is spliced into the SQL,
//! quoted, after being held to a plain identifier.

use faber_db_handler::dialect::{self, placeholder, quote_identifier, tracking_table_name};
use faber_db_handler::sql::{SqlValue, execute, query};
use faber_db_handler::types::{HandlerError, Provider};

/// sequelize-cli's `migrationStorageTableName` default.
pub const DEFAULT_TABLE: &str = "SequelizeMeta";

#[derive(Debug)]
pub struct TrackingTable {
    provider: Provider,
    table: String,
}

impl TrackingTable {
    /// The project's `migrations.table` (sequelize-cli's
    /// `migrationStorageTableName`), or sequelize-cli's default.
    pub fn new(provider: Provider, configured: Option<&str>) -> Result<Self, HandlerError> {
        Ok(Self {
            provider,
            table: tracking_table_name(
                configured,
                DEFAULT_TABLE,
                "sequelize-cli's migrationStorageTableName",
            )?,
        })
    }

    pub fn name(&self) -> String {
        self.table.clone()
    }

    fn quoted(&self) -> String {
        quote(self.provider, &self.table)
    }

    pub fn exists(&self) -> Result<bool, HandlerError> {
        dialect::table_exists(self.provider, &self.table)
    }

    /// Creates the table as the storage's `sync()` does before it reads
    /// the rows, unless it exists; true when it was created.
    pub fn ensure(&self) -> Result<bool, HandlerError> {
        dialect::create_unless_exists(self.provider, &self.table, &self.create_statement())
    }

    /// Sequelize's `CREATE TABLE IF NOT EXISTS` for the storage's model:
    /// `name` a `STRING` primary key that is also `unique` (so PostgreSQL
    /// and MySQL hold a unique index beside the primary key), with MySQL's
    /// table options the storage gives.
    fn create_statement(&self) -> String {
        let table = self.quoted();
        match self.provider {
            Provider::Postgresql => format!(
                "CREATE TABLE IF NOT EXISTS {table} (\"name\" VARCHAR(255) NOT NULL UNIQUE , \
                 PRIMARY KEY (\"name\"));"
            ),
            Provider::Mysql => format!(
                "CREATE TABLE IF NOT EXISTS {table} (`name` VARCHAR(255) NOT NULL UNIQUE , \
                 PRIMARY KEY (`name`)) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE \
                 utf8_unicode_ci;"
            ),
            Provider::Sqlite => format!(
                "CREATE TABLE IF NOT EXISTS {table} (`name` VARCHAR(255) NOT NULL UNIQUE \
                 PRIMARY KEY);"
            ),
        }
    }

    /// The applied migrations' names, in the order the storage reads them
    /// (by name).
    pub fn names(&self) -> Result<Vec<String>, HandlerError> {
        let found = query(
            &format!(
                "SELECT {name} FROM {} ORDER BY {name} ASC",
                self.quoted(),
                name = self.column()
            ),
            &[],
        )?;
        found
            .rows
            .into_iter()
            .map(|row| match row.as_slice() {
                [SqlValue::Text(name)] => Ok(name.clone()),
                other => Err(HandlerError::Conflict(format!(
                    "{} holds a row that is not sequelize-cli's (name): {other:?}; is \
                     migrations.table another tool's table?",
                    self.table
                ))),
            })
            .collect()
    }

    /// `logMigration`: the file name.
    pub fn insert(&self, name: &str) -> Result<(), HandlerError> {
        execute(
            &format!(
                "INSERT INTO {} ({}) VALUES ({})",
                self.quoted(),
                self.column(),
                placeholder(self.provider, 1)
            ),
            &[SqlValue::Text(name.to_string())],
        )?;
        Ok(())
    }

    /// `unlogMigration`, as `db:migrate:undo` does after `down`.
    pub fn delete(&self, name: &str) -> Result<(), HandlerError> {
        execute(
            &format!(
                "DELETE FROM {} WHERE {} = {}",
                self.quoted(),
                self.column(),
                placeholder(self.provider, 1)
            ),
            &[SqlValue::Text(name.to_string())],
        )?;
        Ok(())
    }

    fn column(&self) -> String {
        quote(self.provider, "name")
    }
}

/// A name quoted as Sequelize quotes it: with backticks on SQLite too,
/// where the database keeps the table's `CREATE` text as sent.
fn quote(provider: Provider, name: &str) -> String {
    match provider {
        Provider::Sqlite => format!("`{}`", name.replace('`', "``")),
        Provider::Postgresql | Provider::Mysql => quote_identifier(provider, name),
    }
}
