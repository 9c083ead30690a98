//! Database access on the host side: the server-level operations the workflow
//! runs itself (exists, create, drop), and the one connection to the target
//! database that a handler's SQL capability drives.
//!
//! One module per provider where SQL differs; everything else is here.

mod credentials;
pub mod handler_session;
pub mod leftovers;
pub mod migration_lock;
mod mysql;
mod polite;
mod postgres;
mod sqlite;
pub mod url;

use std::path::PathBuf;

use ::url::Url;
use sqlx::{MySqlConnection, PgConnection, SqliteConnection};

use crate::failure::{Failure, Outcome};
use crate::provider::Provider;
pub use credentials::random_hex;
pub use handler_session::{Access, Check, Confinement, HandlerSession, SessionPolicy};
pub use leftovers::{Expect, HandlerObject};
pub use polite::{Polite, settle};
pub use url::ConnectionString;

/// Binds values to a sqlx query of any backend: the one place that maps
/// [`Value`] to driver types.
macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for value in $params {
            query = match value {
                $crate::db::Value::Null => query.bind(None::<String>),
                $crate::db::Value::Boolean(v) => query.bind(*v),
                $crate::db::Value::Integer(v) => query.bind(*v),
                $crate::db::Value::Real(v) => query.bind(*v),
                $crate::db::Value::Text(v) => query.bind(v.as_str()),
                $crate::db::Value::Blob(v) => query.bind(v.as_slice()),
            };
        }
        query
    }};
}

/// Runs `statement` on any backend: as raw SQL (several statements allowed)
/// without parameters, as one prepared statement with them.
macro_rules! run_statement {
    ($conn:expr, $statement:expr, $params:expr, $method:ident) => {
        if $params.is_empty() {
            sqlx::raw_sql(sqlx::AssertSqlSafe($statement))
                .$method(&mut **$conn)
                .await
        } else {
            bind_all!(sqlx::query(sqlx::AssertSqlSafe($statement)), $params)
                .$method(&mut **$conn)
                .await
        }
    };
}

/// Runs a script's statements one result at a time, counting those that
/// completed, on any backend (see [`Database::execute_script`]).
macro_rules! count_statements {
    ($conn:expr, $script:expr) => {{
        use futures_util::TryStreamExt;
        let mut results = sqlx::raw_sql(sqlx::AssertSqlSafe($script)).execute_many(&mut **$conn);
        let mut completed = 0;
        let mut affected = 0;
        loop {
            match results.try_next().await {
                Ok(Some(result)) => {
                    completed += 1;
                    affected += result.rows_affected();
                }
                Ok(None) => break Ok(affected),
                Err(err) => {
                    break Err(ScriptFailure {
                        completed,
                        error: err.into(),
                    });
                }
            }
        }
    }};
}

/// The rows of `statement` as a stream, on any backend (see [`run_statement`]).
macro_rules! stream_rows {
    ($conn:expr, $statement:expr, $params:expr) => {
        if $params.is_empty() {
            sqlx::raw_sql(sqlx::AssertSqlSafe($statement)).fetch(&mut **$conn)
        } else {
            bind_all!(sqlx::query(sqlx::AssertSqlSafe($statement)), $params).fetch(&mut **$conn)
        }
    };
}

/// Reads rows from a stream until it ends or they hold more than `max_bytes`.
macro_rules! read_capped {
    ($stream:expr, $decode:path, $max:expr) => {{
        use futures_util::TryStreamExt;
        let mut stream = $stream;
        let mut rows = Rows::default();
        let mut size = 0usize;
        let mut too_large = false;
        while let Some(row) = stream.try_next().await? {
            if rows.columns.is_empty() {
                rows.columns = column_names(&row);
            }
            let values = (0..sqlx::Row::len(&row))
                .map(|i| $decode(&row, i))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            size += values.iter().map(Value::size).sum::<usize>();
            if size > $max {
                too_large = true;
                break;
            }
            rows.rows.push(values);
        }
        if too_large {
            Capped::TooLarge
        } else {
            Capped::Rows(rows)
        }
    }};
}

