//! Connection strings in the forms people already use, and how to show them.
//!
//! `postgres://` and `postgresql://`; `mysql://` and `mariadb://`; `sqlite://`
//! and Prisma's `file:` for SQLite, a relative path being relative to the
//! project directory. A connection string is a secret: it is only ever shown
//! through [`ConnectionString::masked`].

use std::fmt;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use url::Url;

use crate::failure::{Failure, Outcome};
use crate::provider::Provider;

/// Query parameters understood by Prisma but not by the database drivers;
/// they are dropped before connecting.
const PRISMA_ONLY_PARAMETERS: &[&str] = &[
    "schema",
    "connection_limit",
    "pool_timeout",
    "pgbouncer",
    "socket_timeout",
    "statement_cache_size",
];

#[derive(Clone)]
pub enum ConnectionString {
    /// A database server; the URL's scheme is normalized to the driver's.
    Server { provider: Provider, url: Url },
    /// A SQLite file. `dir` is where databases of this project live; `file`
    /// is the one the string names, if it names one.
    File { dir: PathBuf, file: Option<String> },
}

/// Debug output would print the password: show the masked form instead.
impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl ConnectionString {
    /// Parses `raw`, read from the variable `variable` (named in errors; the
    /// value itself never is).
    pub fn parse(raw: &str, variable: &str, project: &Path) -> Outcome<ConnectionString> {
        let invalid = |why: String| {
            Failure::new(format!("{variable} is not a valid connection string"))
                .cause(why)
                .help(format!(
                    "Set it to a URL such as: export {variable}=\"postgresql://user:password@localhost:5432/myapp_dev\""
                ))
                .help("Accepted schemes: postgres://, postgresql://, mysql://, mariadb://, sqlite://, file:")
        };
        let raw = raw.trim();
        let Some((scheme, rest)) = raw.split_once(':') else {
            return Err(invalid("it has no scheme".to_owned()));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" | "file" => Ok(Self::sqlite(rest, project).map_err(invalid)?),
            "postgres" | "postgresql" => Self::server(Provider::Postgresql, raw).map_err(invalid),
            "mysql" | "mariadb" => Self::server(Provider::Mysql, raw).map_err(invalid),
            other => Err(invalid(format!("unsupported scheme `{other}:`"))),
        }
    }

    fn server(provider: Provider, raw: &str) -> Result<ConnectionString, String> {
        let mut url = Url::parse(raw).map_err(|err| err.to_string())?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err("it names no host".to_owned());
        }
        let scheme = match provider {
            Provider::Postgresql => "postgres",
            _ => "mysql",
        };
        url.set_scheme(scheme)
            .map_err(|()| "its scheme cannot be normalized".to_owned())?;
        let mut kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(key, _)| !PRISMA_ONLY_PARAMETERS.contains(&key.as_ref()))
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        // Prisma's `schema` is where its tracking table lives and its
        // migrations run: every session here starts with it as its only
        // search path, as Prisma's do.
        let schema = url
            .query_pairs()
            .find(|(key, _)| key == "schema")
            .map(|(_, value)| value.into_owned());
        if let (Provider::Postgresql, Some(schema)) = (provider, schema) {
            check_schema(&schema)?;
            let option = format!("-c search_path=\"{schema}\"");
            match kept.iter_mut().find(|(key, _)| key == "options") {
                Some((_, options)) => *options = format!("{options} {option}"),
                None => kept.push(("options".to_owned(), option)),
            }
        }
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
        Ok(ConnectionString::Server { provider, url })
    }

    fn sqlite(rest: &str, project: &Path) -> Result<ConnectionString, String> {
        let path = rest.split('?').next().unwrap_or_default();
        let path = path.strip_prefix("//").unwrap_or(path);
        let path = percent_decode_str(path)
            .decode_utf8()
            .map_err(|_| "its path is not valid UTF-8 after percent-decoding".to_owned())?;
        if path.contains(":memory:") || path.starts_with(':') {
            return Err("an in-memory database cannot be initialized".to_owned());
        }
        if path.is_empty() || path.ends_with('/') {
            return Ok(ConnectionString::File {
                dir: project.join(path.as_ref()),
                file: None,
            });
        }
        let full = project.join(path.as_ref());
        let file = full
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or("its path names no file")?
            .to_owned();
        let dir = full.parent().unwrap_or(project).to_path_buf();
        Ok(ConnectionString::File {
            dir,
            file: Some(file),
        })
    }

    /// The PostgreSQL schema Prisma's `?schema=` names (its default,
    /// `public`, when none is named).
    pub fn schema(&self) -> Option<String> {
        let ConnectionString::Server { url, .. } = self else {
            return None;
        };
        let (_, options) = url.query_pairs().find(|(key, _)| key == "options")?;
        let (_, value) = options.rsplit_once("search_path=\"")?;
        value.strip_suffix('"').map(str::to_owned)
    }

    /// The PostgreSQL schema the project's tables live in: Prisma's
    /// `?schema=`, or `public`.
    pub fn home_schema(&self) -> String {
        self.schema().unwrap_or_else(|| "public".to_owned())
    }

    /// `table` as the host's own sessions name it: qualified with the home
    /// schema on PostgreSQL, where they resolve nothing else outside
    /// `pg_catalog` (see [`super::Server::open`]), unless it names its own
    /// schema (`schema.table`, see [`crate::names::schema_and_table`]).
    pub fn qualify(&self, table: &str) -> String {
        let provider = self.provider();
        if crate::names::schema_and_table(provider, table).is_some() {
            return crate::names::quote_table(provider, table);
        }
        let quoted = crate::names::quote(provider, table);
        match provider {
            Provider::Postgresql => format!(
                "{}.{quoted}",
                crate::names::quote(Provider::Postgresql, &self.home_schema())
            ),
            Provider::Mysql | Provider::Sqlite => quoted,
        }
    }

    pub fn provider(&self) -> Provider {
        match self {
            ConnectionString::Server { provider, .. } => *provider,
            ConnectionString::File { .. } => Provider::Sqlite,
        }
    }

    /// The database the string names: the URL's path, or the file's stem.
    pub fn database_name(&self) -> Option<String> {
        match self {
            ConnectionString::Server { url, .. } => {
                let segment = url.path().trim_start_matches('/');
                let name = percent_decode_str(segment).decode_utf8_lossy();
                (!name.is_empty()).then(|| name.into_owned())
            }
            ConnectionString::File { file, .. } => file.as_deref().map(|file| {
                Path::new(file)
                    .file_stem()
                    .map(|stem| stem.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }),
        }
    }

    /// The same server (or folder) with the database `name` selected.
    pub fn with_database(&self, name: &str) -> ConnectionString {
        match self {
            ConnectionString::Server { provider, url } => {
                let mut url = url.clone();
                url.set_path(&format!("/{name}"));
                ConnectionString::Server {
                    provider: *provider,
                    url,
                }
            }
            ConnectionString::File { dir, file } => {
                let extension = file
                    .as_deref()
                    .and_then(|file| Path::new(file).extension())
                    .map(|ext| ext.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "db".to_owned());
                ConnectionString::File {
                    dir: dir.clone(),
                    file: Some(format!("{name}.{extension}")),
                }
            }
        }
    }

    /// The SQLite file, for a file connection string that names one.
    pub fn file_path(&self) -> Option<PathBuf> {
        match self {
            ConnectionString::File {
                dir,
                file: Some(file),
            } => Some(dir.join(file)),
            _ => None,
        }
    }

    /// Printable form: the password and secret-looking parameters replaced by `****`.
    pub fn masked(&self) -> String {
        match self {
            ConnectionString::Server { url, .. } => {
                let mut shown = url.clone();
                if shown.password().is_some() {
                    let _ = shown.set_password(Some("****"));
                }
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(key, value)| {
                        let secret = ["pass", "secret", "token", "key"]
                            .iter()
                            .any(|word| key.to_ascii_lowercase().contains(word));
                        let value = if secret { "****".into() } else { value };
                        (key.into_owned(), value.into_owned())
                    })
                    .collect();
                shown.set_query(None);
                if !pairs.is_empty() {
                    shown.query_pairs_mut().extend_pairs(pairs);
                }
                shown.to_string()
            }
            ConnectionString::File { dir, file } => {
                let path = file.as_deref().map_or_else(|| dir.clone(), |f| dir.join(f));
                format!("file:{}", path.display())
            }
        }
    }
}

