//! A Drizzle project as `config init` finds it: `drizzle.config.*` says the
//! dialect, the migrations folder (`out`), the migrator's table and schema
//! (`migrations: { table, schema }`) and the variable holding the URL.

use std::path::Path;

use serde::Serialize;

use super::config_text::{after_key, quoted_values, url_variable};

/// The names drizzle-kit looks for without `--config`, in its order, in
/// the project directory.
const CONFIG_FILES: [&str; 3] = [
    "drizzle.config.ts",
    "drizzle.config.js",
    "drizzle.config.json",
];

/// drizzle-kit's default `out`.
const DEFAULT_OUT: &str = "drizzle";

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DrizzleProject {
    /// `dialect` (`postgresql`, `mysql`, `sqlite`, `turso`, …).
    pub dialect: Option<String>,
    /// `out`, relative to the project: where drizzle-kit writes migrations.
    pub migrations_directory: String,
    /// `migrations.table`, qualified on PostgreSQL with `migrations.schema`
    /// when that is set: faber-db's `migrations.table`.
    pub tracking_table: Option<String>,
    /// The variable `dbCredentials.url` is read from.
    pub url_variable: Option<String>,
    /// The file these came from, relative to the project.
    pub read_from: String,
}

impl DrizzleProject {
    /// The dialect as a faber-db provider name, where it is one.
    pub fn provider(&self) -> Option<&str> {
        match self.dialect.as_deref()? {
            "postgresql" => Some("postgresql"),
            "mysql" => Some("mysql"),
            "sqlite" | "turso" => Some("sqlite"),
            _ => None,
        }
    }
}

pub fn read_project(project: &Path) -> Option<DrizzleProject> {
    let (name, text) = CONFIG_FILES.iter().find_map(|name| {
        let text = std::fs::read_to_string(project.join(name)).ok()?;
        Some((name, text))
    })?;
    let value = |text: &str, key| quoted_values(text, key).next().map(str::to_owned);
    // The `migrations: { … }` block, not a path that ends in `migrations`.
    let migrations = text
        .match_indices("migrations")
        .find_map(|(at, key)| {
            let after = after_key(&text[at + key.len()..], text[..at].chars().next_back())?;
            Some(after.split_once('}').map_or(after, |(block, _)| block))
        })
        .unwrap_or("");
    let table = value(migrations, "table");
    let schema = value(migrations, "schema");
    let dialect = value(&text, "dialect");
    let tracking_table = match (dialect.as_deref(), schema, table) {
        (Some("postgresql"), Some(schema), table) => Some(format!(
            "{schema}.{}",
            table.as_deref().unwrap_or("__drizzle_migrations")
        )),
        (_, _, table) => table,
    };
    let out = value(&text, "out").unwrap_or_else(|| DEFAULT_OUT.to_owned());
    Some(DrizzleProject {
        dialect,
        migrations_directory: out
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_owned(),
        tracking_table,
        url_variable: url_variable(&text, ':'),
        read_from: (*name).to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(config: &str) -> DrizzleProject {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(project.path().join("drizzle.config.ts"), config).unwrap();
        read_project(project.path()).unwrap()
    }

    #[test]
    fn reads_what_drizzle_kit_reads() {
        let found = read(
            r#"import { defineConfig } from "drizzle-kit";
export default defineConfig({
  schema: "./src/db/schema.ts",
  out: "./db/migrations/",
  dialect: "postgresql",
  dbCredentials: { url: process.env.APP_DATABASE_URL! },
  migrations: { table: "journal", schema: "ops" },
});"#,
        );
        assert_eq!(
            found,
            DrizzleProject {
                dialect: Some("postgresql".to_owned()),
                migrations_directory: "db/migrations".to_owned(),
                tracking_table: Some("ops.journal".to_owned()),
                url_variable: Some("APP_DATABASE_URL".to_owned()),
                read_from: "drizzle.config.ts".to_owned(),
            }
        );
        assert_eq!(found.provider(), Some("postgresql"));
    }

    #[test]
    fn drizzle_kits_defaults_fill_the_rest() {
        let found = read(r#"export default { dialect: 'turso', schema: './schema.ts' };"#);
        assert_eq!(found.migrations_directory, "drizzle");
        assert_eq!(found.tracking_table, None);
        assert_eq!(found.url_variable, None);
        assert_eq!(found.provider(), Some("sqlite"));
        let mysql = read(r#"export default { dialect: "mysql", migrations: { table: "m" } };"#);
        assert_eq!(mysql.tracking_table.as_deref(), Some("m"));
        let pg_schema =
            read(r#"export default { dialect: "postgresql", migrations: { schema: "ops" } };"#);
        assert_eq!(
            pg_schema.tracking_table.as_deref(),
            Some("ops.__drizzle_migrations")
        );
    }

    #[test]
    fn a_json_config_is_read_too() {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(
            project.path().join("drizzle.config.json"),
            r#"{ "dialect": "mysql", "out": "./db", "dbCredentials": { "url": "mysql://localhost/app" } }"#,
        )
        .unwrap();
        let found = read_project(project.path()).unwrap();
        assert_eq!(found.provider(), Some("mysql"));
        assert_eq!(found.migrations_directory, "db");
        assert_eq!(found.read_from, "drizzle.config.json");
    }

    #[test]
    fn a_project_without_a_config_is_not_drizzles() {
        let project = tempfile::tempdir().unwrap();
        assert_eq!(read_project(project.path()), None);
    }
}