/// A query's rows, or the news that they exceeded the cap (and were not
/// read further).
pub enum Capped {
    Rows(Rows),
    TooLarge,
}

/// A value bound to a parameter or read from a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    /// About how many bytes the value takes once copied out.
    pub fn size(&self) -> usize {
        match self {
            Value::Text(text) => text.len(),
            Value::Blob(blob) => blob.len(),
            _ => 8,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A statement's failure, as the database reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub code: Option<String>,
    pub message: String,
    /// The database refused it for lack of a privilege (or its authorizer did).
    pub denied: bool,
}

impl SqlError {
    pub fn new(message: impl Into<String>) -> SqlError {
        SqlError {
            code: None,
            message: message.into(),
            denied: false,
        }
    }
}

/// SQLSTATE insufficient_privilege.
const PG_INSUFFICIENT_PRIVILEGE: &str = "42501";
/// MySQL/MariaDB error numbers that mean "not allowed": database, access,
/// table, column, routine access denied; specific privilege needed; no
/// such grant; cannot create a user with GRANT.
const MYSQL_DENIED: &[u16] = &[1044, 1045, 1142, 1143, 1227, 1370, 1410, 1211];
/// SQLITE_AUTH: the authorizer said no.
const SQLITE_AUTH: &str = "23";

/// A script that failed, and how many of its statements completed first.
#[derive(Debug)]
pub struct ScriptFailure {
    pub completed: usize,
    pub error: SqlError,
}

impl From<sqlx::Error> for SqlError {
    fn from(err: sqlx::Error) -> SqlError {
        match &err {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|code| code.into_owned());
                let denied = match db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                    Some(mysql) => MYSQL_DENIED.contains(&mysql.number()),
                    None => {
                        let is_sqlite =
                            db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
                        let expected = if is_sqlite {
                            SQLITE_AUTH
                        } else {
                            PG_INSUFFICIENT_PRIVILEGE
                        };
                        code.as_deref() == Some(expected)
                    }
                };
                SqlError {
                    code,
                    message: db.message().to_owned(),
                    denied,
                }
            }
            other => SqlError::new(other.to_string()),
        }
    }
}

/// Why `create_database` did not create it.
pub enum CreateError {
    AlreadyExists,
    Failed(SqlError),
}

/// A connection to the server (or, for SQLite, the folder) where the
/// project's databases live.
pub enum Server {
    Postgres(Polite<PgConnection>),
    Mysql(Polite<MySqlConnection>),
    Sqlite(PathBuf),
}

impl Server {
    pub async fn connect(target: &ConnectionString) -> Outcome<Server> {
        Server::login(target)
            .await
            .map_err(|err| unreachable_server(target, err))
    }

    /// [`Server::connect`] with the driver's own error, for a caller that
    /// tells TLS, authentication and network failures apart.
    pub async fn login(target: &ConnectionString) -> Result<Server, sqlx::Error> {
        match target {
            ConnectionString::Server {
                provider: Provider::Postgresql,
                url,
            } => postgres::connect_server(url)
                .await
                .map(|conn| Server::Postgres(Polite::new(conn))),
            ConnectionString::Server { url, .. } => mysql::connect_server(url)
                .await
                .map(|conn| Server::Mysql(Polite::new(conn))),
            ConnectionString::File { dir, .. } => sqlite::check_folder(dir).map(Server::Sqlite),
        }
    }

    pub async fn database_exists(&mut self, name: &str) -> Result<bool, SqlError> {
        match self {
            Server::Postgres(conn) => postgres::database_exists(conn, name).await,
            Server::Mysql(conn) => mysql::database_exists(conn, name).await,
            Server::Sqlite(dir) => Ok(sqlite::database_file(dir, name).exists()),
        }
    }

    pub async fn create_database(
        &mut self,
        target: &ConnectionString,
        name: &str,
    ) -> Result<(), CreateError> {
        match self {
            Server::Postgres(conn) => postgres::create_database(conn, name).await,
            Server::Mysql(conn) => mysql::create_database(conn, name).await,
            Server::Sqlite(_) => sqlite::create_database(&target.with_database(name)),
        }
    }

