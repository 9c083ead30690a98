//! A Drizzle project as `config init` finds it: `drizzle.config.*` says the
//! dialect, the migrations folder (`out`), the migrator's table and schema
//! (`migrations: { table, schema }`) and the variable holding the URL.

use faber_db_handler::config_text::{after_key, quoted_values, url_variable};
use faber_db_handler::project::{Found, Project};
use faber_db_handler::types::Provider;

/// The names drizzle-kit looks for without `--config`, in its order, in
/// the project directory.
const CONFIG_FILES: [&str; 3] = [
    "drizzle.config.ts",
    "drizzle.config.js",
    "drizzle.config.json",
];

/// drizzle-kit's default `out`.
pub const DEFAULT_OUT: &str = "drizzle";

pub fn read_project(project: &Project) -> Option<Found> {
    let (name, text) = CONFIG_FILES
        .iter()
        .find_map(|name| Some((*name, project.read(name)?)))?;
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
    let dialect = value(text, "dialect");
    let tracking_table = match (dialect.as_deref(), schema, table) {
        (Some("postgresql"), Some(schema), table) => Some(format!(
            "{schema}.{}",
            table.as_deref().unwrap_or("__drizzle_migrations")
        )),
        (_, _, table) => table,
    };
    let out = value(text, "out").unwrap_or_else(|| DEFAULT_OUT.to_owned());
    Some(Found {
        read_from: vec![name.to_owned()],
        provider: dialect.as_deref().and_then(provider),
        migrations_directory: Some(
            out.trim_start_matches("./")
                .trim_end_matches('/')
                .to_owned(),
        ),
        tracking_table,
        url_variable: url_variable(text, ':'),
        next_steps: Vec::new(),
        details: dialect
            .map(|dialect| ("dialect", dialect))
            .into_iter()
            .collect(),
    })
}

/// A dialect as faber-db's provider, where it is one.
fn provider(dialect: &str) -> Option<Provider> {
    match dialect {
        "postgresql" => Some(Provider::Postgresql),
        "mysql" => Some(Provider::Mysql),
        "sqlite" | "turso" => Some(Provider::Sqlite),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, config: &str) -> Found {
        read_project(&Project::of_files(&[(name, config)])).unwrap()
    }

    #[test]
    fn reads_what_drizzle_kit_reads() {
        let found = read(
            "drizzle.config.ts",
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
            Found {
                read_from: vec!["drizzle.config.ts".to_owned()],
                provider: Some(Provider::Postgresql),
                migrations_directory: Some("db/migrations".to_owned()),
                tracking_table: Some("ops.journal".to_owned()),
                url_variable: Some("APP_DATABASE_URL".to_owned()),
                next_steps: Vec::new(),
                details: vec![("dialect", "postgresql".to_owned())],
            }
        );
    }

    #[test]
    fn drizzle_kits_defaults_fill_the_rest() {
        let found = read(
            "drizzle.config.ts",
            r#"export default { dialect: 'turso', schema: './schema.ts' };"#,
        );
        assert_eq!(found.migrations_directory.as_deref(), Some("drizzle"));
        assert_eq!(found.tracking_table, None);
        assert_eq!(found.url_variable, None);
        assert_eq!(found.provider, Some(Provider::Sqlite));
        let mysql = read(
            "drizzle.config.ts",
            r#"export default { dialect: "mysql", migrations: { table: "m" } };"#,
        );
        assert_eq!(mysql.tracking_table.as_deref(), Some("m"));
        let pg_schema = read(
            "drizzle.config.ts",
            r#"export default { dialect: "postgresql", migrations: { schema: "ops" } };"#,
        );
        assert_eq!(
            pg_schema.tracking_table.as_deref(),
            Some("ops.__drizzle_migrations")
        );
    }

    #[test]
    fn a_json_config_is_read_too() {
        let found = read(
            "drizzle.config.json",
            r#"{ "dialect": "mysql", "out": "./db", "dbCredentials": { "url": "mysql://localhost/app" } }"#,
        );
        assert_eq!(found.provider, Some(Provider::Mysql));
        assert_eq!(found.migrations_directory.as_deref(), Some("db"));
        assert_eq!(found.read_from, ["drizzle.config.json"]);
    }

    #[test]
    fn a_project_without_a_config_is_not_drizzles() {
        assert_eq!(read_project(&Project::of_files(&[])), None);
    }
}
