//! The session a handler's SQL runs on, confined by the database itself.
//!
//! The host never hands a handler its own session. On PostgreSQL and
//! MySQL/MariaDB the handler's session *authenticates* as an account that can
//! reach only the one database: one the host creates for the call (random
//! name and password, a short lifetime, one connection) and removes after it,
//! or one the project names. On SQLite the handler's connection carries an
//! authorizer, limits and defensive mode. Which words a handler's statements
//! use does not matter: the server decides what the account may do.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use url::Url;

use super::migration_lock;
use super::{ConnectionString, Database, Server, SqlError, credentials, mysql, postgres, sqlite};
use crate::config::Provider;
use crate::failure::{Failure, Outcome};
use crate::names::quote;

/// Every account faber-db creates for a handler starts with this; a later
/// run removes expired ones of this naming, and never any other.
pub const ACCOUNT_PREFIX: &str = "fdb_h_";

/// How long an account may outlive the call it was made for before a later
/// run may remove it (the call's own timeout is added to this).
const ACCOUNT_GRACE: Duration = Duration::from_secs(300);

/// What the environment allows for the handler's session.
pub enum SessionPolicy {
    /// An account of the host's making; refused where none can be created,
    /// unless `fallback` allows the connection's own privileges.
    LeastPrivilege { fallback: bool },
    /// The project's own account, from this connection string.
    ProjectAccount(ConnectionString),
    /// The environment opted in to the connection's own privileges.
    ConnectionPrivileges,
}

/// How the handler's session was confined, as the report states it.
#[derive(Debug, Clone, Serialize)]
pub struct Confinement {
    /// `ephemeral-account`, `project-account`, `sqlite-authorizer` or
    /// `connection-privileges`.
    pub kind: &'static str,
    /// The account the session authenticated as, where there is one.
    pub account: Option<String>,
    /// Why the session is not confined, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    #[serde(skip)]
    ephemeral: Option<Ephemeral>,
}

/// The kind of a confinement whose account may only read.
const READ_ONLY_ACCOUNT: &str = "read-only-account";

/// An account created for one call; its host part matters on MySQL only.
#[derive(Debug, Clone)]
pub struct Ephemeral {
    pub name: String,
    pub host: String,
}

impl Confinement {
    /// The account the host made for the call, which it must remove.
    pub fn ephemeral_account(&self) -> Option<&str> {
        self.ephemeral.as_ref().map(|account| account.name.as_str())
    }

    fn plain(kind: &'static str, account: Option<String>) -> Confinement {
        Confinement {
            kind,
            account,
            warning: None,
            ephemeral: None,
        }
    }

    fn unconfined(warning: String) -> Confinement {
        Confinement {
            kind: "connection-privileges",
            account: None,
            warning: Some(warning),
            ephemeral: None,
        }
    }
}

/// What the handler's session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Changing the database: `init`, and replays on scratch databases.
    Write,
    /// Changing it under the migration tool's lock (`migrate`, `resolve`).
    /// On a server the lock is the host's to take on its own session,
    /// first; on SQLite only the connection that writes can hold the file's
    /// lock, so this session is opened holding it
    /// ([`migration_lock::SQLITE_FILE`]) before it is confined, waiting at
    /// most `lock_timeout`. The handler cannot give it up: its authorizer
    /// refuses the locking-mode pragma, and only closing the session
    /// releases it.
    Migrate { lock_timeout: Duration },
    /// Reading it only (`status`, `migrate --dry-run`): the session is
    /// confined to the database and read-only, both enforced by the server,
    /// and nothing may be created, written or locked in the database, so
    /// nothing is granted inside it either:
    ///
    /// - PostgreSQL: a login role made for the call, granted CONNECT on the
    ///   database and USAGE and SELECT on its schemas' tables, revoked when
    ///   it is dropped right after (the server-wide `pg_read_all_data` would
    ///   also let it read every role's password hash in `pg_authid`). The
    ///   role owns nothing and may create nothing: it is refused if PUBLIC
    ///   would let it create in the database or one of its schemas (the
    ///   `public` schema before PostgreSQL 15). It can reach no other
    ///   database: its session is bound to this one, and the handler has no
    ///   network.
    /// - MySQL/MariaDB: an account with `SELECT` on the database only.
    /// - SQLite: the file opened read-only (`SQLITE_OPEN_READONLY`, the
    ///   engine refuses every write) with the usual authorizer, which here
    ///   also refuses `BEGIN`, so no lock outlives a statement.
    ///
    /// What such a session can still do is hold a lock for as long as the
    /// call lasts: an advisory or named lock (`pg_advisory_lock`,
    /// `GET_LOCK`), which the server allows every account; it ends with the
    /// session, which the host ends right after the call. A read-only
    /// transaction setting (`SET TRANSACTION READ ONLY`) would not do: the
    /// session itself can turn it off. It is used only where the
    /// environment opts out of confinement, and every report says so.
    Read,
}