    /// Ends another session (by [`Database::backend_id`]); it is gone or
    /// going when this returns.
    pub async fn terminate(&mut self, backend: i64) -> Result<(), SqlError> {
        match self {
            Server::Postgres(conn) => {
                sqlx::query("SELECT pg_terminate_backend($1::int)")
                    .bind(backend)
                    .execute(&mut **conn)
                    .await?;
            }
            Server::Mysql(conn) => {
                // KILL takes no parameters; the id is an integer we read ourselves.
                let statement = format!("KILL CONNECTION {backend}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&mut **conn)
                    .await?;
            }
            Server::Sqlite(_) => {}
        }
        Ok(())
    }

    /// Drops a database this run created. Never called for any other.
    pub async fn drop_database(
        &mut self,
        target: &ConnectionString,
        name: &str,
    ) -> Result<(), SqlError> {
        match self {
            Server::Postgres(conn) => postgres::drop_database(conn, name).await,
            Server::Mysql(conn) => mysql::drop_database(conn, name).await,
            Server::Sqlite(_) => sqlite::drop_database(&target.with_database(name)),
        }
    }

    /// Opens the host's own session in database `name`, as the connection
    /// string's user. On PostgreSQL its search path is `pg_catalog` only
    /// ([`postgres::connect_hosts_own`]): the host's statements name the
    /// project's tables in full ([`ConnectionString::qualify`]).
    pub async fn open(&self, target: &ConnectionString, name: &str) -> Outcome<Database> {
        let target = target.with_database(name);
        let connected = match &target {
            ConnectionString::Server {
                provider: Provider::Postgresql,
                url,
            } => postgres::connect_hosts_own(url)
                .await
                .map(|conn| Database::Postgres(Polite::new(conn)))
                .map_err(SqlError::from),
            _ => Database::connect(&target).await,
        };
        connected.map_err(|err| cannot_connect(&target, name, err))
    }

    /// A session in database `name` as the connection string gives it (its
    /// schema as the search path, on PostgreSQL): a handler's, where it runs
    /// with the connection's own privileges.
    pub(crate) async fn open_as_given(
        &self,
        target: &ConnectionString,
        name: &str,
    ) -> Outcome<Database> {
        let target = target.with_database(name);
        Database::connect(&target)
            .await
            .map_err(|err| cannot_connect(&target, name, err))
    }

    /// A server session in database `name` itself, for a command that only
    /// reads it (`status`): where it does not exist, the server says so
    /// (`NoDatabase`), with no question of its own asked first. On
    /// PostgreSQL its search path is the host's own session's.
    pub async fn connect_in(
        target: &ConnectionString,
        name: &str,
    ) -> Result<InDatabase, ConnectIn> {
        let in_database = target.with_database(name);
        let connected = match &in_database {
            ConnectionString::Server {
                provider: Provider::Postgresql,
                url,
            } => postgres::connect_hosts_own(url)
                .await
                .map(|conn| Server::Postgres(Polite::new(conn))),
            ConnectionString::Server { url, .. } => mysql::connect(url)
                .await
                .map(|conn| Server::Mysql(Polite::new(conn))),
            ConnectionString::File { dir, .. } => {
                let server = Server::login(target)
                    .await
                    .map_err(|err| ConnectIn::Failed(unreachable_server(target, err)))?;
                if !sqlite::database_file(dir, name).exists() {
                    return Err(ConnectIn::NoDatabase);
                }
                Ok(server)
            }
        };
        match connected {
            Ok(server) => Ok(InDatabase {
                server,
                name: name.to_owned(),
            }),
            Err(err) if names_no_database(&err) => Err(ConnectIn::NoDatabase),
            Err(err) => Err(ConnectIn::Failed(unreachable_server(target, err))),
        }
    }

    /// Where the server keeps its data, when it is on this machine and says.
    pub async fn data_directory(&mut self, target: &ConnectionString) -> Option<PathBuf> {
        match (self, target) {
            (Server::Sqlite(dir), _) => Some(dir.clone()),
            (_, ConnectionString::Server { url, .. })
                if !url.host_str().is_some_and(is_loopback) =>
            {
                None
            }
            (Server::Postgres(conn), _) => postgres::data_directory(conn).await,
            (Server::Mysql(conn), _) => mysql::data_directory(conn).await,
        }
    }

    /// Every database on the server (on SQLite, the folder's files by stem).
    pub async fn list_databases(&mut self) -> Result<Vec<String>, SqlError> {
        const POSTGRES: &str =
            "SELECT datname::text FROM pg_database WHERE datallowconn AND NOT datistemplate";
        const MYSQL: &str = "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata";
        match self {
            Server::Postgres(conn) => {
                Ok(sqlx::query_scalar(POSTGRES).fetch_all(&mut **conn).await?)
            }
            Server::Mysql(conn) => Ok(sqlx::query_scalar(MYSQL).fetch_all(&mut **conn).await?),
            Server::Sqlite(dir) => {
                let entries =
                    std::fs::read_dir(&*dir).map_err(|err| SqlError::new(err.to_string()))?;
                Ok(entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| {
                        let path = entry.path();
                        let stem = path.file_stem()?.to_str()?.to_owned();
                        (path.extension()? == "db").then_some(stem)
                    })
                    .collect())
            }
        }
    }

