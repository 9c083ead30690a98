//! The session a handler's SQL runs on, confined by the database itself.
//!
//! The host never hands a handler its own session. On PostgreSQL and
//! MySQL/MariaDB the handler's session *authenticates* as an account that can
//! reach only the one database: on PostgreSQL one the host creates for the
//! call (random name and password, a short lifetime, one connection) and
//! removes after it; on MySQL the database's owner account, unlocked for
//! the one login; or one the project names. On SQLite the handler's
//! connection carries an authorizer, limits and defensive mode. Which words
//! a handler's statements use does not matter: the server decides what the
//! account may do.
//!
//! Confinement lasts beyond the call. What the handler creates ends up
//! owned by the database's owner role or account ([`owner_account`]), never
//! by the connection's own (often superuser) user, and closing the session
//! checks the catalog for what would run for others ([`super::leftovers`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use url::Url;

use super::leftovers::{self, Expect, HandlerObject, Refused, Snapshot};
use super::migration_lock;
use super::{ConnectionString, Database, Server, SqlError, credentials, mysql, postgres, sqlite};
use crate::config::Provider;
use crate::failure::{Failure, Outcome};
use crate::names::quote;

/// Every account faber-db creates for a handler starts with this; a later
/// run removes expired ones of this naming, and never any other.
pub const ACCOUNT_PREFIX: &str = "fdb_h_";

/// The role (PostgreSQL) or account (MySQL) that owns what handlers create
/// in database `name`: one per database, named from a hash of its name (a
/// role's name is server-wide and shorter than a database's may be). It
/// holds privileges in that database only, so a SECURITY DEFINER routine,
/// a view or a MySQL trigger it owns keeps a definer that exists and can do
/// no more than the database allows.
pub fn owner_account(name: &str) -> String {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(name.as_bytes()));
    format!("fdb_o_{}", &digest[..16])
}

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
    /// The role or account that owns what the handler creates, once the
    /// session ends (see [`owner_account`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The table whose rows alone the handler's session may write, where
    /// the host runs the migrations' SQL ([`HandlerSession::keep_to_rows`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_of: Option<String>,
    /// Why the session is not confined, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    #[serde(skip)]
    ephemeral: Option<Account>,
}

/// The kind of a confinement whose account may only read.
const READ_ONLY_ACCOUNT: &str = "read-only-account";

