//! Reading a database's schema into [`Schema`]: PostgreSQL's catalogs,
//! MySQL's `information_schema`, SQLite's pragmas. Read-only queries on the
//! host's own session; one function per provider, since the SQL differs.

use std::collections::BTreeMap;

use super::schema::{Column, Schema, Table};
use crate::db::{Database, SqlError, Value};

/// The schema of the tables in `home` (PostgreSQL's schema; the others
/// have one per database).
pub async fn schema(database: &mut Database, home: &str) -> Result<Schema, SqlError> {
    match database {
        Database::Postgres(_) => postgres(database, home).await,
        Database::Mysql(_) => mysql(database).await,
        Database::Sqlite(_) => sqlite(database).await,
    }
}

/// The rows of a query, every value as text (NULL as `None`).
async fn text_rows(
    database: &mut Database,
    statement: &str,
    params: &[Value],
) -> Result<Vec<Vec<Option<String>>>, SqlError> {
    let rows = database.query(statement, params).await?;
    Ok(rows
        .rows
        .into_iter()
        .map(|row| row.into_iter().map(as_text).collect())
        .collect())
}

fn as_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Boolean(v) => Some(v.to_string()),
        Value::Integer(v) => Some(v.to_string()),
        Value::Real(v) => Some(v.to_string()),
        Value::Text(v) => Some(v),
        Value::Blob(v) => Some(String::from_utf8_lossy(&v).into_owned()),
    }
}

/// The `i`th value of a row, empty when NULL.
fn at(row: &[Option<String>], i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

/// A table of `schema`, created on first mention.
fn table<'a>(schema: &'a mut Schema, name: &str) -> &'a mut Table {
    schema.tables.entry(name.to_owned()).or_default()
}

/// Rows of (table, column, type, nullable `YES`/`NO`, default).
fn add_columns(schema: &mut Schema, rows: Vec<Vec<Option<String>>>) {
    for row in rows {
        let column = Column {
            data_type: at(&row, 2),
            nullable: at(&row, 3) == "YES",
            default: row.get(4).cloned().flatten(),
        };
        table(schema, &at(&row, 0))
            .columns
            .insert(at(&row, 1), column);
    }
}