    /// How many connections the server takes from ordinary users, and
    /// how many are open now.
    pub async fn connection_capacity(&mut self) -> Result<(usize, usize), SqlError> {
        let (max, used): (i64, i64) = match self {
            Server::Postgres(conn) => {
                sqlx::query_as(
                    "SELECT current_setting('max_connections')::int8 - current_setting('superuser_reserved_connections')::int8, (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')",
                )
                .fetch_one(&mut **conn)
                .await?
            }
            Server::Mysql(conn) => {
                sqlx::query_as(
                    "SELECT CAST(@@max_connections AS SIGNED), CAST((SELECT COUNT(*) FROM information_schema.processlist) AS SIGNED)",
                )
                .fetch_one(&mut **conn)
                .await?
            }
            Server::Sqlite(_) => return Ok((usize::MAX, 0)),
        };
        Ok((max.max(0) as usize, used.max(0) as usize))
    }

    /// Closes the connection and waits for it: dropping it closes it too,
    /// but in the background ([`Polite`]), which is too late for a caller
    /// about to drop a database the session was using.
    pub async fn close(self) {
        match self {
            Server::Postgres(conn) => conn.close().await,
            Server::Mysql(conn) => conn.close().await,
            Server::Sqlite(_) => {}
        }
    }
}

/// The URL a driver is given. A server on this machine is reached without
/// TLS unless the URL asks for it: encryption on loopback protects nothing,
/// and sqlx's TLS handshake costs several round trips per connection, each
/// held up by delayed ACKs (sqlx does not set TCP_NODELAY), which tripled the
/// time of a local `init`.
fn driver_url(url: &Url) -> Url {
    let asked = url
        .query_pairs()
        .any(|(key, _)| matches!(key.as_ref(), "sslmode" | "ssl-mode"));
    if asked || !url.host_str().is_some_and(is_loopback) {
        return url.clone();
    }
    let mut plain = url.clone();
    match url.scheme() {
        "mysql" => plain.query_pairs_mut().append_pair("ssl-mode", "DISABLED"),
        _ => plain.query_pairs_mut().append_pair("sslmode", "disable"),
    };
    plain
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]") || host.starts_with("127.")
}

fn cannot_connect(target: &ConnectionString, name: &str, err: SqlError) -> Failure {
    Failure::new(format!("Cannot connect to database {name}"))
        .cause(err.message)
        .help(format!(
            "Check that {} accepts connections",
            target.masked()
        ))
}