/// A server account; its host part matters on MySQL only.
#[derive(Debug, Clone)]
pub struct Account {
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
            owner: None,
            rows_of: None,
            warning: None,
            ephemeral: None,
        }
    }

    /// An account that owns nothing, to remove as such.
    fn reading(self, account: Account) -> Confinement {
        Confinement {
            kind: READ_ONLY_ACCOUNT,
            account: Some(account.name.clone()),
            owner: None,
            rows_of: None,
            warning: None,
            ephemeral: Some(account),
        }
    }

    fn unconfined(warning: String) -> Confinement {
        Confinement {
            kind: "connection-privileges",
            account: None,
            owner: None,
            rows_of: None,
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

/// The handler's session from its opening to the removal of its account:
/// the one place that pairs them, for every command that runs a handler.
/// The host lends the connection to each call ([`HandlerSession::lend`])
/// and takes it back; [`HandlerSession::close`] ends it, checks what the
/// handler left against the catalog, hands what it created to the
/// database's owner and removes its account.
pub struct HandlerSession {
    database: Option<Database>,
    /// The server's id for the session, to end it when a call lost it
    /// (perhaps mid-statement).
    backend: Option<i64>,
    confinement: Confinement,
    /// The database's objects before the first call, where it may write.
    before: Option<Snapshot>,
    /// The writing session, once the handler's own is kept to its tracking
    /// table's rows ([`HandlerSession::keep_to_rows`]): the host runs the
    /// migrations' scripts on it, the handler never gets it.
    writer: Option<Database>,
    writer_backend: Option<i64>,
    /// The account of the handler's kept session, removed with it.
    keeper: Option<Account>,
    /// On SQLite, the table the one connection's authorizer keeps writes to.
    rows_only: Option<&'static std::ffi::CStr>,
}

/// What [`HandlerSession::close`] checks: the tracking table, and what the
/// command expects the handler to leave.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    pub target: &'a ConnectionString,
    pub table: &'a str,
    pub expect: Expect,
}

impl HandlerSession {
    pub fn confinement(&self) -> &Confinement {
        &self.confinement
    }

    /// The connection, for one call's grant.
    pub fn lend(&mut self) -> Option<Database> {
        self.database.take()
    }

    /// The connection back from a call; `None` when the call lost it.
    pub fn take_back(&mut self, database: Option<Database>) {
        self.database = database;
    }

    /// The writing session, for a call's migration scripts; `None` where
    /// the handler's own session is not kept to its rows (it writes itself).
    pub fn lend_writer(&mut self) -> Option<Database> {
        self.writer.take()
    }

    /// The writing session back from a call; `None` when the call lost it.
    pub fn take_back_writer(&mut self, database: Option<Database>) {
        if database.is_some() {
            self.writer = database;
        }
    }

    /// On SQLite, the table the handler's connection may write rows of
    /// (its authorizer is widened while a script runs).
    pub fn rows_only(&self) -> Option<&'static std::ffi::CStr> {
        self.rows_only
    }

    /// Keeps the handler's own statements to reading the database and
    /// keeping the rows of `table` (in `target`'s home schema), for a
    /// handler that has the host run its migrations' SQL (0.4.0): on a
    /// server, by a second account granted only that, whose session the
    /// handler gets while the writing one stays the host's; on SQLite, by
    /// the one connection's authorizer. Nothing changes where the table does
    /// not exist yet (the handler's first apply creates it, as the tool's
    /// deploy does) or where the environment chose the account (a
    /// project's, or the connection's own privileges).
    pub async fn keep_to_rows(
        &mut self,
        server: &mut Server,
        admin: &mut Database,
        target: &ConnectionString,
        name: &str,
        table: &str,
        lifetime: Duration,
    ) -> Outcome<()> {
        let refused = |err: SqlError| {
            Failure::new(format!(
                "Cannot keep the handler's session to the rows of {table}"
            ))
            .cause(err.message)
        };
        // On SQLite only the handler's session may read the file while it
        // holds the file's lock.
        let reader = match self.database.as_mut() {
            Some(database @ Database::Sqlite(_)) => database,
            _ => &mut *admin,
        };
        if !reader.is_plain_table(target, table).await.unwrap_or(false) {
            return Ok(());
        }
        if let Some(database @ Database::Sqlite(_)) = self.database.as_mut() {
            let kept = sqlite::interned(table);
            database.allow_writes(Some(kept)).await.map_err(refused)?;
            self.rows_only = Some(kept);
            self.confinement.rows_of = Some(table.to_owned());
            return Ok(());
        }
        // Only an account of the host's making (it has a database owner):
        // the environment chose any other.
        if self.confinement.owner.is_none() {
            return Ok(());
        }
        let ConnectionString::Server { url, .. } = target else {
            return Ok(());
        };
        let (account, password, expires) = new_account(lifetime);
        let keeper = match server {
            Server::Postgres(_) => {
                let qualified = target.qualify(table);
                postgres::create_row_keeper(admin, &account, &password, name, expires, &qualified)
                    .await
                    .map_err(refused)?;
                Account {
                    name: account,
                    host: String::new(),
                }
            }
            Server::Mysql(conn) => {
                let rows = mysql::Privileges::Rows(table);
                mysql::create_account(conn, &account, &password, name, rows)
                    .await
                    .map_err(refused)?
            }
            Server::Sqlite(_) => return Ok(()),
        };
        self.keeper = Some(keeper.clone());
        let mut kept = connect_as(server.provider(), url, &keeper, &password, name).await?;
        self.writer_backend = self.backend.take();
        self.backend = kept.backend_id().await;
        self.writer = self.database.replace(kept);
        self.confinement.account = Some(keeper.name);
        self.confinement.rows_of = Some(table.to_owned());
        Ok(())
    }

    /// Ends the handler's connections; one a call lost is ended by the
    /// server. On SQLite this releases the file's lock.
    pub async fn disconnect(&mut self, server: &mut Server) {
        let connections = [
            (self.database.take(), self.backend.take()),
            (self.writer.take(), self.writer_backend.take()),
        ];
        for connection in connections {
            match connection {
                (Some(database), _) => database.close().await,
                (None, Some(backend)) => {
                    // Ignored: the session may have ended already.
                    let _ = server.terminate(backend).await;
                }
                (None, None) => {}
            }
        }
    }

    /// Ends the session. With `admin` (the host's own session in the
    /// database, kept) and a `check`, what the handler left is read from
    /// the catalog first: refused objects it made are removed and the
    /// session's end is an error naming them. The account is removed
    /// either way, what it created passing to the database's owner.
    pub async fn close(
        mut self,
        server: &mut Server,
        mut admin: Option<&mut Database>,
        check: Option<Check<'_>>,
    ) -> Outcome<Vec<HandlerObject>> {
        self.disconnect(server).await;
        let checked = match (check, admin.as_deref_mut(), &self.before) {
            (Some(check), Some(admin), Some(before)) => Some(inspect(admin, check, before).await),
            _ => None,
        };
        if let Some(keeper) = self.keeper.take() {
            // It could create nothing: removing it revokes its grants.
            let kept = self.confinement.clone().reading(keeper);
            let _ = server
                .remove_handler_account(admin.as_deref_mut(), &kept)
                .await;
        }
        let removed = server
            .remove_handler_account(admin, &self.confinement)
            .await
            .map_err(|err| {
                Failure::new("Cannot remove the handler's database account")
                    .cause(err.message)
                    .help(format!(
                        "Remove it by hand: {}",
                        self.confinement.account.as_deref().unwrap_or_default()
                    ))
            });
        let created = checked.transpose()?.unwrap_or_default();
        removed?;
        Ok(created)
    }
}

