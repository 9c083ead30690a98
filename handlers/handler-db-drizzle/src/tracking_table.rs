//! The table Drizzle's migrator records applied migrations in, created and
//! written exactly as the migrator does on each provider: on PostgreSQL
//! `drizzle.__drizzle_migrations` (`id SERIAL`, `hash text`, `created_at
//! bigint`) in a schema of its own, on MySQL and SQLite
//! `__drizzle_migrations` in the database itself.
//!
//! A name cannot be a bound parameter, so the schema and table are spliced
//! into the SQL, quoted, after being held to plain identifiers.

use faber_db_handler::dialect::{self, is_plain_identifier, placeholder, quote_identifier};
use faber_db_handler::migration_script::{Bookkeeping, Cell, ColumnValue, RowChange};
use faber_db_handler::sql::{SqlValue, execute, query};
use faber_db_handler::types::{HandlerError, Provider};

/// Drizzle's `migrationsTable` default.
pub const DEFAULT_TABLE: &str = "__drizzle_migrations";
/// Drizzle's `migrationsSchema` default (PostgreSQL only).
pub const DEFAULT_SCHEMA: &str = "drizzle";

/// A row as the migrator wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// SHA-256 of the migration file, hex.
    pub hash: String,
    /// The journal's `when` of the migration.
    pub created_at: i64,
}

#[derive(Debug)]
pub struct TrackingTable {
    provider: Provider,
    /// PostgreSQL only: the migrator's `migrationsSchema`.
    schema: Option<String>,
    table: String,
}

impl TrackingTable {
    /// The project's `migrations.table` (on PostgreSQL `schema.table`, or a
    /// table in the `drizzle` schema), or Drizzle's default.
    pub fn new(provider: Provider, configured: Option<&str>) -> Result<Self, HandlerError> {
        let configured = configured.unwrap_or(DEFAULT_TABLE);
        let (schema, table) = match (provider, configured.split_once('.')) {
            (Provider::Postgresql, Some((schema, table))) => (Some(schema), table),
            (Provider::Postgresql, None) => (Some(DEFAULT_SCHEMA), configured),
            (Provider::Mysql | Provider::Sqlite, _) => (None, configured),
        };
        if !schema.into_iter().chain([table]).all(is_plain_identifier) {
            let form = match provider {
                Provider::Postgresql => "a table, or schema.table, each",
                Provider::Mysql | Provider::Sqlite => "a table name",
            };
            return Err(HandlerError::InvalidRequest(format!(
                "tracking-table: `{configured}` is not {form} a letter or `_` then letters, \
                 digits or `_`; set migrations.table to Drizzle's migrationsTable (and on \
                 PostgreSQL `migrationsSchema.migrationsTable`), e.g. {DEFAULT_TABLE}"
            )));
        }
        Ok(Self {
            provider,
            schema: schema.map(str::to_string),
            table: table.to_string(),
        })
    }

