//! A Sequelize project as `config init` finds it: `package.json` depends on
//! `sequelize-cli` (or `sequelize`), `.sequelizerc` may move the migrations
//! folder (`migrations-path`) and the configuration (`config`), and that
//! configuration (`config/config.js`, else `config/config.json`) says, for
//! the `development` environment sequelize-cli uses by default, the `dialect`,
//! the table (`migrationStorageTableName`) and the variable holding the URL
//! (`use_env_variable`).

use faber_db_handler::config_text::{after_key, quoted_values, url_variable};
use faber_db_handler::project::{Found, Project};
use faber_db_handler::types::Provider;

const RC_FILE: &str = ".sequelizerc";
/// Where sequelize-cli looks without `.sequelizerc`'s `config`, in order.
const DEFAULT_CONFIGS: [&str; 2] = ["config/config.js", "config/config.json"];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SequelizeProject {
    /// The configuration's `dialect` (`postgres`, `mysql`, `mariadb`,
    /// `sqlite`, …).
    pub dialect: Option<String>,
    /// `migrations-path`, relative to the project (`migrations` unless
    /// `.sequelizerc` or a script says otherwise).
    pub migrations_directory: String,
    /// `migrationStorageTableName`: faber-db's `migrations.table`.
    pub tracking_table: Option<String>,
    /// `use_env_variable`, or the variable `url` is read from.
    pub url_variable: Option<String>,
    /// The files these came from, relative to the project.
    pub read_from: Vec<String>,
}

impl SequelizeProject {
    /// The dialect as a faber-db provider, where it is one.
    fn provider(&self) -> Option<Provider> {
        match self.dialect.as_deref()? {
            "postgres" => Some(Provider::Postgresql),
            "mysql" | "mariadb" => Some(Provider::Mysql),
            "sqlite" => Some(Provider::Sqlite),
            _ => None,
        }
    }

    fn into_found(self) -> Found {
        Found {
            provider: self.provider(),
            details: self
                .dialect
                .map(|dialect| ("dialect", dialect))
                .into_iter()
                .collect(),
            read_from: self.read_from,
            migrations_directory: Some(self.migrations_directory),
            tracking_table: self.tracking_table,
            url_variable: self.url_variable,
            next_steps: Vec::new(),
        }
    }
}

pub fn read_project(project: &Project) -> Option<Found> {
    read(project).map(SequelizeProject::into_found)
}

fn read(project: &Project) -> Option<SequelizeProject> {
    let manifest = project.read("package.json")?;
    let package: serde_json::Value = serde_json::from_str(manifest).ok()?;
    let depends = ["dependencies", "devDependencies"].iter().any(|section| {
        ["sequelize-cli", "sequelize"]
            .iter()
            .any(|name| package[section].get(name).is_some())
    });
    if !depends {
        return None;
    }
    let mut found = SequelizeProject {
        migrations_directory: "migrations".to_owned(),
        read_from: vec!["package.json".to_owned()],
        ..SequelizeProject::default()
    };
    let rc = project.read(RC_FILE);
    if rc.is_some() {
        found.read_from.push(RC_FILE.to_owned());
    }
    let setting = |key: &str| {
        rc.and_then(|text| rc_path(text, key))
            .or_else(|| script_flag(&package, key))
    };
    if let Some(folder) = setting("migrations-path") {
        found.migrations_directory = folder;
    }
    let config = setting("config")
        .into_iter()
        .chain(DEFAULT_CONFIGS.map(str::to_owned))
        .find_map(|config| Some((project.read(&config)?, config)));
    if let Some((text, config)) = config {
        read_config(text, &mut found);
        found.read_from.push(config);
    }
    Some(found)
}

/// The `development` entry of a JSON configuration (or the whole of a flat
/// one), or the first value of each key in a JavaScript one.
fn read_config(text: &str, found: &mut SequelizeProject) {
    if let Ok(config) = serde_json::from_str::<serde_json::Value>(text) {
        let development = match config.get("development") {
            Some(entry) => entry,
            None => &config,
        };
        let value = |key: &str| development[key].as_str().map(str::to_owned);
        found.dialect = value("dialect");
        found.tracking_table = value("migrationStorageTableName");
        found.url_variable = value("use_env_variable");
        return;
    }
    let value = |key| quoted_values(text, key).next().map(str::to_owned);
    found.dialect = value("dialect");
    found.tracking_table = value("migrationStorageTableName");
    found.url_variable = value("use_env_variable").or_else(|| url_variable(text, ':'));
}

