//! A database's schema at the level drift is named at (tables; columns with
//! their type, nullability and default; indexes; primary, unique and
//! foreign keys; enum types), and the differences between two of them.
//!
//! Each provider's introspection fills the same model, so the comparison is
//! written once. Names of keys and indexes take part in the comparison: a
//! replay of the same migrations on the same server names them the same.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    /// Enum type name → its labels in order (PostgreSQL; MySQL's enums are
    /// column types).
    pub enums: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: BTreeMap<String, Column>,
    /// The primary key's definition (its columns), if the table has one.
    pub primary_key: Option<String>,
    /// Unique constraints and foreign keys: name → definition.
    pub unique_keys: BTreeMap<String, String>,
    pub foreign_keys: BTreeMap<String, String>,
    /// Indexes that are not a key's own: name → definition.
    pub indexes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
}

/// One way the live schema differs from what the migrations produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `table`, `column`, `index`, `primary-key`, `unique-key`,
    /// `foreign-key` or `enum`.
    pub kind: &'static str,
    /// What it is about: `users`, `users.email`, `users.users_email_key`.
    pub object: String,
    /// `added` (in the database, not produced by the migrations),
    /// `removed` (produced by the migrations, not in the database) or
    /// `changed`.
    pub change: &'static str,
    /// For `changed`: what differs, expected → found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.kind, self.object, self.change)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl Schema {
    /// Leaves out tables the comparison must not see (the tracking table,
    /// faber-db's own marker).
    pub fn without_tables(mut self, names: &[&str]) -> Schema {
        self.tables
            .retain(|name, _| !names.contains(&name.as_str()));
        self
    }
}

/// What `live` has that `expected` (the replayed migrations) does not, and
/// the other way round.
pub fn diff(expected: &Schema, live: &Schema) -> Vec<Difference> {
    let mut found = Vec::new();
    compare_maps(
        &expected.tables,
        &live.tables,
        "table",
        "",
        &mut found,
        compare_tables,
    );
    compare_maps(
        &expected.enums,
        &live.enums,
        "enum",
        "",
        &mut found,
        |name, expected, live, found| {
            if expected != live {
                found.push(changed(
                    "enum",
                    name.to_owned(),
                    format!("({}) → ({})", expected.join(", "), live.join(", ")),
                ));
            }
        },
    );
    found
}

fn compare_tables(table: &str, expected: &Table, live: &Table, found: &mut Vec<Difference>) {
    let prefix = format!("{table}.");
    compare_maps(
        &expected.columns,
        &live.columns,
        "column",
        &prefix,
        found,
        |name, expected, live, found| {
            let mut what = Vec::new();
            if expected.data_type != live.data_type {
                what.push(format!("type {} → {}", expected.data_type, live.data_type));
            }
            if expected.nullable != live.nullable {
                let shown = |nullable| if nullable { "NULL" } else { "NOT NULL" };
                what.push(format!(
                    "{} → {}",
                    shown(expected.nullable),
                    shown(live.nullable)
                ));
            }
            if expected.default != live.default {
                let shown = |default: &Option<String>| {
                    default
                        .clone()
                        .map_or_else(|| "no default".to_owned(), |d| format!("default {d}"))
                };
                what.push(format!(
                    "{} → {}",
                    shown(&expected.default),
                    shown(&live.default)
                ));
            }
            if !what.is_empty() {
                found.push(changed(
                    "column",
                    format!("{prefix}{name}"),
                    what.join(", "),
                ));
            }
        },
    );
    match (&expected.primary_key, &live.primary_key) {
        (Some(_), None) => found.push(plain("primary-key", table, "removed")),
        (None, Some(_)) => found.push(plain("primary-key", table, "added")),
        (Some(expected), Some(live)) if expected != live => {
            found.push(changed(
                "primary-key",
                table.to_owned(),
                format!("{expected} → {live}"),
            ));
        }
        _ => {}
    }
    for (kind, expected, live) in [
        ("unique-key", &expected.unique_keys, &live.unique_keys),
        ("foreign-key", &expected.foreign_keys, &live.foreign_keys),
        ("index", &expected.indexes, &live.indexes),
    ] {
        compare_maps(
            expected,
            live,
            kind,
            &prefix,
            found,
            |name, expected, live, found| {
                if expected != live {
                    found.push(changed(
                        kind,
                        format!("{prefix}{name}"),
                        format!("{expected} → {live}"),
                    ));
                }
            },
        );
    }
}

/// Names only in `expected` are removed, only in `live` added; names in
/// both are compared by `same`.
fn compare_maps<V>(
    expected: &BTreeMap<String, V>,
    live: &BTreeMap<String, V>,
    kind: &'static str,
    prefix: &str,
    found: &mut Vec<Difference>,
    mut same: impl FnMut(&str, &V, &V, &mut Vec<Difference>),
) {
    for (name, value) in expected {
        match live.get(name) {
            None => found.push(plain(kind, &format!("{prefix}{name}"), "removed")),
            Some(live) => same(name, value, live, found),
        }
    }
    for name in live.keys().filter(|name| !expected.contains_key(*name)) {
        found.push(plain(kind, &format!("{prefix}{name}"), "added"));
    }
}

fn plain(kind: &'static str, object: &str, change: &'static str) -> Difference {
    Difference {
        kind,
        object: object.to_owned(),
        change,
        detail: None,
    }
}

fn changed(kind: &'static str, object: String, detail: String) -> Difference {
    Difference {
        kind,
        object,
        change: "changed",
        detail: Some(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Table {
        let mut table = Table::default();
        table.columns.insert(
            "id".into(),
            Column {
                data_type: "integer".into(),
                nullable: false,
                default: None,
            },
        );
        table.columns.insert(
            "email".into(),
            Column {
                data_type: "text".into(),
                nullable: true,
                default: Some("''".into()),
            },
        );
        table.primary_key = Some("(id)".into());
        table
            .indexes
            .insert("users_email_idx".into(), "(email)".into());
        table
    }

    fn schema(table: Table) -> Schema {
        let mut schema = Schema::default();
        schema.tables.insert("users".into(), table);
        schema
    }

    #[test]
    fn the_same_schema_has_no_differences() {
        assert!(diff(&schema(users()), &schema(users())).is_empty());
    }

    #[test]
    fn each_kind_of_change_is_named() {
        let mut live = users();
        live.columns.insert(
            "nickname".into(),
            Column {
                data_type: "text".into(),
                nullable: true,
                default: None,
            },
        );
        live.indexes.clear();
        live.columns.get_mut("email").unwrap().default = Some("'x'".into());
        live.columns.get_mut("id").unwrap().nullable = true;
        let mut live = schema(live);
        live.enums.insert("Role".into(), vec!["A".into()]);
        live.tables.insert("extra".into(), Table::default());

        let found: Vec<String> = diff(&schema(users()), &live)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "column users.email changed: default '' → default 'x'",
                "column users.id changed: NOT NULL → NULL",
                "column users.nickname added",
                "index users.users_email_idx removed",
                "table extra added",
                "enum Role added",
            ]
        );
    }

    #[test]
    fn the_tracking_table_is_left_out() {
        let mut live = schema(users());
        live.tables
            .insert("_prisma_migrations".into(), Table::default());
        let live = live.without_tables(&["_prisma_migrations"]);
        assert!(diff(&schema(users()), &live).is_empty());
    }
}