impl Access {
    fn writes(self) -> bool {
        self != Access::Read
    }
}

impl Server {
    /// Opens the session a handler's SQL runs on, in database `name`, for
    /// `access`. `admin` is the host's own session in that database (for
    /// the grants that only exist inside it); `lifetime` bounds the
    /// account's life.
    pub async fn open_handler_session(
        &mut self,
        admin: &mut Database,
        target: &ConnectionString,
        name: &str,
        policy: &SessionPolicy,
        lifetime: Duration,
        access: Access,
    ) -> Outcome<(Database, Confinement)> {
        let target = target.with_database(name);
        match (policy, &target) {
            (_, ConnectionString::File { .. }) => {
                let database = open_sqlite_session(&target, name, access).await?;
                let kind = match access {
                    Access::Read => "sqlite-read-only",
                    Access::Write | Access::Migrate { .. } => "sqlite-authorizer",
                };
                Ok((database, Confinement::plain(kind, None)))
            }
            (SessionPolicy::ConnectionPrivileges, _) => {
                let database = self.open_unconfined(&target, name, access).await?;
                let warning = "the environment runs handlers with the connection's own privileges (handler_privileges: \"connection\")".to_owned();
                Ok((database, Confinement::unconfined(warning)))
            }
            (SessionPolicy::ProjectAccount(project), ConnectionString::Server { url, .. })
                if access == Access::Read =>
            {
                // Granting it the database would write there: it reads
                // with what it already holds.
                let mut merged = url.clone();
                if let ConnectionString::Server { url: account, .. } = project {
                    let _ = merged.set_username(account.username());
                    let _ = merged.set_password(account.password());
                }
                let mut database = connect_url(self.provider(), &merged, name).await?;
                read_only_session(&mut database).await?;
                let user = percent_encoding::percent_decode_str(merged.username())
                    .decode_utf8_lossy()
                    .into_owned();
                confined_project_account(database, user).await
            }
            (SessionPolicy::ProjectAccount(project), ConnectionString::Server { url, .. }) => {
                self.open_project_account(admin, project, url, name).await
            }
            (SessionPolicy::LeastPrivilege { fallback }, ConnectionString::Server { url, .. }) => {
                if access.writes() {
                    self.sweep_expired_accounts(url).await;
                }
                match self.create_account(admin, name, lifetime, access).await {
                    Ok((account, password)) => {
                        let connected =
                            connect_as(self.provider(), url, &account, &password, name).await;
                        let kind = match access {
                            Access::Write | Access::Migrate { .. } => "ephemeral-account",
                            Access::Read => READ_ONLY_ACCOUNT,
                        };
                        let mut confinement = Confinement::plain(kind, Some(account.name.clone()));
                        confinement.ephemeral = Some(account);
                        match connected {
                            Ok(database) => Ok((database, confinement)),
                            Err(failure) => {
                                // Not left for the sweep: it was never used.
                                let admin = access.writes().then_some(admin);
                                let _ = self.remove_handler_account(admin, &confinement).await;
                                Err(failure)
                            }
                        }
                    }
                    Err(err) if err.denied && *fallback => {
                        let database = self.open_unconfined(&target, name, access).await?;
                        Ok((database, Confinement::unconfined(unconfined_because(&err))))
                    }
                    Err(err) if err.denied => Err(no_least_privilege(self.provider(), name, &err)),
                    Err(err) => Err(Failure::new("Cannot create the handler's database account")
                        .cause(err.message)),
                }
            }
        }
    }