    /// The name the host knows it by: `schema.table` on PostgreSQL.
    pub fn name(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.table),
            None => self.table.clone(),
        }
    }

    fn quoted(&self) -> String {
        let table = quote_identifier(self.provider, &self.table);
        match &self.schema {
            Some(schema) => format!("{}.{table}", quote_identifier(self.provider, schema)),
            None => table,
        }
    }

    pub fn exists(&self) -> Result<bool, HandlerError> {
        let Some(schema) = &self.schema else {
            return dialect::table_exists(self.provider, &self.table);
        };
        let found = query(
            "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2",
            &[
                SqlValue::Text(schema.clone()),
                SqlValue::Text(self.table.clone()),
            ],
        )?;
        Ok(!found.rows.is_empty())
    }

    /// What the migrator runs before it reads the table: the schema and the
    /// table, each only if missing. Returns whether the table was created.
    /// Nothing runs when the table is there, so a session that may only
    /// keep its rows gets no refusal.
    pub fn ensure(&self) -> Result<bool, HandlerError> {
        if self.exists()? {
            return Ok(false);
        }
        if let Some(schema) = &self.schema {
            let schema = quote_identifier(self.provider, schema);
            execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"), &[])?;
        }
        let (id, created_at) = match self.provider {
            Provider::Postgresql => ("id SERIAL PRIMARY KEY", "created_at bigint"),
            Provider::Mysql => ("id serial primary key", "created_at bigint"),
            // As Drizzle writes it: SERIAL is no INTEGER, so this `id` is
            // no rowid alias and stays NULL.
            Provider::Sqlite => ("id SERIAL PRIMARY KEY", "created_at numeric"),
        };
        execute(
            &format!(
                "CREATE TABLE IF NOT EXISTS {} ({id}, hash text NOT NULL, {created_at})",
                self.quoted()
            ),
            &[],
        )?;
        Ok(true)
    }

    /// Every row, in the order the migrator reads them (by `created_at`).
    pub fn rows(&self) -> Result<Vec<Row>, HandlerError> {
        let result = query(
            &format!(
                "SELECT hash, created_at FROM {} ORDER BY created_at, id",
                self.quoted()
            ),
            &[],
        )?;
        result
            .rows
            .into_iter()
            .map(|row| match row.as_slice() {
                [SqlValue::Text(hash), created_at] => Ok(Row {
                    hash: hash.clone(),
                    created_at: millis(created_at).ok_or_else(|| {
                        HandlerError::Conflict(format!(
                            "{} has a row whose created_at is not a time in milliseconds \
                             ({created_at:?}), so it names no migration of the journal: \
                             delete it, or set its created_at to the entry's `when`",
                            self.name()
                        ))
                    })?,
                }),
                other => Err(HandlerError::Conflict(format!(
                    "{} has a row that is not Drizzle's (hash, created_at): {other:?}",
                    self.name()
                ))),
            })
            .collect()
    }

    /// The row the migrator inserts once a migration's statements ran.
    pub fn record(&self, row: &Row) -> Bookkeeping {
        Bookkeeping {
            before: Vec::new(),
            after: vec![RowChange::Insert(vec![
                ColumnValue {
                    column: "hash".to_string(),
                    value: Cell::Text(row.hash.clone()),
                },
                ColumnValue {
                    column: "created_at".to_string(),
                    value: Cell::Integer(row.created_at),
                },
            ])],
        }
    }

    /// That row, written on `sql` (`resolve --applied`).
    pub fn insert(&self, row: &Row) -> Result<(), HandlerError> {
        let statement = format!(
            "INSERT INTO {} (hash, created_at) VALUES ({}, {})",
            self.quoted(),
            placeholder(self.provider, 1),
            placeholder(self.provider, 2)
        );
        execute(
            &statement,
            &[
                SqlValue::Text(row.hash.clone()),
                SqlValue::Integer(row.created_at),
            ],
        )?;
        Ok(())
    }

    /// Forgets the rows recorded at `created_at` (`resolve --rolled-back`).
    pub fn delete(&self, created_at: i64) -> Result<u64, HandlerError> {
        let statement = format!(
            "DELETE FROM {} WHERE created_at = {}",
            self.quoted(),
            placeholder(self.provider, 1)
        );
        Ok(execute(&statement, &[SqlValue::Integer(created_at)])?)
    }
}

/// `created_at` as read back: an integer (`bigint`; SQLite's `numeric`
/// keeps what it was given), or its text.
fn millis(value: &SqlValue) -> Option<i64> {
    match value {
        SqlValue::Integer(millis) => Some(*millis),
        SqlValue::Real(millis) if millis.fract() == 0.0 => Some(*millis as i64),
        SqlValue::Text(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drizzles_defaults_per_provider() {
        let postgres = TrackingTable::new(Provider::Postgresql, None).unwrap();
        assert_eq!(postgres.name(), "drizzle.__drizzle_migrations");
        assert_eq!(postgres.quoted(), "\"drizzle\".\"__drizzle_migrations\"");
        let mysql = TrackingTable::new(Provider::Mysql, None).unwrap();
        assert_eq!(mysql.name(), "__drizzle_migrations");
        assert_eq!(mysql.quoted(), "`__drizzle_migrations`");
    }

    #[test]
    fn a_configured_table_keeps_drizzles_schema_unless_it_names_one() {
        let table = |configured| {
            TrackingTable::new(Provider::Postgresql, Some(configured))
                .unwrap()
                .name()
        };
        assert_eq!(table("migrations"), "drizzle.migrations");
        assert_eq!(table("public.migrations"), "public.migrations");
    }

    #[test]
    fn a_name_that_is_not_plain_is_refused() {
        for (provider, name) in [
            (Provider::Postgresql, "a.b.c"),
            (Provider::Postgresql, "x\"; DROP"),
            (Provider::Mysql, "other_db.migrations"),
            (Provider::Sqlite, ""),
        ] {
            assert!(
                matches!(
                    TrackingTable::new(provider, Some(name)),
                    Err(HandlerError::InvalidRequest(_))
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn created_at_is_read_whatever_the_column_returned() {
        assert_eq!(millis(&SqlValue::Integer(17)), Some(17));
        assert_eq!(millis(&SqlValue::Real(17.0)), Some(17));
        assert_eq!(millis(&SqlValue::Text("17".to_string())), Some(17));
        assert_eq!(millis(&SqlValue::Null), None);
    }
}