/// What the handler left: the objects it created, or the refusal of those
/// that must not stay (the ones it made already removed).
async fn inspect(
    admin: &mut Database,
    check: Check<'_>,
    before: &Snapshot,
) -> Outcome<Vec<HandlerObject>> {
    let found = leftovers::check(admin, check.target, check.table, before, check.expect)
        .await
        .map_err(|err| {
            Failure::new("Cannot read what the handler left in the database").cause(err.message)
        })?;
    if found.refused.is_empty() {
        return Ok(found.created);
    }
    let failed = leftovers::remove(admin, &found.refused).await;
    Err(refused(&found.refused, &failed))
}

/// The refusal of objects a handler left: each named with what it could
/// do, then what was done about it and what is left to do.
fn refused(objects: &[Refused], failed: &[String]) -> Failure {
    let mut failure = Failure::new(format!(
        "The database holds {} object(s) that would run with others' privileges",
        objects.len()
    ));
    for refused in objects {
        failure = failure.cause(format!(
            "{} {}: {}",
            refused.object.kind, refused.object.name, refused.reason
        ));
    }
    if objects.iter().any(|refused| refused.created) && failed.is_empty() {
        failure = failure.help(
            "faber-db removed the ones this run's handler made; report the handler to its author",
        );
    }
    for failed in failed {
        failure = failure.help(format!("Could not remove {failed}: remove it by hand"));
    }
    for refused in objects.iter().filter(|refused| !refused.created) {
        failure = failure.help(format!(
            "Found there before this run; if you did not make it, remove it: {}",
            refused.drop
        ));
    }
    failure
}

impl Server {
    /// Opens the session a handler's SQL runs on, in database `name`, for
    /// `access`. `admin` is the host's own session in that database (for
    /// the grants that only exist inside it); `lifetime` bounds the
    /// account's life. Where the handler may write, the database's objects
    /// are listed before the handler gets the session, so that closing it
    /// can tell what the handler made.
    pub async fn open_handler_session(
        &mut self,
        admin: &mut Database,
        target: &ConnectionString,
        name: &str,
        policy: &SessionPolicy,
        lifetime: Duration,
        access: Access,
    ) -> Outcome<HandlerSession> {
        let (mut database, confinement) = self
            .confined_session(admin, target, name, policy, lifetime, access)
            .await?;
        let backend = database.backend_id().await;
        let mut session = HandlerSession {
            database: None,
            backend,
            confinement,
            before: None,
            writer: None,
            writer_backend: None,
            keeper: None,
            rows_only: None,
        };
        if access.writes() {
            // On SQLite only the handler's session may read the file while
            // it holds the file's lock.
            let reader = match &mut database {
                Database::Sqlite(_) => &mut database,
                _ => &mut *admin,
            };
            match leftovers::snapshot(reader).await {
                Ok(before) => session.before = Some(before),
                Err(err) => {
                    session.database = Some(database);
                    let _ = session.close(self, Some(admin), None).await;
                    return Err(Failure::new(format!(
                        "Cannot list the objects of database {name}"
                    ))
                    .cause(err.message)
                    .help("Check that the database user may read the database's catalog"));
                }
            }
        }
        session.database = Some(database);
        Ok(session)
    }