/// Whether a login failed because its database does not exist
/// (PostgreSQL's `invalid_catalog_name`, MySQL's `ER_BAD_DB_ERROR`).
fn names_no_database(err: &sqlx::Error) -> bool {
    const MYSQL_BAD_DB: u16 = 1049;
    let Some(db) = err.as_database_error() else {
        return false;
    };
    match db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        Some(mysql) => mysql.number() == MYSQL_BAD_DB,
        None => db.code().as_deref() == Some(postgres::NO_SUCH_DATABASE),
    }
}

/// A server session whose current database is `name`
/// ([`Server::connect_in`]): what reading one database takes, the
/// handler's reading account made and removed through it
/// ([`InDatabase::open_reading_session`]), on one connection where a server
/// session and the host's own session in the database would take two.
pub struct InDatabase {
    pub server: Server,
    pub name: String,
}

/// Why [`Server::connect_in`] has no session.
pub enum ConnectIn {
    /// The server (or the folder) has no such database.
    NoDatabase,
    Failed(Failure),
}

fn unreachable_server(target: &ConnectionString, err: sqlx::Error) -> Failure {
    let shown = target.masked();
    let failure = Failure::new(format!("Cannot connect to the database server at {shown}"))
        .cause(SqlError::from(err).message);
    match target {
        ConnectionString::File { dir, .. } => failure.help(format!(
            "Create the folder {} or point the connection string at an existing one",
            dir.display()
        )),
        ConnectionString::Server { provider, .. } => failure
            .help(format!(
                "Check that the {provider} server is running and reachable"
            ))
            .help("Check the user, password, host and port in the connection string"),
    }
}

/// The connection to the target database.
pub enum Database {
    Postgres(Polite<PgConnection>),
    Mysql(Polite<MySqlConnection>),
    Sqlite(Polite<SqliteConnection>),
}

impl Database {
    /// Connects to the database `target` names.
    pub async fn connect(target: &ConnectionString) -> Result<Database, SqlError> {
        let database = match target {
            ConnectionString::Server {
                provider: Provider::Postgresql,
                url,
            } => postgres::connect(url)
                .await
                .map(|conn| Database::Postgres(Polite::new(conn))),
            ConnectionString::Server { url, .. } => mysql::connect(url)
                .await
                .map(|conn| Database::Mysql(Polite::new(conn))),
            ConnectionString::File { .. } => sqlite::open(target)
                .await
                .map(|conn| Database::Sqlite(Polite::new(conn))),
        };
        Ok(database?)
    }

    /// `statement`, run so that its commit does not wait for the disk where
    /// the server allows a session to choose (PostgreSQL); for bookkeeping
    /// whose loss in a crash is harmless.
    pub fn unflushed(&self, statement: &str) -> String {
        match self {
            Database::Postgres(_) => format!("{}; {statement}", postgres::NO_FLUSH),
            Database::Mysql(_) | Database::Sqlite(_) => statement.to_owned(),
        }
    }

    pub fn provider(&self) -> Provider {
        match self {
            Database::Postgres(_) => Provider::Postgresql,
            Database::Mysql(_) => Provider::Mysql,
            Database::Sqlite(_) => Provider::Sqlite,
        }
    }

    /// Runs a statement (several, when there are no parameters).
    pub async fn execute(&mut self, statement: &str, params: &[Value]) -> Result<u64, SqlError> {
        let affected = match self {
            Database::Postgres(conn) => {
                run_statement!(conn, statement, params, execute)?.rows_affected()
            }
            Database::Mysql(conn) => {
                run_statement!(conn, statement, params, execute)?.rows_affected()
            }
            Database::Sqlite(conn) => {
                run_statement!(conn, statement, params, execute)?.rows_affected()
            }
        };
        Ok(affected)
    }

    /// Runs a script's statements in order, as [`Database::execute`] does
    /// without parameters; a failure also says how many statements
    /// completed before it. (Where the server commits each statement on its
    /// own, SQLite and MySQL outside a transaction, those stay done.)
    pub async fn execute_script(&mut self, script: &str) -> Result<u64, ScriptFailure> {
        match self {
            Database::Postgres(conn) => count_statements!(conn, script),
            Database::Mysql(conn) => count_statements!(conn, script),
            Database::Sqlite(conn) => count_statements!(conn, script),
        }
    }

