//! The database servers under test, and reading their catalogs back with
//! their own command-line clients (never through faber-db's code).

use std::path::{Path, PathBuf};
use std::process::Command;

/// PostgreSQL and MariaDB on loopback; override with FABER_DB_TEST_PG_URL and
/// FABER_DB_TEST_MYSQL_URL (server URLs without a database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Postgres,
    Mysql,
    Sqlite,
}

impl Server {
    pub fn provider(self) -> &'static str {
        match self {
            Server::Postgres => "postgresql",
            Server::Mysql => "mysql",
            Server::Sqlite => "sqlite",
        }
    }

    /// Host and port of the server, as a tunnel's local end would give them.
    pub fn address(self) -> (String, u16) {
        let url = url::Url::parse(&self.base_url()).unwrap();
        let default = if self == Server::Mysql { 3306 } else { 5432 };
        (
            url.host_str().unwrap_or("127.0.0.1").to_owned(),
            url.port().unwrap_or(default),
        )
    }

    /// The server's URL without a database (`file:` for SQLite).
    pub fn base_url(self) -> String {
        match self {
            Server::Postgres => std::env::var("FABER_DB_TEST_PG_URL")
                .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432".to_owned()),
            Server::Mysql => std::env::var("FABER_DB_TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned()),
            Server::Sqlite => "file:".to_owned(),
        }
    }
}

/// One database on one server, dropped when the test ends.
pub struct Target {
    pub server: Server,
    pub name: String,
    /// For SQLite: the folder its file lives in.
    dir: PathBuf,
}

impl Target {
    pub fn new(server: Server, name: &str, project: &Path) -> Target {
        Target {
            server,
            name: name.to_owned(),
            dir: project.to_path_buf(),
        }
    }

    /// The connection string naming this database.
    pub fn url(&self) -> String {
        match self.server {
            // Absolute: where a relative path points is tested on its own.
            Server::Sqlite => format!("file:{}", self.file().display()),
            _ => format!("{}/{}", self.server.base_url(), self.name),
        }
    }

    /// The connection string with a password inserted (trust auth ignores it).
    pub fn url_with_password(&self, password: &str) -> String {
        let url = self.url();
        match self.server {
            Server::Postgres => url.replacen("postgres@", &format!("postgres:{password}@"), 1),
            Server::Mysql => url.replacen("root@", &format!("root:{password}@"), 1),
            Server::Sqlite => url,
        }
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(format!("{}.db", self.name))
    }

    pub fn exists(&self) -> bool {
        match self.server {
            Server::Sqlite => self.file().exists(),
            Server::Postgres => !server_query(
                self.server,
                &format!("SELECT 1 FROM pg_database WHERE datname = '{}'", self.name),
            )
            .is_empty(),
            Server::Mysql => !server_query(
                self.server,
                &format!(
                    "SELECT 1 FROM information_schema.schemata WHERE schema_name = '{}'",
                    self.name
                ),
            )
            .is_empty(),
        }
    }

    /// Rows of a query on this database, columns separated by `|`.
    /// The server's command-line client in this database (psql, mysql,
    /// sqlite3), to be given its statements.
    pub fn client(&self) -> Command {
        match self.server {
            Server::Postgres => {
                let mut psql = Command::new("psql");
                psql.arg(format!("{}/{}", self.server.base_url(), self.name));
                psql
            }
            Server::Mysql => mysql_command(Some(&self.name), None),
            Server::Sqlite => {
                let mut sqlite3 = Command::new("sqlite3");
                sqlite3.arg(self.file());
                sqlite3
            }
        }
    }

    pub fn query(&self, sql: &str) -> Vec<String> {
        match self.server {
            Server::Sqlite => run_client(
                Command::new("sqlite3")
                    .args(["-separator", "|"])
                    .arg(self.file())
                    .arg(sql),
                sql,
            ),
            server => run_sql(server, Some(&self.name), sql),
        }
    }

