//! Where a relative SQLite path in a Prisma project points, which depends on
//! the Prisma the project uses. faber-db must name the file the
//! application's Prisma Client and Prisma's CLI open.
//!
//! - **Prisma 7** resolves `file:./dev.db` against the folder of its config
//!   file, which its CLI finds in this order: `prisma7.config.*` (7.10),
//!   `prisma.config.*`, then the same under `.config/` (each with the
//!   extensions `ts`, `mts`, `cts`, `js`, `mjs`, `cjs`).
//! - **Prisma 6** resolves it against the directory of the schema file that
//!   holds the `datasource` block (its CLI starts the schema engine there),
//!   so with `prisma/schema.prisma` the database is `prisma/dev.db`. The
//!   schema is found as its CLI finds it without `--schema`: the `schema` of
//!   `prisma.config.ts` (read as text; the TypeScript is not run), then
//!   `"prisma": {"schema": …}` in `package.json`, then `schema.prisma`, then
//!   `prisma/schema.prisma`. A schema folder (several `.prisma` files)
//!   counts by the file with the `datasource` block.
//!
//! Which Prisma: the version of the `prisma` package installed in the
//! project (`node_modules/prisma/package.json`), else the config's shape (a
//! `prisma7.config.*` file, or a `datasource` in the config: Prisma 7 keeps
//! the URL there, and refuses one in the schema). Without a config or a
//! schema, the path is relative to the project directory, as for other
//! tools.

use super::config_text::{quoted_values, url_variable};
use std::path::{Path, PathBuf};

/// Where Prisma 7's CLI looks for its config, in order: a folder of the
/// project and the names there (each with one of [`CONFIG_EXTENSIONS`]).
const CONFIG_PLACES: [(&str, &str); 4] = [
    ("", "prisma7.config"),
    ("", "prisma.config"),
    (".config", "prisma7"),
    (".config", "prisma"),
];
const CONFIG_EXTENSIONS: [&str; 6] = ["ts", "mts", "cts", "js", "mjs", "cjs"];

/// What a Prisma project says about its database, for `config init`: each
/// found where Prisma itself reads it, `None` where it says nothing.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PrismaProject {
    /// The schema's `datasource` provider (`postgresql`, `mysql`, `sqlite`, …).
    pub provider: Option<String>,
    /// The migrations folder, relative to the project: the config's
    /// `migrations.path` (relative to the config's folder), else the
    /// schema's folder's `migrations`.
    pub migrations_directory: Option<String>,
    /// The variable holding the database's URL: the config's
    /// `datasource.url` (Prisma 7), else the schema's `url = env(…)`.
    pub url_variable: Option<String>,
    /// The schema file or folder, relative to the project.
    pub schema: Option<String>,
    /// The Prisma major version whose rules the project is read by: 7, or
    /// 6 for every earlier one.
    pub major_version: u8,
    /// The files these came from, relative to the project.
    pub read_from: Vec<String>,
}

/// What the Prisma project in `project` says, if there is one (a Prisma
/// config or schema).
pub fn read_project(project: &Path) -> Option<PrismaProject> {
    let config = config_file(project);
    let schema = schema_location(project, config.as_deref());
    if config.is_none() && schema.is_none() {
        return None;
    }
    let relative = |path: &Path| {
        path.strip_prefix(project)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let config_text = config
        .as_deref()
        .and_then(|path| std::fs::read_to_string(path).ok());
    let schema_file = schema.as_deref().and_then(datasource_file);
    let datasource = schema_file
        .as_deref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| datasource_block(&text).map(str::to_owned));
    let mut found = PrismaProject {
        schema: schema.as_deref().map(relative),
        major_version: if is_prisma_7(project, config.as_deref()) {
            7
        } else {
            6
        },
        ..PrismaProject::default()
    };
    found.read_from.extend(config.as_deref().map(relative));
    found.read_from.extend(schema_file.as_deref().map(relative));
    found.provider = datasource
        .as_deref()
        .and_then(|text| assigned(text, "provider"));
    found.url_variable = config_text
        .as_deref()
        .and_then(|text| url_variable(text, ':'))
        .or_else(|| {
            datasource
                .as_deref()
                .and_then(|text| url_variable(text, '='))
        });
    let config_dir = config.as_deref().and_then(Path::parent);
    found.migrations_directory = config_text
        .as_deref()
        .and_then(|text| {
            let (_, after) = text.split_once("migrations")?;
            quoted_values(after, "path").next().map(str::to_owned)
        })
        .zip(config_dir)
        .map(|(path, dir)| relative(&dir.join(path)))
        .or_else(|| {
            let schema_dir = schema_file.as_deref()?.parent()?;
            Some(relative(&schema_dir.join("migrations")))
        });
    Some(found)
}