async fn postgres(database: &mut Database, home: &str) -> Result<Schema, SqlError> {
    let mut schema = Schema::default();
    let home = [Value::Text(home.to_owned())];
    let tables = text_rows(
        database,
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')",
        &home,
    )
    .await?;
    for row in &tables {
        table(&mut schema, &at(row, 0));
    }
    let columns = text_rows(
        database,
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END, pg_get_expr(d.adbin, d.adrelid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')",
        &home,
    )
    .await?;
    add_columns(&mut schema, columns);
    let keys = text_rows(
        database,
        "SELECT cl.relname::text, co.conname::text, co.contype::text, pg_get_constraintdef(co.oid) \
         FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         WHERE n.nspname = $1 AND co.contype IN ('p', 'u', 'f')",
        &home,
    )
    .await?;
    for row in keys {
        let table = table(&mut schema, &at(&row, 0));
        let (name, definition) = (at(&row, 1), at(&row, 3));
        match at(&row, 2).as_str() {
            "p" => table.primary_key = Some(definition),
            "u" => drop(table.unique_keys.insert(name, definition)),
            _ => drop(table.foreign_keys.insert(name, definition)),
        }
    }
    // Indexes of their own: not the ones backing a primary or unique key
    // (those are compared as keys).
    let indexes = text_rows(
        database,
        "SELECT t.relname::text, i.relname::text, \
                regexp_replace(pg_get_indexdef(ix.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+ ', '\\1') \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = $1 AND NOT EXISTS ( \
           SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype IN ('p', 'u', 'x'))",
        &home,
    )
    .await?;
    for row in indexes {
        table(&mut schema, &at(&row, 0))
            .indexes
            .insert(at(&row, 1), at(&row, 2));
    }
    let enums = text_rows(
        database,
        "SELECT t.typname::text, e.enumlabel::text FROM pg_type t \
         JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname = $1 ORDER BY t.typname, e.enumsortorder",
        &home,
    )
    .await?;
    for row in enums {
        schema
            .enums
            .entry(at(&row, 0))
            .or_default()
            .push(at(&row, 1));
    }
    Ok(schema)
}

async fn mysql(database: &mut Database) -> Result<Schema, SqlError> {
    let mut schema = Schema::default();
    let tables = text_rows(
        database,
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
        &[],
    )
    .await?;
    for row in &tables {
        table(&mut schema, &at(row, 0));
    }
    let columns = text_rows(
        database,
        "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), \
                CAST(TRIM(CONCAT(column_type, ' ', extra)) AS CHAR), CAST(is_nullable AS CHAR), \
                CAST(column_default AS CHAR) \
         FROM information_schema.columns WHERE table_schema = DATABASE()",
        &[],
    )
    .await?;
    add_columns(&mut schema, columns);
    // MySQL keeps primary and unique keys as indexes.
    let indexes = text_rows(
        database,
        "SELECT CAST(table_name AS CHAR), CAST(index_name AS CHAR), CAST(MAX(non_unique) AS CHAR), \
                CAST(CONCAT('(', GROUP_CONCAT(COALESCE(column_name, '<expression>') ORDER BY seq_in_index SEPARATOR ', '), ')') AS CHAR) \
         FROM information_schema.statistics WHERE table_schema = DATABASE() \
         GROUP BY table_name, index_name",
        &[],
    )
    .await?;
    for row in indexes {
        let table = table(&mut schema, &at(&row, 0));
        let (name, columns) = (at(&row, 1), at(&row, 3));
        if name == "PRIMARY" {
            table.primary_key = Some(columns);
        } else if at(&row, 2) == "0" {
            table.unique_keys.insert(name, format!("UNIQUE {columns}"));
        } else {
            table.indexes.insert(name, columns);
        }
    }
    let foreign = text_rows(
        database,
        "SELECT CAST(k.table_name AS CHAR), CAST(k.constraint_name AS CHAR), \
                CAST(CONCAT('(', GROUP_CONCAT(k.column_name ORDER BY k.ordinal_position SEPARATOR ', '), \
                  ') REFERENCES ', k.referenced_table_name, '(', \
                  GROUP_CONCAT(k.referenced_column_name ORDER BY k.ordinal_position SEPARATOR ', '), \
                  ') ON UPDATE ', r.update_rule, ' ON DELETE ', r.delete_rule) AS CHAR) \
         FROM information_schema.key_column_usage k \
         JOIN information_schema.referential_constraints r \
           ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name \
          AND r.table_name = k.table_name \
         WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL \
         GROUP BY k.table_name, k.constraint_name, k.referenced_table_name, r.update_rule, r.delete_rule",
        &[],
    )
    .await?;
    for row in foreign {
        table(&mut schema, &at(&row, 0))
            .foreign_keys
            .insert(at(&row, 1), at(&row, 2));
    }
    Ok(schema)
}

async fn sqlite(database: &mut Database) -> Result<Schema, SqlError> {
    let mut schema = Schema::default();
    let tables = text_rows(
        database,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        &[],
    )
    .await?;
    for name in tables.iter().map(|row| at(row, 0)) {
        let param = [Value::Text(name.clone())];
        let mut table = Table::default();
        let mut primary = BTreeMap::new();
        for row in text_rows(
            database,
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?)",
            &param,
        )
        .await?
        {
            let column = Column {
                data_type: at(&row, 1),
                nullable: at(&row, 2) == "0",
                default: row.get(3).cloned().flatten(),
            };
            let position: u32 = at(&row, 4).parse().unwrap_or(0);
            if position > 0 {
                primary.insert(position, at(&row, 0));
            }
            table.columns.insert(at(&row, 0), column);
        }
        if !primary.is_empty() {
            let columns: Vec<String> = primary.into_values().collect();
            table.primary_key = Some(format!("({})", columns.join(", ")));
        }
        let indexes = text_rows(
            database,
            "SELECT name, \"unique\", origin FROM pragma_index_list(?)",
            &param,
        )
        .await?;
        for row in indexes {
            let index = at(&row, 0);
            let columns: Vec<String> = text_rows(
                database,
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
                &[Value::Text(index.clone())],
            )
            .await?
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .next()
                    .flatten()
                    .unwrap_or_else(|| "<expression>".into())
            })
            .collect();
            let columns = format!("({})", columns.join(", "));
            match (at(&row, 2).as_str(), at(&row, 1).as_str()) {
                ("pk", _) => {}
                ("u", _) => drop(table.unique_keys.insert(index, format!("UNIQUE {columns}"))),
                (_, "1") => drop(table.indexes.insert(index, format!("UNIQUE {columns}"))),
                _ => drop(table.indexes.insert(index, columns)),
            }
        }
        // SQLite does not keep foreign keys' names: one is known by its columns.
        let mut foreign: BTreeMap<String, (String, Vec<String>, Vec<String>, String)> =
            BTreeMap::new();
        for row in text_rows(
            database,
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?) ORDER BY id, seq",
            &param,
        )
        .await?
        {
            let entry = foreign.entry(at(&row, 0)).or_insert_with(|| {
                (
                    at(&row, 1),
                    Vec::new(),
                    Vec::new(),
                    format!("ON UPDATE {} ON DELETE {}", at(&row, 4), at(&row, 5)),
                )
            });
            entry.1.push(at(&row, 2));
            entry.2.push(at(&row, 3));
        }
        for (referenced, from, to, actions) in foreign.into_values() {
            let from = from.join(", ");
            table.foreign_keys.insert(
                format!("({from}) → {referenced}"),
                format!(
                    "({from}) REFERENCES {referenced}({}) {actions}",
                    to.join(", ")
                ),
            );
        }
        schema.tables.insert(name, table);
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::drift::schema::diff;

    async fn sqlite_schema(statements: &str) -> Schema {
        let mut database = Database::confined_in_memory().await.unwrap();
        database.execute(statements, &[]).await.unwrap();
        let schema = schema(&mut database, "").await.unwrap();
        database.close().await;
        schema
    }

    const BASE: &str = "CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);\
        CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, team INTEGER REFERENCES teams(id) ON DELETE CASCADE, \
          email TEXT NOT NULL DEFAULT '', active INTEGER NOT NULL DEFAULT 1);\
        CREATE INDEX users_email_idx ON users (email);";

    #[tokio::test]
    async fn sqlite_schema_reads_every_level() {
        let schema = sqlite_schema(BASE).await;
        let users = &schema.tables["users"];
        assert_eq!(users.primary_key.as_deref(), Some("(id)"));
        assert_eq!(users.columns["email"].default.as_deref(), Some("''"));
        assert!(!users.columns["email"].nullable);
        assert!(users.columns["team"].nullable);
        assert_eq!(users.indexes["users_email_idx"], "(email)");
        assert_eq!(
            users.foreign_keys.values().collect::<Vec<_>>(),
            ["(team) REFERENCES teams(id) ON UPDATE NO ACTION ON DELETE CASCADE"]
        );
        assert_eq!(
            schema.tables["teams"]
                .unique_keys
                .values()
                .collect::<Vec<_>>(),
            ["UNIQUE (name)"]
        );
    }

    #[tokio::test]
    async fn sqlite_changes_by_hand_are_named() {
        let expected = sqlite_schema(BASE).await;
        assert!(diff(&expected, &sqlite_schema(BASE).await).is_empty());
        let live = sqlite_schema(&format!(
            "{BASE} ALTER TABLE users ADD COLUMN nickname TEXT; DROP INDEX users_email_idx;"
        ))
        .await;
        let found: Vec<String> = diff(&expected, &live)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "column users.nickname added",
                "index users.users_email_idx removed"
            ]
        );
    }
}