    /// (column, type, nullable, default) of a table, from the catalog.
    pub fn columns(&self, table: &str) -> Vec<String> {
        let sql = match self.server {
            Server::Postgres => format!(
                "SELECT column_name, data_type, COALESCE(character_maximum_length::text, ''), is_nullable, COALESCE(column_default, '') \
                 FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position"
            ),
            Server::Mysql => format!(
                "SELECT column_name, column_type, is_nullable, COALESCE(column_default, ''), collation_name \
                 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
            Server::Sqlite => format!(
                "SELECT name, type, \"notnull\", COALESCE(dflt_value, ''), pk FROM pragma_table_info('{table}')"
            ),
        };
        self.query(&sql)
    }

    /// Tables, columns (type, nullability, default), indexes and keys: what
    /// two tools that made the same schema must agree on.
    pub fn catalog(&self) -> Vec<String> {
        let mut catalog = Vec::new();
        let tables = match self.server {
            Server::Postgres => self.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
            ),
            Server::Mysql => self.query(
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() ORDER BY 1",
            ),
            Server::Sqlite => self.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 ORDER BY name",
            ),
        };
        for table in &tables {
            catalog.push(format!("table {table}"));
            catalog.extend(self.columns(table));
        }
        catalog.extend(match self.server {
            Server::Postgres => self.query(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
            ),
            Server::Mysql => self.query(
                "SELECT table_name, index_name, column_name, non_unique FROM \
                 information_schema.statistics WHERE table_schema = DATABASE() \
                 ORDER BY table_name, index_name, seq_in_index",
            ),
            Server::Sqlite => {
                self.query("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            }
        });
        catalog.extend(match self.server {
            Server::Postgres => [
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE connamespace = 'public'::regnamespace ORDER BY conname",
                "SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
                 WHERE t.typnamespace = 'public'::regnamespace ORDER BY t.typname, e.enumsortorder",
            ]
            .iter()
            .flat_map(|sql| self.query(sql))
            .collect(),
            Server::Mysql => self.query(
                "SELECT constraint_name, table_name, referenced_table_name, update_rule, delete_rule \
                 FROM information_schema.referential_constraints \
                 WHERE constraint_schema = DATABASE() ORDER BY constraint_name",
            ),
            Server::Sqlite => Vec::new(),
        });
        catalog
    }

    /// Creates the database as faber-db creates its own (on MySQL its
    /// character set decides a new table's collation), for a tool to use
    /// on its own: then only what the tools did can differ.
    pub fn create_as_faber_db_does(&self) {
        let options = match self.server {
            Server::Sqlite => return,
            Server::Mysql => " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
            Server::Postgres => "",
        };
        server_query(
            self.server,
            &format!("CREATE DATABASE {}{options}", self.name),
        );
    }

    pub fn drop_database(&self) {
        match self.server {
            Server::Sqlite => {
                let _ = std::fs::remove_file(self.file());
            }
            Server::Mysql => {
                server_query(
                    self.server,
                    &format!("DROP DATABASE IF EXISTS `{}`", self.name),
                );
            }
            Server::Postgres => {
                // FORCE: a test may leave a session behind on purpose.
                server_query(
                    self.server,
                    &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
                );
            }
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.drop_database();
    }
}

/// A statement on the server's maintenance database.
pub fn server_query(server: Server, sql: &str) -> Vec<String> {
    run_sql(server, None, sql)
}

/// A statement through the server's own client, on `database` or on the
/// maintenance database.
fn run_sql(server: Server, database: Option<&str>, sql: &str) -> Vec<String> {
    run_client(&mut sql_command(server, database, None, sql), sql)
}

/// A statement that may fail, on `database` (else the maintenance
/// database) as `user` (else the URL's; the test servers trust loopback,
/// so no password is needed): its rows, or what the client said. For
/// statements a test expects to be refused, and for cleaning up while a
/// test is failing, when a second panic would abort the run.
pub fn try_query(
    server: Server,
    database: Option<&str>,
    user: Option<&str>,
    sql: &str,
) -> Result<Vec<String>, String> {
    attempt(&mut sql_command(server, database, user, sql))
}

fn sql_command(server: Server, database: Option<&str>, user: Option<&str>, sql: &str) -> Command {
    match server {
        Server::Postgres => {
            let mut url = url::Url::parse(&format!(
                "{}/{}",
                server.base_url(),
                database.unwrap_or("postgres")
            ))
            .unwrap();
            if let Some(user) = user {
                url.set_username(user).unwrap();
                url.set_password(None).unwrap();
            }
            let mut psql = Command::new("psql");
            psql.args([url.as_str(), "-v", "ON_ERROR_STOP=1", "-tAF|", "-c", sql]);
            psql
        }
        Server::Mysql => {
            let mut mysql = mysql_command(database, user);
            mysql.args(["-e", sql]);
            mysql
        }
        Server::Sqlite => unreachable!("SQLite has no server"),
    }
}

fn run_client(command: &mut Command, sql: &str) -> Vec<String> {
    attempt(command).unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// The client's rows, or its error output.
fn attempt(command: &mut Command) -> Result<Vec<String>, String> {
    let output = command
        .output()
        .expect("the database's command-line client runs");
    if output.status.success() {
        Ok(lines(&output.stdout))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The `mysql` client on `database` as `user` (else the URL's user, with
/// its password).
fn mysql_command(database: Option<&str>, user: Option<&str>) -> Command {
    let url = url::Url::parse(&Server::Mysql.base_url()).unwrap();
    let mut command = Command::new("mysql");
    command
        .arg(format!("-h{}", url.host_str().unwrap_or("127.0.0.1")))
        .arg(format!("-P{}", url.port().unwrap_or(3306)))
        .arg(format!("-u{}", user.unwrap_or(url.username())))
        .args(["-N", "-B", "--protocol=TCP"]);
    if let Some(password) = url.password().filter(|_| user.is_none()) {
        command.arg(format!("-p{password}"));
    }
    if let Some(database) = database {
        command.arg(database);
    }
    command
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| line.replace('\t', "|"))
        .collect()
}

/// Roles or accounts whose names start with `prefix`.
pub fn accounts(server: Server, prefix: &str) -> Vec<String> {
    match server {
        Server::Postgres => server_query(
            server,
            &format!("SELECT rolname FROM pg_roles WHERE rolname LIKE '{prefix}%' ORDER BY 1"),
        ),
        Server::Mysql => server_query(
            server,
            &format!(
                "SELECT CONCAT(user, '@', host) FROM mysql.user WHERE user LIKE '{prefix}%' ORDER BY 1"
            ),
        ),
        Server::Sqlite => Vec::new(),
    }
}