/// The body of a schema's `datasource NAME { … }` block: a generator's
/// `provider` comes before it in `prisma init`'s schema.
fn datasource_block(text: &str) -> Option<&str> {
    let mut offset = 0;
    let start = text.split_inclusive('\n').find_map(|line| {
        let at = offset;
        offset += line.len();
        declares_datasource(line).then_some(at)
    })?;
    let body = &text[start..];
    let open = body.find('{')? + 1;
    let close = body[open..].find('}').map_or(body.len(), |at| open + at);
    Some(&body[open..close])
}

/// The value of `key = "…"` in a schema's text, the first one.
fn assigned(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line
            .trim_start()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?;
        let value = rest.trim_start().strip_prefix('"')?;
        value.split_once('"').map(|(value, _)| value.to_owned())
    })
}

/// How to fill the empty migration at `path` with Prisma's own diff, from
/// the migrations folder (replayed on a shadow database) to the schema, in
/// the flags of the Prisma the project uses.
pub fn fill_with_diff(project: &Path, migrations: &str, path: &str) -> Vec<String> {
    let read = read_project(project);
    let schema = read
        .as_ref()
        .and_then(|read| read.schema.clone())
        .unwrap_or_else(|| "prisma/schema.prisma".to_owned());
    if read.is_some_and(|read| read.major_version >= 7) {
        vec![
            format!(
                "Fill it from the Prisma schema with Prisma's own diff: npx prisma migrate diff \
                 --from-migrations {migrations} --to-schema {schema} --script >> {path}"
            ),
            // Prisma 7 dropped the URL flags: the shadow database is the config's.
            "Prisma 7 replays the migrations on the shadow database its config names: set datasource.shadowDatabaseUrl in the Prisma config first".to_owned(),
        ]
    } else {
        vec![format!(
            "Fill it from the Prisma schema with Prisma's own diff: npx prisma migrate diff \
             --from-migrations {migrations} --to-schema-datamodel {schema} \
             --shadow-database-url \"$SHADOW_DATABASE_URL\" --script >> {path}"
        )]
    }
}

/// The directory a relative SQLite path resolves against.
pub fn sqlite_base(project: &Path) -> PathBuf {
    let config = config_file(project);
    if let Some(config) = config
        .as_deref()
        .filter(|config| is_prisma_7(project, Some(config)))
    {
        return config.parent().unwrap_or(project).to_path_buf();
    }
    schema_location(project, config.as_deref())
        .and_then(|schema| datasource_dir(&schema))
        .unwrap_or_else(|| project.to_path_buf())
}

/// The Prisma config file, found as Prisma 7's CLI finds it.
fn config_file(project: &Path) -> Option<PathBuf> {
    CONFIG_PLACES
        .iter()
        .flat_map(|(dir, stem)| {
            CONFIG_EXTENSIONS
                .iter()
                .map(move |extension| project.join(dir).join(format!("{stem}.{extension}")))
        })
        .find(|path| path.is_file())
}

/// Whether the project uses Prisma 7 or later: the installed package says,
/// else the config's shape (without a config, Prisma 6: Prisma 7 cannot
/// reach a database without one).
fn is_prisma_7(project: &Path, config: Option<&Path>) -> bool {
    let installed = std::fs::read_to_string(project.join("node_modules/prisma/package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|package| {
            let version = package.get("version")?.as_str()?.to_owned();
            version.split('.').next()?.parse::<u32>().ok()
        });
    match installed {
        Some(major) => major >= 7,
        None => {
            let Some(config) = config else {
                return false;
            };
            let named_7 = config
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("prisma7."));
            named_7
                || std::fs::read_to_string(config).is_ok_and(|text| {
                    text.match_indices("datasource").any(|(at, _)| {
                        text[at + "datasource".len()..]
                            .trim_start()
                            .starts_with(':')
                    })
                })
        }
    }
}