    /// Removes the account made for a handler's session, ending any session
    /// it still has. Given `admin` (a session in the database, which is
    /// kept), what the account created there passes to the connection's own
    /// user first, as if that user had run the handler's SQL, except that
    /// no routine of the handler's runs with that user's privileges: the
    /// ones it made SECURITY DEFINER are returned, made SECURITY INVOKER.
    pub async fn remove_handler_account(
        &mut self,
        admin: Option<&mut Database>,
        confinement: &Confinement,
    ) -> Result<Vec<String>, SqlError> {
        let Some(account) = &confinement.ephemeral else {
            return Ok(Vec::new());
        };
        match self {
            Server::Postgres(conn) => {
                let reading = confinement.kind == READ_ONLY_ACCOUNT;
                postgres::remove_account(conn, admin, &account.name, reading).await
            }
            Server::Mysql(conn) => mysql::remove_account(conn, account)
                .await
                .map(|()| Vec::new()),
            Server::Sqlite(_) => Ok(Vec::new()),
        }
    }

    fn provider(&self) -> Provider {
        match self {
            Server::Postgres(_) => Provider::Postgresql,
            Server::Mysql(_) => Provider::Mysql,
            Server::Sqlite(_) => Provider::Sqlite,
        }
    }

    /// The connection's own session; one that only reads is set read-only,
    /// which the session could undo: the reports say it is unconfined.
    async fn open_unconfined(
        &self,
        target: &ConnectionString,
        name: &str,
        access: Access,
    ) -> Outcome<Database> {
        let mut database = self.open(target, name).await?;
        if access == Access::Read {
            read_only_session(&mut database).await?;
        }
        Ok(database)
    }

    /// Creates an account that may use database `name` only (read it only,
    /// for [`Access::Read`]); returns it with its password.
    async fn create_account(
        &mut self,
        admin: &mut Database,
        name: &str,
        lifetime: Duration,
        access: Access,
    ) -> Result<(Ephemeral, String), SqlError> {
        let expires = unix_now() + (lifetime + ACCOUNT_GRACE).as_secs();
        let account = format!("{ACCOUNT_PREFIX}{expires}_{}", credentials::random_hex(4));
        let password = credentials::random_hex(24);
        let ephemeral = match self {
            Server::Postgres(_) => {
                match access {
                    Access::Write | Access::Migrate { .. } => {
                        postgres::create_account(admin, &account, &password, name, expires).await?
                    }
                    Access::Read => {
                        postgres::create_reading_account(admin, &account, &password, name, expires)
                            .await?
                    }
                }
                Ephemeral {
                    name: account,
                    host: String::new(),
                }
            }
            Server::Mysql(conn) => {
                let privileges = match access {
                    Access::Write | Access::Migrate { .. } => mysql::Privileges::All,
                    Access::Read => mysql::Privileges::Read,
                };
                mysql::create_account(conn, &account, &password, name, privileges).await?
            }
            Server::Sqlite(_) => unreachable!("SQLite sessions are confined by the authorizer"),
        };
        Ok((ephemeral, password))
    }