    pub async fn query(&mut self, statement: &str, params: &[Value]) -> Result<Rows, SqlError> {
        match self {
            Database::Postgres(conn) => decode_rows(
                &run_statement!(conn, statement, params, fetch_all)?,
                postgres::decode_value,
            ),
            Database::Mysql(conn) => decode_rows(
                &run_statement!(conn, statement, params, fetch_all)?,
                mysql::decode_value,
            ),
            Database::Sqlite(conn) => decode_rows(
                &run_statement!(conn, statement, params, fetch_all)?,
                sqlite::decode_value,
            ),
        }
    }

    /// Like [`Database::query`], but reads the rows one at a time and stops
    /// once they hold more than `max_bytes`, so the host never buffers more.
    pub async fn query_capped(
        &mut self,
        statement: &str,
        params: &[Value],
        max_bytes: usize,
    ) -> Result<Capped, SqlError> {
        Ok(match self {
            Database::Postgres(conn) => read_capped!(
                stream_rows!(conn, statement, params),
                postgres::decode_value,
                max_bytes
            ),
            Database::Mysql(conn) => read_capped!(
                stream_rows!(conn, statement, params),
                mysql::decode_value,
                max_bytes
            ),
            Database::Sqlite(conn) => read_capped!(
                stream_rows!(conn, statement, params),
                sqlite::decode_value,
                max_bytes
            ),
        })
    }

    /// Creates the connection string's PostgreSQL schema (Prisma's
    /// `?schema=`) unless it exists, as Prisma's own deploy does; nothing
    /// for other providers or without one.
    pub async fn create_schema(&mut self, target: &ConnectionString) -> Result<(), SqlError> {
        let (Database::Postgres(_), Some(schema)) = (&*self, target.schema()) else {
            return Ok(());
        };
        let statement = format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            crate::names::quote(Provider::Postgresql, &schema)
        );
        self.execute(&statement, &[]).await.map(drop)
    }

    /// Whether `table` (in `target`'s home schema, on PostgreSQL) is an
    /// ordinary table whose reading runs nothing its creator wrote: not a
    /// view, and on PostgreSQL without row security (whose policies may call
    /// functions, with the reader's privileges).
    pub async fn is_plain_table(
        &mut self,
        target: &ConnectionString,
        table: &str,
    ) -> Result<bool, SqlError> {
        let (statement, name) = match self {
            Database::Postgres(_) => (
                "SELECT 1 FROM pg_class WHERE oid = to_regclass($1) \
                 AND relkind IN ('r', 'p') AND NOT relrowsecurity",
                target.qualify(table),
            ),
            Database::Mysql(_) => (
                "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() \
                 AND table_name = ? AND table_type = 'BASE TABLE'",
                table.to_owned(),
            ),
            Database::Sqlite(_) => (
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                table.to_owned(),
            ),
        };
        let rows = self.query(statement, &[Value::Text(name)]).await?;
        Ok(!rows.rows.is_empty())
    }

    /// Every table, view, sequence and the like in the database, whatever its
    /// schema: what decides whether a database is empty.
    pub async fn relation_names(&mut self) -> Result<Vec<String>, SqlError> {
        let statement = match self {
            Database::Postgres(_) => {
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
                   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
                   AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
            }
            Database::Mysql(_) => MYSQL_TABLES,
            Database::Sqlite(_) => SQLITE_TABLES,
        };
        self.names(statement).await
    }

    /// The first column of every row, as text.
    async fn names(&mut self, statement: &str) -> Result<Vec<String>, SqlError> {
        Ok(first_texts(self.query(statement, &[]).await?))
    }

    /// A private SQLite database in memory, confined as a handler's session
    /// is: scratch space that disappears with the connection.
    pub async fn confined_in_memory() -> Result<Database, SqlError> {
        let mut conn = sqlite::open_in_memory().await?;
        sqlite::confine(&mut conn, false).await?;
        Ok(Database::Sqlite(Polite::new(conn)))
    }

    /// On SQLite, limits a confined writing connection to reading and to
    /// writing the rows of `rows_of`, or lifts that limit (see
    /// [`sqlite::allow_writes`]); elsewhere the account the session logged
    /// in as decides.
    pub async fn allow_writes(
        &mut self,
        rows_of: Option<&'static std::ffi::CStr>,
    ) -> Result<(), SqlError> {
        match self {
            Database::Sqlite(conn) => Ok(sqlite::allow_writes(conn, rows_of).await?),
            Database::Postgres(_) | Database::Mysql(_) => Ok(()),
        }
    }

    /// The server's id for this session, so the server can end it if this
    /// side cannot (a handler stuck in a statement).
    pub async fn backend_id(&mut self) -> Option<i64> {
        let statement = match self {
            Database::Postgres(_) => "SELECT pg_backend_pid()::bigint",
            Database::Mysql(_) => "SELECT CAST(CONNECTION_ID() AS SIGNED)",
            Database::Sqlite(_) => return None,
        };
        match self
            .query(statement, &[])
            .await
            .ok()?
            .rows
            .first()?
            .first()?
        {
            Value::Integer(id) => Some(*id),
            _ => None,
        }
    }

    /// `SELECT COUNT(*)` of `table` (in `target`'s home schema, on
    /// PostgreSQL: [`ConnectionString::qualify`]).
    pub async fn count_rows(
        &mut self,
        target: &ConnectionString,
        table: &str,
    ) -> Result<i64, SqlError> {
        let statement = format!("SELECT COUNT(*) FROM {}", target.qualify(table));
        let rows = self.query(&statement, &[]).await?;
        match rows.rows.first().and_then(|row| row.first()) {
            Some(Value::Integer(count)) => Ok(*count),
            other => Err(SqlError::new(format!(
                "unexpected answer to COUNT(*): {other:?}"
            ))),
        }
    }

    /// Closes the session and waits for it (see [`Server::close`]).
    pub async fn close(self) {
        match self {
            Database::Postgres(conn) => conn.close().await,
            Database::Mysql(conn) => conn.close().await,
            Database::Sqlite(conn) => conn.close().await,
        }
    }
}