/// The schema file or folder Prisma 6's CLI would load in `project`.
fn schema_location(project: &Path, config: Option<&Path>) -> Option<PathBuf> {
    // Relative to the config's folder, which is not the project's for a
    // config under `.config/`.
    let configured = config.and_then(|config| {
        let text = std::fs::read_to_string(config).ok()?;
        let base = config.parent().unwrap_or(project);
        quoted_values(&text, "schema")
            .map(|value| base.join(value))
            .find(|path| path.exists())
    });
    let from_package = || {
        let text = std::fs::read_to_string(project.join("package.json")).ok()?;
        let package: serde_json::Value = serde_json::from_str(&text).ok()?;
        let schema = package.get("prisma")?.get("schema")?.as_str()?;
        Some(project.join(schema)).filter(|path| path.exists())
    };
    configured.or_else(from_package).or_else(|| {
        ["schema.prisma", "prisma/schema.prisma"]
            .iter()
            .map(|default| project.join(default))
            .find(|path| path.is_file())
    })
}

/// The directory of the schema file holding the `datasource` block.
fn datasource_dir(schema: &Path) -> Option<PathBuf> {
    datasource_file(schema).and_then(|file| file.parent().map(Path::to_path_buf))
}

/// The schema file holding the `datasource` block: the file itself, or the
/// one in a schema folder that has it.
fn datasource_file(schema: &Path) -> Option<PathBuf> {
    if schema.is_file() {
        return Some(schema.to_path_buf());
    }
    let mut pending = vec![schema.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "prisma")
                && std::fs::read_to_string(&path).is_ok_and(|text| declares_datasource(&text))
            {
                return Some(path);
            }
        }
    }
    None
}

