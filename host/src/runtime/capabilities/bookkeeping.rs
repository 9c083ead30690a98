//! The tracking table's rows a migration writes around its script
//! (`migration-script.script.bookkeeping`), as statements the host writes
//! itself: for the call's one tracking table, every name quoted and every
//! value bound, so what the handler sends is data, never SQL.

use crate::db::Value;
use crate::provider::Provider;
use crate::runtime::bindings::latest::migration_script::{
    Bookkeeping as Requested, Cell, ColumnValue, RowChange,
};

/// The most row changes one migration's bookkeeping may ask for (a tool
/// writes one or two).
const MAX_ROW_CHANGES: usize = 16;

/// One statement and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub text: String,
    pub params: Vec<Value>,
}

/// The statements that run before and after a migration's script.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bookkeeping {
    pub before: Vec<Statement>,
    pub after: Vec<Statement>,
}

impl Bookkeeping {
    /// The statements `requested` asks for on `table`, or why they cannot
    /// be written.
    pub fn new(
        provider: Provider,
        table: &str,
        requested: Requested,
    ) -> Result<Bookkeeping, String> {
        let changes = requested.before.len() + requested.after.len();
        if changes > MAX_ROW_CHANGES {
            return Err(format!(
                "{changes} changes to the tracking table for one migration, over the limit of {MAX_ROW_CHANGES}"
            ));
        }
        let statements = |changes: Vec<RowChange>| {
            changes
                .into_iter()
                .map(|change| statement(provider, table, change))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Bookkeeping {
            before: statements(requested.before)?,
            after: statements(requested.after)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }
}

fn statement(provider: Provider, table: &str, change: RowChange) -> Result<Statement, String> {
    let table = crate::names::quote_table(provider, table);
    let mut sql = Sql {
        provider,
        params: Vec::new(),
    };
    let text = match change {
        RowChange::Insert(columns) => {
            if columns.is_empty() {
                return Err("an insert into the tracking table names no column".to_owned());
            }
            let names = columns
                .iter()
                .map(|column| crate::names::quote(provider, &column.column))
                .collect::<Vec<_>>()
                .join(", ");
            let values = columns
                .into_iter()
                .map(|column| sql.value(column.value))
                .collect::<Vec<_>>()
                .join(", ");
            format!("INSERT INTO {table} ({names}) VALUES ({values})")
        }
        RowChange::Update(update) => {
            if update.set.is_empty() {
                return Err("an update of the tracking table sets no column".to_owned());
            }
            if update.key.is_empty() {
                return Err(
                    "an update of the tracking table has no `key`: it would change every row"
                        .to_owned(),
                );
            }
            let set = sql.pairs(update.set).join(", ");
            let matching = sql.pairs(update.key).join(" AND ");
            format!("UPDATE {table} SET {set} WHERE {matching}")
        }
    };
    Ok(Statement {
        text,
        params: sql.params,
    })
}

/// A statement's values as it is written: each bound, but the clock.
struct Sql {
    provider: Provider,
    params: Vec<Value>,
}

impl Sql {
    fn value(&mut self, cell: Cell) -> String {
        let bound = match cell {
            Cell::Now => return now(self.provider).to_owned(),
            Cell::Null => Value::Null,
            Cell::Text(text) => Value::Text(text),
            Cell::Integer(integer) => Value::Integer(integer),
        };
        self.params.push(bound);
        match self.provider {
            Provider::Postgresql => format!("${}", self.params.len()),
            Provider::Mysql | Provider::Sqlite => "?".to_owned(),
        }
    }

    fn pairs(&mut self, columns: Vec<ColumnValue>) -> Vec<String> {
        columns
            .into_iter()
            .map(|column| {
                let name = crate::names::quote(self.provider, &column.column);
                format!("{name} = {}", self.value(column.value))
            })
            .collect()
    }
}

/// The database's clock at the statement, in UTC. PostgreSQL's `now()` is
/// the transaction's start, which would give a migration's start and finish
/// one time; SQLite has no time type, and Prisma's engine writes
/// milliseconds since the epoch (`'now'` is one instant in a statement, so
/// its seconds and milliseconds agree).
fn now(provider: Provider) -> &'static str {
    match provider {
        Provider::Postgresql => "clock_timestamp()",
        Provider::Mysql => "UTC_TIMESTAMP(3)",
        Provider::Sqlite => {
            "(CAST(strftime('%s', 'now') AS INTEGER) * 1000 \
             + CAST(substr(strftime('%f', 'now'), 4) AS INTEGER))"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::latest::migration_script::RowUpdate;

    fn column(name: &str, value: Cell) -> ColumnValue {
        ColumnValue {
            column: name.to_owned(),
            value,
        }
    }

    fn prisma() -> Requested {
        Requested {
            before: vec![RowChange::Insert(vec![
                column("id", Cell::Text("a\"b".to_owned())),
                column("started_at", Cell::Now),
                column("logs", Cell::Null),
            ])],
            after: vec![RowChange::Update(RowUpdate {
                set: vec![
                    column("applied_steps_count", Cell::Integer(1)),
                    column("finished_at", Cell::Now),
                ],
                key: vec![column("id", Cell::Text("x".to_owned()))],
            })],
        }
    }

    #[test]
    fn names_are_quoted_and_values_bound() {
        let written =
            Bookkeeping::new(Provider::Postgresql, "_prisma\"migrations", prisma()).unwrap();
        assert_eq!(
            written.before[0].text,
            r#"INSERT INTO "_prisma""migrations" ("id", "started_at", "logs") VALUES ($1, clock_timestamp(), $2)"#
        );
        assert_eq!(
            written.before[0].params,
            [Value::Text("a\"b".to_owned()), Value::Null]
        );
        assert_eq!(
            written.after[0].text,
            r#"UPDATE "_prisma""migrations" SET "applied_steps_count" = $1, "finished_at" = clock_timestamp() WHERE "id" = $2"#
        );
        let mysql = Bookkeeping::new(Provider::Mysql, "schema_migrations", prisma()).unwrap();
        assert_eq!(
            mysql.after[0].text,
            "UPDATE `schema_migrations` SET `applied_steps_count` = ?, `finished_at` = UTC_TIMESTAMP(3) WHERE `id` = ?"
        );
    }

    #[test]
    fn a_change_that_names_nothing_is_refused() {
        let refused = |change| {
            let requested = Requested {
                before: vec![change],
                after: Vec::new(),
            };
            Bookkeeping::new(Provider::Sqlite, "t", requested).unwrap_err()
        };
        assert!(refused(RowChange::Insert(Vec::new())).contains("no column"));
        let everything = RowChange::Update(RowUpdate {
            set: vec![column("logs", Cell::Null)],
            key: Vec::new(),
        });
        assert!(refused(everything).contains("every row"));
    }
}