const MYSQL_TABLES: &str = "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE()";
const SQLITE_TABLES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";

/// The first column of every row that holds text.
fn first_texts(rows: Rows) -> Vec<String> {
    rows.rows
        .into_iter()
        .filter_map(|row| match row.into_iter().next() {
            Some(Value::Text(name)) => Some(name),
            _ => None,
        })
        .collect()
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

fn rfc3339_naive(at: time::PrimitiveDateTime) -> String {
    rfc3339(at.assume_utc())
}

fn column_names<R: sqlx::Row>(row: &R) -> Vec<String> {
    use sqlx::Column;
    row.columns().iter().map(|c| c.name().to_owned()).collect()
}

fn decode_rows<R: sqlx::Row>(
    rows: &[R],
    decode_value: impl Fn(&R, usize) -> Result<Value, sqlx::Error>,
) -> Result<Rows, SqlError> {
    let columns = rows.first().map(column_names).unwrap_or_default();
    let rows = rows
        .iter()
        .map(|row| (0..row.len()).map(|i| decode_value(row, i)).collect())
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Rows { columns, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_servers_are_reached_without_tls_unless_asked() {
        let url = |text: &str| Url::parse(text).unwrap();
        assert_eq!(
            driver_url(&url("postgres://u@127.0.0.1:5432/db")).as_str(),
            "postgres://u@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(
            driver_url(&url("mysql://u@localhost/db")).as_str(),
            "mysql://u@localhost/db?ssl-mode=DISABLED"
        );
        for kept in [
            "postgres://u@127.0.0.1/db?sslmode=require",
            "mysql://u@127.0.0.1/db?ssl-mode=REQUIRED",
            "postgres://u@db.example.com/db",
        ] {
            assert_eq!(driver_url(&url(kept)).as_str(), kept);
        }
    }
}