    async fn confined_session(
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
                    Ok(created) => {
                        let connected = connect_as(
                            self.provider(),
                            url,
                            &created.account,
                            &created.password,
                            name,
                        )
                        .await;
                        let confinement = created.confinement;
                        if let (Some(owner), Server::Mysql(conn)) =
                            (&created.locked_after_login, &mut *self)
                        {
                            mysql::lock_owner(conn, owner).await;
                        }
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
    /// kept), what the account created there passes to the database's owner
    /// role first (PostgreSQL); a MySQL owner account is kept, locked.
    async fn remove_handler_account(
        &mut self,
        admin: Option<&mut Database>,
        confinement: &Confinement,
    ) -> Result<(), SqlError> {
        let Some(account) = &confinement.ephemeral else {
            return Ok(());
        };
        match self {
            Server::Postgres(conn) => {
                let owner = confinement.owner.as_deref();
                postgres::remove_account(conn, admin, &account.name, owner).await
            }
            Server::Mysql(conn) => mysql::remove_account(conn, account).await,
            Server::Sqlite(_) => Ok(()),
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
        let mut database = self.open_as_given(target, name).await?;
        if access == Access::Read {
            read_only_session(&mut database).await?;
        }
        Ok(database)
    }

    /// Creates an account that may use database `name` only (read it only,
    /// for [`Access::Read`]); returns it with its password. On MySQL a
    /// writing session logs in as the database's owner account instead,
    /// unlocked for the login only: MySQL keeps a routine's, view's or
    /// trigger's creator as its definer, which must outlive the call.
    async fn create_account(
        &mut self,
        admin: &mut Database,
        name: &str,
        lifetime: Duration,
        access: Access,
    ) -> Result<Created, SqlError> {
        let (account, password, expires) = new_account(lifetime);
        let owner = owner_account(name);
        let reading = |account: Account| {
            let mut confinement = Confinement::plain(READ_ONLY_ACCOUNT, Some(account.name.clone()));
            confinement.ephemeral = Some(account);
            confinement
        };
        let created = match (self, access) {
            (Server::Postgres(_), Access::Read) => {
                postgres::create_reading_account(admin, &account, &password, name, expires).await?;
                let account = Account {
                    name: account,
                    host: String::new(),
                };
                Created::new(reading(account.clone()), account, password)
            }
            (Server::Postgres(_), Access::Write | Access::Migrate { .. }) => {
                postgres::create_account(admin, &account, &password, name, expires, &owner).await?;
                let account = Account {
                    name: account,
                    host: String::new(),
                };
                let mut confinement =
                    Confinement::plain("ephemeral-account", Some(account.name.clone()));
                confinement.ephemeral = Some(account.clone());
                confinement.owner = Some(owner);
                Created::new(confinement, account, password)
            }
            (Server::Mysql(conn), Access::Read) => {
                let account =
                    mysql::create_account(conn, &account, &password, name, mysql::Privileges::Read)
                        .await?;
                Created::new(reading(account.clone()), account, password)
            }
            (Server::Mysql(conn), Access::Write | Access::Migrate { .. }) => {
                let account = mysql::unlock_owner(conn, &owner, &password, name).await?;
                let mut confinement =
                    Confinement::plain("database-account", Some(account.name.clone()));
                confinement.owner = Some(owner);
                let mut created = Created::new(confinement, account.clone(), password);
                created.locked_after_login = Some(account);
                created
            }
            (Server::Sqlite(_), _) => {
                unreachable!("SQLite sessions are confined by the authorizer")
            }
        };
        Ok(created)
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
                        let account = Account {
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

/// An account made (or unlocked) for a handler's session.
struct Created {
    confinement: Confinement,
    account: Account,
    password: String,
    /// The MySQL owner account, locked again once the session has logged in.
    locked_after_login: Option<Account>,
}

impl Created {
    fn new(confinement: Confinement, account: Account, password: String) -> Created {
        Created {
            confinement,
            account,
            password,
            locked_after_login: None,
        }
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
    account: &Account,
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

/// A new account of faber-db's naming for a call of `lifetime`: its name
/// (which carries its expiry, for the sweep), password and expiry.
fn new_account(lifetime: Duration) -> (String, String, u64) {
    let expires = unix_now() + (lifetime + ACCOUNT_GRACE).as_secs();
    let account = format!("{ACCOUNT_PREFIX}{expires}_{}", credentials::random_hex(4));
    (account, credentials::random_hex(24), expires)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}