/// The path `.sequelizerc` gives `key` (quoted or not): a string, or
/// `path.resolve(…)` / `path.join(…)` of strings (`__dirname` and
/// `process.cwd()`, the project, dropped), relative to the project.
fn rc_path(text: &str, key: &str) -> Option<String> {
    let value = text.match_indices(key).find_map(|(at, _)| {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.') {
            return None;
        }
        after_key(&text[at + key.len()..], before)
    })?;
    let value = value.trim_start();
    // The call's arguments, to its closing parenthesis; or the value alone.
    let arguments = match value.strip_prefix("path.") {
        Some(call) => {
            let open = call.find('(')?;
            let mut depth = 0;
            let close = call[open..].char_indices().find_map(|(at, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                (depth == 0).then_some(open + at)
            })?;
            &call[open + 1..close]
        }
        None => value.split([',', '\n', '}']).next()?,
    };
    let joined = arguments
        .split(',')
        .map(str::trim)
        .filter_map(|part| {
            let quote = part
                .chars()
                .next()
                .filter(|c| matches!(c, '"' | '\'' | '`'))?;
            part.strip_prefix(quote)?.strip_suffix(quote)
        })
        .map(|part| part.trim_start_matches("./").trim_matches('/'))
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/");
    (!joined.is_empty()).then_some(joined)
}

/// `--<key> <value>` (or `--<key>=<value>`) in a script that runs
/// sequelize-cli.
fn script_flag(package: &serde_json::Value, key: &str) -> Option<String> {
    let flag = format!("--{key}");
    package["scripts"]
        .as_object()?
        .values()
        .filter_map(serde_json::Value::as_str)
        .filter(|script| script.contains("sequelize"))
        .find_map(|script| {
            let mut words = script.split_whitespace();
            let found = words.find(|word| word.split('=').next() == Some(flag.as_str()))?;
            let value = match found.split_once('=') {
                Some((_, value)) => value,
                None => words.next()?,
            };
            Some(
                value
                    .trim_start_matches("./")
                    .trim_end_matches('/')
                    .to_owned(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_folder_and_configuration_sequelizerc_names() {
        let project_files = Project::of_files(&[
            (
                "package.json",
                r#"{ "devDependencies": { "sequelize-cli": "^6.6.5" } }"#,
            ),
            (
                ".sequelizerc",
                "const path = require('path');\n\
                 module.exports = {\n\
                   config: path.resolve('config', 'database.json'),\n\
                   'migrations-path': path.resolve(process.cwd(), 'db', 'migrations'),\n\
                 };\n",
            ),
            (
                "config/database.json",
                r#"{ "development": { "use_env_variable": "SHOP_DB_URL", "dialect": "mysql",
                     "migrationStorageTableName": "sequelize_meta" },
                   "production": { "dialect": "postgres" } }"#,
            ),
        ]);
        let found = read(&project_files).unwrap();
        assert_eq!(found.provider(), Some(Provider::Mysql));
        assert_eq!(found.migrations_directory, "db/migrations");
        assert_eq!(found.tracking_table.as_deref(), Some("sequelize_meta"));
        assert_eq!(found.url_variable.as_deref(), Some("SHOP_DB_URL"));
        assert_eq!(
            found.read_from,
            ["package.json", ".sequelizerc", "config/database.json"]
        );
    }

    #[test]
    fn the_defaults_and_a_scripts_flag_are_read_and_a_project_without_sequelize_is_not_one() {
        let project_files = Project::of_files(&[
            (
                "package.json",
                r#"{ "dependencies": { "sequelize": "6" },
                    "scripts": { "migrate": "sequelize-cli db:migrate --migrations-path=src/migrations" } }"#,
            ),
            (
                "config/config.js",
                "module.exports = { development: { dialect: 'postgres', url: process.env.PG_URL } };",
            ),
            ("config/config.json", r#"{ "dialect": "sqlite" }"#),
        ]);
        let found = read(&project_files).unwrap();
        assert_eq!(found.provider(), Some(Provider::Postgresql));
        assert_eq!(found.url_variable.as_deref(), Some("PG_URL"));
        assert_eq!(found.migrations_directory, "src/migrations");
        assert_eq!(found.read_from, ["package.json", "config/config.js"]);
        let without_js = Project::of_files(&[
            (
                "package.json",
                r#"{ "dependencies": { "sequelize": "6" } }"#,
            ),
            ("config/config.json", r#"{ "dialect": "sqlite" }"#),
        ]);
        let flat = read(&without_js).unwrap();
        assert_eq!(flat.provider(), Some(Provider::Sqlite));
        let other = Project::of_files(&[("package.json", r#"{ "dependencies": { "pg": "8" } }"#)]);
        assert_eq!(read(&other), None);
    }
}