fn declares_datasource(schema: &str) -> bool {
    schema.lines().any(|line| {
        let line = line.trim_start();
        line.strip_prefix("datasource")
            .is_some_and(|rest| rest.starts_with(char::is_whitespace))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    const SCHEMA: &str =
        "datasource db {\n  provider = \"sqlite\"\n  url = env(\"DATABASE_URL\")\n}\n";

    #[test]
    fn the_default_schema_in_prisma_is_the_base() {
        let dir = project(&[("prisma/schema.prisma", SCHEMA)]);
        assert_eq!(sqlite_base(dir.path()), dir.path().join("prisma"));
    }

    #[test]
    fn a_schema_at_the_root_comes_before_the_one_in_prisma() {
        let dir = project(&[("schema.prisma", SCHEMA), ("prisma/schema.prisma", SCHEMA)]);
        assert_eq!(sqlite_base(dir.path()), dir.path());
    }

    #[test]
    fn the_config_file_comes_first_and_only_an_existing_path_counts() {
        let config = "const adapter = new PrismaPg({ url }, { schema: \"app\" });\n\
                      export default defineConfig({ schema: 'db/schema.prisma' });\n";
        let dir = project(&[
            ("prisma.config.ts", config),
            ("db/schema.prisma", SCHEMA),
            ("prisma/schema.prisma", SCHEMA),
        ]);
        assert_eq!(sqlite_base(dir.path()), dir.path().join("db"));
    }

    #[test]
    fn package_json_names_the_schema() {
        let dir = project(&[
            (
                "package.json",
                r#"{"prisma": {"schema": "custom/x.prisma"}}"#,
            ),
            ("custom/x.prisma", SCHEMA),
        ]);
        assert_eq!(sqlite_base(dir.path()), dir.path().join("custom"));
    }

    #[test]
    fn a_schema_folder_counts_by_its_datasource_file() {
        let dir = project(&[
            ("package.json", r#"{"prisma": {"schema": "prisma/schema"}}"#),
            ("prisma/schema/models.prisma", "model User { id Int @id }\n"),
            ("prisma/schema/core/ds.prisma", SCHEMA),
        ]);
        assert_eq!(
            sqlite_base(dir.path()),
            dir.path().join("prisma/schema/core")
        );
    }

    /// What `prisma init` writes in Prisma 7.10.
    const PRISMA_7_CONFIG: &str = "import \"dotenv/config\";\n\
        import { defineConfig } from \"prisma/config\";\n\
        export default defineConfig({\n  schema: \"prisma/schema.prisma\",\n  \
        migrations: { path: \"prisma/migrations\" },\n  \
        datasource: { url: process.env[\"DATABASE_URL\"] },\n});\n";

    #[test]
    fn prisma_7_resolves_against_its_config_folder() {
        let dir = project(&[
            ("prisma.config.ts", PRISMA_7_CONFIG),
            (
                "prisma/schema.prisma",
                "datasource db {\n  provider = \"sqlite\"\n}\n",
            ),
        ]);
        assert_eq!(sqlite_base(dir.path()), dir.path());
        let dir = project(&[
            (".config/prisma7.ts", "export default {}"),
            ("prisma/schema.prisma", SCHEMA),
        ]);
        assert_eq!(sqlite_base(dir.path()), dir.path().join(".config"));
    }

    #[test]
    fn the_installed_prisma_decides_which_rule() {
        let six = r#"{"name": "prisma", "version": "6.19.3"}"#;
        let dir = project(&[
            ("prisma.config.ts", PRISMA_7_CONFIG),
            ("prisma/schema.prisma", SCHEMA),
            ("node_modules/prisma/package.json", six),
        ]);
        assert_eq!(sqlite_base(dir.path()), dir.path().join("prisma"));
        let seven = r#"{"name": "prisma", "version": "7.10.1"}"#;
        let dir = project(&[
            (
                "prisma.config.ts",
                "export default { schema: 'prisma/schema.prisma' }",
            ),
            ("prisma/schema.prisma", SCHEMA),
            ("node_modules/prisma/package.json", seven),
        ]);
        assert_eq!(sqlite_base(dir.path()), dir.path());
    }

    #[test]
    fn a_prisma_7_project_says_its_provider_folder_and_variable() {
        let dir = project(&[
            (
                "prisma.config.ts",
                &PRISMA_7_CONFIG.replace("prisma/migrations", "db/migrations"),
            ),
            (
                "prisma/schema.prisma",
                "generator client {\n  provider = \"prisma-client\"\n}\n\n\
                 datasource db {\n  provider = \"postgresql\"\n}\n",
            ),
        ]);
        let found = read_project(dir.path()).unwrap();
        assert_eq!(found.provider.as_deref(), Some("postgresql"));
        assert_eq!(found.migrations_directory.as_deref(), Some("db/migrations"));
        assert_eq!(found.url_variable.as_deref(), Some("DATABASE_URL"));
        assert_eq!(
            found.read_from,
            ["prisma.config.ts", "prisma/schema.prisma"]
        );
    }

    #[test]
    fn a_prisma_6_project_says_them_in_its_schema() {
        let dir = project(&[(
            "prisma/schema.prisma",
            "datasource db {\n  provider = \"mysql\"\n  url      = env(\"APP_DB\")\n}\n",
        )]);
        let found = read_project(dir.path()).unwrap();
        assert_eq!(found.provider.as_deref(), Some("mysql"));
        assert_eq!(
            found.migrations_directory.as_deref(),
            Some("prisma/migrations")
        );
        assert_eq!(found.url_variable.as_deref(), Some("APP_DB"));
        for config in [
            "export default { datasource: { url: env(\"PG_URL\") } }",
            "export default { datasource: { url: process.env.PG_URL } }",
        ] {
            assert_eq!(url_variable(config, ':').as_deref(), Some("PG_URL"));
        }
        assert_eq!(read_project(tempfile::tempdir().unwrap().path()), None);
    }

    #[test]
    fn without_a_schema_the_project_directory_is_the_base() {
        let dir = project(&[("prisma/migrations/migration_lock.toml", "")]);
        assert_eq!(sqlite_base(dir.path()), dir.path());
    }
}