/// A schema name faber-db passes on: what Prisma's own migrations name.
fn check_schema(schema: &str) -> Result<(), String> {
    let plain = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        Ok(())
    } else {
        Err(format!(
            "schema={schema:?}: use 1 to 63 ASCII letters, digits, `_` or `-`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> ConnectionString {
        ConnectionString::parse(raw, "DEV_DATABASE_URL", Path::new("/proj")).unwrap()
    }

    #[test]
    fn accepts_every_scheme() {
        assert_eq!(parse("postgres://u@h/db").provider(), Provider::Postgresql);
        assert_eq!(
            parse("postgresql://u@h/db").provider(),
            Provider::Postgresql
        );
        assert_eq!(parse("mysql://u@h/db").provider(), Provider::Mysql);
        assert_eq!(parse("mariadb://u@h:3306/db").provider(), Provider::Mysql);
        assert_eq!(parse("file:./dev.db").provider(), Provider::Sqlite);
        assert_eq!(
            parse("sqlite://data/app.sqlite").provider(),
            Provider::Sqlite
        );
    }

    #[test]
    fn masks_passwords_everywhere() {
        let url =
            parse("postgresql://admin:S3cr%40t@db.internal:5432/app?sslpassword=x1&schema=public");
        let shown = url.masked();
        assert!(!shown.contains("S3cr"), "{shown}");
        assert!(!shown.contains("x1"), "{shown}");
        assert!(shown.contains("admin:****@db.internal"), "{shown}");
        assert!(!format!("{url:?}").contains("S3cr"));
    }

    #[test]
    fn reads_database_names() {
        assert_eq!(
            parse("postgres://u@h/my%2Ddb").database_name().as_deref(),
            Some("my-db")
        );
        assert_eq!(parse("postgres://u@h").database_name(), None);
        assert_eq!(
            parse("file:./data/app.db").database_name().as_deref(),
            Some("app")
        );
        assert_eq!(parse("sqlite://").database_name(), None);
    }

    #[test]
    fn prismas_schema_becomes_the_sessions_search_path() {
        let target = parse("postgresql://u@h/app?schema=tenant_1&sslmode=disable");
        assert_eq!(target.schema().as_deref(), Some("tenant_1"));
        assert_eq!(
            target.with_database("other").schema().as_deref(),
            Some("tenant_1")
        );
        assert!(target.masked().contains("sslmode=disable"));
        assert_eq!(parse("postgresql://u@h/app").schema(), None);
        assert_eq!(parse("mysql://u@h/app?schema=s").schema(), None);
        assert!(
            ConnectionString::parse("postgresql://u@h/app?schema=a\"b", "DB_URL", Path::new("/"))
                .is_err()
        );
    }

    #[test]
    fn selects_another_database() {
        let other = parse("mariadb://root@127.0.0.1:3306/x?schema=s").with_database("y");
        assert_eq!(other.masked(), "mysql://root@127.0.0.1:3306/y");
        let file = parse("file:./data/app.sqlite").with_database("app_dev");
        assert_eq!(
            file.file_path().unwrap(),
            Path::new("/proj/./data/app_dev.sqlite")
        );
    }

    #[test]
    fn invalid_strings_are_named_without_their_value() {
        for raw in [
            "nonsense",
            "oracle://u:pw@h/x",
            "postgres://:pw@/x",
            "sqlite::memory:",
        ] {
            let failure = ConnectionString::parse(raw, "PROD_URL", Path::new("/p")).unwrap_err();
            assert!(failure.error.contains("PROD_URL"));
            assert!(!failure.to_string().contains("pw"), "{failure}");
        }
    }
}