    /// Removes accounts that earlier runs created and could not remove (a
    /// crash, a kill): only faber-db's own naming, only once expired. Best
    /// effort: an account that cannot be removed now is tried again later.
    async fn sweep_expired_accounts(&mut self, url: &Url) {
        let now = unix_now();
        let expired = |account: &str| {
            account
                .strip_prefix(ACCOUNT_PREFIX)
                .and_then(|rest| rest.split('_').next())
                .and_then(|expiry| expiry.parse::<u64>().ok())
                .is_some_and(|expiry| expiry < now)
        };
        let swept = match self {
            Server::Postgres(conn) => postgres::sweep_accounts(conn, url, &expired).await,
            Server::Mysql(conn) => mysql::sweep_accounts(conn, &expired).await,
            Server::Sqlite(_) => Ok(()),
        };
        if let Err(err) = swept {
            crate::logging::emit(
                crate::logging::Level::Debug,
                "faber-db",
                &format!("expired handler accounts not removed: {}", err.message),
            );
        }
    }

    /// The project's own account: it must be able to reach the database and
    /// hold no server-wide privilege, or it confines nothing.
    async fn open_project_account(
        &mut self,
        admin: &mut Database,
        project: &ConnectionString,
        url: &Url,
        name: &str,
    ) -> Outcome<(Database, Confinement)> {
        let ConnectionString::Server {
            url: account_url, ..
        } = project
        else {
            return Err(Failure::new(
                "The handler's connection string must name a server account",
            ));
        };
        let mut merged = url.clone();
        let _ = merged.set_username(account_url.username());
        let _ = merged.set_password(account_url.password());
        let user = percent_encoding::percent_decode_str(account_url.username())
            .decode_utf8_lossy()
            .into_owned();
        // The account may use the database this run made or resumes; what it
        // may do beyond that is checked below, on its own session.
        let granted = match self {
            Server::Postgres(_) => postgres::grant_database(admin, &user, name).await,
            Server::Mysql(conn) => {
                let host = mysql::account_host(&merged).await;
                match host {
                    Ok(host) => {
                        let account = Ephemeral {
                            name: user.clone(),
                            host,
                        };
                        mysql::grant_database(conn, &account, name).await
                    }
                    Err(err) => Err(err),
                }
            }
            Server::Sqlite(_) => Ok(()),
        };
        granted.map_err(|err| {
            Failure::new(format!(
                "Cannot give the handler account {user} the use of database {name}"
            ))
            .cause(err.message)
            .help("Check the account's name and password in handler_connection_string_env, and that the connection's user may grant privileges on the database")
        })?;
        let database = connect_url(self.provider(), &merged, name).await?;
        confined_project_account(database, user).await
    }
}

/// SQLite's confinement needs no privilege: it is always on (an authorizer,
/// limits and defensive mode; a reading session is also opened read-only).
/// A migrating session takes the file's lock first.
async fn open_sqlite_session(
    target: &ConnectionString,
    name: &str,
    access: Access,
) -> Outcome<Database> {
    let mut conn = match access {
        Access::Read => sqlite::open_read_only(target)
            .await
            .map_err(cannot_confine)?,
        Access::Write => sqlite::open(target).await.map_err(cannot_confine)?,
        Access::Migrate { lock_timeout } => {
            migration_lock::open_holding_file(target, lock_timeout, name).await?
        }
    };
    sqlite::confine(&mut conn, access == Access::Read)
        .await
        .map_err(cannot_confine)?;
    Ok(Database::Sqlite(conn))
}

fn cannot_confine(err: sqlx::Error) -> Failure {
    Failure::new("Cannot confine the handler's SQLite session").cause(SqlError::from(err).message)
}

/// The project's own account's session, refused if the account holds any
/// server-wide privilege: then it confines nothing.
async fn confined_project_account(
    mut database: Database,
    user: String,
) -> Outcome<(Database, Confinement)> {
    let privileged = match &mut database {
        Database::Postgres(conn) => postgres::account_privileges(conn).await,
        Database::Mysql(conn) => mysql::account_privileges(conn).await,
        Database::Sqlite(_) => Ok(Vec::new()),
    }
    .map_err(|err| {
        Failure::new(format!("Cannot read the privileges of account {user}")).cause(err.message)
    });
    match privileged {
        Ok(privileged) if privileged.is_empty() => {
            Ok((database, Confinement::plain("project-account", Some(user))))
        }
        outcome => {
            database.close().await;
            let privileged = outcome?;
            Err(Failure::new(format!(
                "The handler account {user} is not confined to the database"
            ))
            .cause(format!("it holds {}", privileged.join(", ")))
            .help("Give the handler an account without server-wide privileges, or remove handler_connection_string_env to let faber-db create one per run"))
        }
    }
}

