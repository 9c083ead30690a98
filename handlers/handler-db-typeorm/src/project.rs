//! A TypeORM project as `config init` finds it: `package.json` depends on
//! `typeorm`, and its data source (the file its scripts give `typeorm -d`,
//! else one at a conventional place) says the driver (`type`), the
//! migrations (`migrations: ["dist/migrations/*.js"]`), the table
//! (`migrationsTableName`) and the variable holding the URL.

use std::path::{Component, Path, PathBuf};

use faber_db_handler::MigrationTool;
use faber_db_handler::config_text::{after_key, quoted_values, url_variable};
use faber_db_handler::project::{Found, Project};
use faber_db_handler::types::Provider;

/// Where a data source usually is, when no script names it.
const DATA_SOURCES: [&str; 8] = [
    "data-source.ts",
    "data-source.js",
    "src/data-source.ts",
    "src/data-source.js",
    "src/db/data-source.ts",
    "src/db/data-source.js",
    "ormconfig.ts",
    "ormconfig.js",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeormProject {
    /// The data source's `type` (`postgres`, `mysql`, `better-sqlite3`, …).
    pub driver: Option<String>,
    /// The folder of the data source's first `migrations` glob, relative
    /// to the project.
    pub migrations_directory: Option<String>,
    /// `migrationsTableName`: faber-db's `migrations.table`.
    pub tracking_table: Option<String>,
    /// The variable `url` is read from.
    pub url_variable: Option<String>,
    /// Where the data source's glob names TypeScript sources, the folder
    /// they are in; `migrations_directory` is then where `tsc` writes them
    /// (`tsconfig.json`'s `outDir`), which faber-db runs.
    pub typescript_sources: Option<String>,
    /// The files these came from, relative to the project.
    pub read_from: Vec<String>,
}

impl TypeormProject {
    /// The driver as a faber-db provider, where it is one.
    fn provider(&self) -> Option<Provider> {
        match self.driver.as_deref()? {
            "postgres" | "aurora-postgres" => Some(Provider::Postgresql),
            "mysql" | "mariadb" | "aurora-mysql" => Some(Provider::Mysql),
            "sqlite" | "better-sqlite3" | "sqljs" | "capacitor" => Some(Provider::Sqlite),
            _ => None,
        }
    }

    fn into_found(self) -> Found {
        let compiled = self
            .migrations_directory
            .as_deref()
            .unwrap_or(<crate::TypeormHandler as MigrationTool>::MIGRATIONS_DIRECTORY);
        let next_steps = self
            .typescript_sources
            .iter()
            .map(|sources| {
                format!(
                    "Compile the migrations in {sources} (tsc) before faber-db migrate: it runs the JavaScript in {compiled}"
                )
            })
            .collect();
        let details = [
            ("driver", self.driver.clone()),
            ("typescript_sources", self.typescript_sources.clone()),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect();
        Found {
            provider: self.provider(),
            read_from: self.read_from,
            migrations_directory: self.migrations_directory,
            tracking_table: self.tracking_table,
            url_variable: self.url_variable,
            next_steps,
            details,
        }
    }
}

pub fn read_project(project: &Project) -> Option<Found> {
    read(project).map(TypeormProject::into_found)
}

fn read(project: &Project) -> Option<TypeormProject> {
    let manifest = project.read("package.json")?;
    let package: serde_json::Value = serde_json::from_str(manifest).ok()?;
    let depends = ["dependencies", "devDependencies"]
        .iter()
        .any(|section| package[section].get("typeorm").is_some());
    if !depends {
        return None;
    }
    let mut found = TypeormProject {
        read_from: vec!["package.json".to_owned()],
        ..TypeormProject::default()
    };
    let named = scripts_data_source(&package);
    let Some((source, text)) = named
        .iter()
        .map(String::as_str)
        .chain(DATA_SOURCES)
        .find_map(|name| {
            let name = name.trim_start_matches("./");
            Some((name.to_owned(), project.read(name)?))
        })
    else {
        return Some(found);
    };
    let value = |key| quoted_values(text, key).next().map(str::to_owned);
    found.driver = value("type");
    found.tracking_table = value("migrationsTableName");
    found.url_variable = url_variable(text, ':');
    let source_dir = Path::new(&source).parent().unwrap_or(Path::new(""));
    if let Some((glob, from_dirname)) = migrations_glob(text) {
        let folder = glob
            .split('*')
            .next()
            .unwrap_or_default()
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/');
        let folder = match from_dirname {
            true => lexically_normal(&source_dir.join(folder)),
            false => folder.to_owned(),
        };
        found.read_from.push(source);
        let typescript = glob.ends_with(".ts") || glob.contains(".ts,") || glob.contains(".ts}");
        let compiled = match typescript {
            true => compiled_folder(project, &folder),
            false => None,
        };
        if let Some((compiled, tsconfig)) = compiled {
            found.typescript_sources = Some(folder);
            found.migrations_directory = Some(compiled);
            found.read_from.push(tsconfig);
        } else {
            found.migrations_directory = Some(folder);
        }
        return Some(found);
    }
    found.read_from.push(source);
    Some(found)
}

/// Where `tsc` writes the files of `folder`: `outDir` with the folder's path
/// below `rootDir` (by default `src`, where the TypeScript sources of a
/// project usually are), as `tsconfig.json` says; with the file read.
fn compiled_folder(project: &Project, folder: &str) -> Option<(String, String)> {
    const TSCONFIG: &str = "tsconfig.json";
    let text = project.read(TSCONFIG)?;
    let value = |key| quoted_values(text, key).next().map(str::to_owned);
    let out_dir = value("outDir")?;
    let root_dir = value("rootDir").unwrap_or_else(|| "src".to_owned());
    let root_dir = root_dir.trim_start_matches("./").trim_end_matches('/');
    let below = match Path::new(folder).strip_prefix(root_dir) {
        Ok(below) => below,
        Err(_) => Path::new(folder),
    };
    let compiled = lexically_normal(&Path::new(out_dir.trim_start_matches("./")).join(below));
    Some((compiled, TSCONFIG.to_owned()))
}

/// `path` with `.` and `dir/..` taken out, as text.
fn lexically_normal(path: &Path) -> String {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if normal.pop() => {}
            other => normal.push(other),
        }
    }
    normal.display().to_string()
}