/// Sets a session read-only for its transactions: a guard against mistakes
/// where the server enforces nothing else, never a boundary.
async fn read_only_session(database: &mut Database) -> Outcome<()> {
    let statement = match database {
        Database::Postgres(_) => "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        Database::Mysql(_) => "SET SESSION TRANSACTION READ ONLY",
        Database::Sqlite(_) => return Ok(()),
    };
    database.execute(statement, &[]).await.map_err(|err| {
        Failure::new("Cannot make the handler's session read-only").cause(err.message)
    })?;
    Ok(())
}

async fn connect_as(
    provider: Provider,
    url: &Url,
    account: &Ephemeral,
    password: &str,
    name: &str,
) -> Outcome<Database> {
    let mut login = url.clone();
    let _ = login.set_username(&account.name);
    let _ = login.set_password(Some(password));
    connect_url(provider, &login, name).await
}

async fn connect_url(provider: Provider, url: &Url, name: &str) -> Outcome<Database> {
    let target = ConnectionString::Server {
        provider,
        url: url.clone(),
    }
    .with_database(name);
    Database::connect(&target).await.map_err(|err| {
        Failure::new(format!(
            "Cannot open the handler's session on database {name}"
        ))
        .cause(err.message)
        .help(format!(
            "Check that {} accepts password logins from this machine for new accounts (pg_hba.conf on PostgreSQL)",
            target.masked()
        ))
    })
}

/// Where least privilege cannot be had: which privilege is missing and the
/// two ways out.
/// Why a bundled handler runs unconfined where least privilege was refused.
fn unconfined_because(err: &SqlError) -> String {
    if err.code.as_deref() == Some(postgres::MAY_CREATE) {
        format!(
            "{}; this bundled handler reads with the connection's own privileges, read-only",
            err.message
        )
    } else {
        format!(
            "the connection's user may not create accounts ({}); this bundled handler runs with the connection's own privileges",
            err.message
        )
    }
}

/// Least privilege refused for database `name`: PUBLIC may create there (so
/// no account could only read it), or the connection's user may not create
/// accounts.
fn no_least_privilege(provider: Provider, name: &str, err: &SqlError) -> Failure {
    if err.code.as_deref() == Some(postgres::MAY_CREATE) {
        return Failure::new("Cannot confine the handler to reading the database")
            .cause(&err.message)
            .help(format!(
                "Revoke it: REVOKE CREATE ON SCHEMA public FROM PUBLIC; REVOKE CREATE ON DATABASE {} FROM PUBLIC",
                quote(Provider::Postgresql, name)
            ))
            .help("Or name an unprivileged account for handlers: environments.<env>.handler_connection_string_env");
    }
    let (missing, grant) = match provider {
        Provider::Postgresql => ("CREATEROLE", "ALTER ROLE <your user> CREATEROLE"),
        _ => (
            "CREATE USER and GRANT OPTION",
            "GRANT CREATE USER ON *.* TO <your user>; GRANT ALL ON *.* TO <your user> WITH GRANT OPTION",
        ),
    };
    Failure::new("Cannot confine the handler to the database")
        .cause(format!(
            "the connection's user lacks {missing}, which faber-db needs to create the handler's own account: {}",
            err.message
        ))
        .help(format!("Grant it: {grant}"))
        .help("Or name an unprivileged account for handlers: environments.<env>.handler_connection_string_env")
        .help("Or run handlers with the connection's own privileges (every report then warns): environments.<env>.handler_privileges = \"connection\"")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}