/// The data source a `typeorm … -d FILE` (or `--dataSource FILE`) script
/// names.
fn scripts_data_source(package: &serde_json::Value) -> Vec<String> {
    let Some(scripts) = package["scripts"].as_object() else {
        return Vec::new();
    };
    scripts
        .values()
        .filter_map(serde_json::Value::as_str)
        .filter(|script| script.contains("typeorm"))
        .filter_map(|script| {
            let mut words = script.split_whitespace();
            let flag = words.find(|word| {
                let flag = word.split_once('=').map_or(*word, |(flag, _)| flag);
                matches!(flag, "-d" | "--dataSource" | "--data-source")
            })?;
            match flag.split_once('=') {
                Some((_, file)) => Some(file.to_owned()),
                None => words.next().map(str::to_owned),
            }
        })
        .collect()
}

/// The first string of `migrations: [...]`, and whether it follows
/// `__dirname +` (then it is relative to the data source's folder).
fn migrations_glob(text: &str) -> Option<(String, bool)> {
    text.match_indices("migrations").find_map(|(at, key)| {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            return None;
        }
        let rest = after_key(&text[at + key.len()..], before)?
            .trim_start()
            .strip_prefix('[')?
            .trim_start();
        let (rest, from_dirname) = match rest.strip_prefix("__dirname") {
            Some(joined) => (joined.trim_start().strip_prefix('+')?.trim_start(), true),
            None => (rest, false),
        };
        let quote = rest
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'))?;
        let value = &rest[1..];
        let end = value.find(quote)?;
        Some((value[..end].to_owned(), from_dirname))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_data_source_the_scripts_name() {
        let project_files = Project::of_files(&[
            (
                "package.json",
                r#"{ "dependencies": { "typeorm": "^1.1.4" },
                    "scripts": { "migrate": "typeorm migration:run -d ./src/db/source.js" } }"#,
            ),
            (
                "src/db/source.js",
                r#"module.exports = new DataSource({
  type: "mysql",
  url: process.env.SHOP_DB_URL,
  migrations: [__dirname + "/../../dist/migrations/*.js"],
  migrationsTableName: "typeorm_migrations",
});"#,
            ),
        ]);
        let found = read(&project_files).unwrap();
        assert_eq!(found.provider(), Some(Provider::Mysql));
        assert_eq!(
            found.migrations_directory.as_deref(),
            Some("dist/migrations")
        );
        assert_eq!(found.tracking_table.as_deref(), Some("typeorm_migrations"));
        assert_eq!(found.url_variable.as_deref(), Some("SHOP_DB_URL"));
        assert_eq!(found.read_from, ["package.json", "src/db/source.js"]);
    }

    #[test]
    fn typescript_migrations_are_taken_from_where_tsc_writes_them() {
        let project_files = Project::of_files(&[
            (
                "package.json",
                r#"{ "dependencies": { "typeorm": "1" },
                    "scripts": { "m": "typeorm-ts-node-commonjs migration:run --dataSource=src/data-source.ts" } }"#,
            ),
            (
                "src/data-source.ts",
                r#"export default new DataSource({ type: "postgres", migrations: [__dirname + "/migrations/*{.ts,.js}"] });"#,
            ),
            (
                "tsconfig.json",
                r#"{ "compilerOptions": { "outDir": "./build", "rootDir": "./src" } }"#,
            ),
        ]);
        let found = read(&project_files).unwrap();
        assert_eq!(
            found.migrations_directory.as_deref(),
            Some("build/migrations")
        );
        assert_eq!(found.typescript_sources.as_deref(), Some("src/migrations"));
        assert_eq!(
            found.read_from,
            ["package.json", "src/data-source.ts", "tsconfig.json"]
        );
    }

    #[test]
    fn a_conventional_data_source_is_found_and_a_project_without_typeorm_is_not_one() {
        let project_files = Project::of_files(&[
            (
                "package.json",
                r#"{ "devDependencies": { "typeorm": "1" } }"#,
            ),
            (
                "data-source.ts",
                "export const AppDataSource = new DataSource({ type: 'postgres', migrations: ['dist/migrations/*.js'] });",
            ),
        ]);
        let found = read(&project_files).unwrap();
        assert_eq!(found.provider(), Some(Provider::Postgresql));
        assert_eq!(
            found.migrations_directory.as_deref(),
            Some("dist/migrations")
        );
        let other = Project::of_files(&[("package.json", r#"{ "dependencies": { "pg": "8" } }"#)]);
        assert_eq!(read(&other), None);
    }
}
