//! Opening a handler's session: the account it logs in as (made for the
//! call, the database's owner, the project's own, or the connection's own
//! where the environment opted out), its grants and their removal, and on
//! SQLite the confined connection.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use url::Url;

use super::{ACCOUNT_GRACE, ACCOUNT_PREFIX, Access, Account, Confinement, HandlerSession};
use super::{Made, ReadingAccounts, SessionPolicy, owner_account};
use crate::db::leftovers;
use crate::db::migration_lock;
use crate::db::{
    ConnectionString, Database, InDatabase, Polite, Server, SqlError, credentials, mysql, postgres,
    sqlite,
};
use crate::failure::{Failure, Outcome};
use crate::names::quote;
use crate::provider::Provider;

impl InDatabase {
    /// The session a handler reads this database on ([`Access::Read`]),
    /// its account granted through this session and released by
    /// [`HandlerSession::close`] with no `admin`: on PostgreSQL the
    /// server's role shared by the run (`readers`), elsewhere one of its own.
    pub async fn open_reading_session(
        &mut self,
        target: &ConnectionString,
        policy: &SessionPolicy,
        lifetime: Duration,
        readers: &ReadingAccounts,
    ) -> Outcome<HandlerSession> {
        let beside = Beside::Readers(readers);
        let (mut database, confinement) = self
            .server
            .confined_session(beside, target, &self.name, policy, lifetime, Access::Read)
            .await?;
        let mut session = HandlerSession::new(&mut database, confinement).await;
        session.database = Some(database);
        Ok(session)
    }
}

impl HandlerSession {
    async fn new(database: &mut Database, confinement: Confinement) -> HandlerSession {
        HandlerSession {
            database: None,
            backend: database.backend_id().await,
            confinement,
            before: None,
            writer: None,
            writer_backend: None,
            keeper: None,
            rows_only: None,
        }
    }
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
        let beside = Beside::Admin(&mut *admin);
        let (mut database, confinement) = self
            .confined_session(beside, target, name, policy, lifetime, access)
            .await?;
        let mut session = HandlerSession::new(&mut database, confinement).await;
        if access.writes() {
            match leftovers::snapshot(catalog_reader(&mut database, admin)).await {
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

    /// The handler's connection and how it is confined.
    async fn confined_session(
        &mut self,
        beside: Beside<'_>,
        target: &ConnectionString,
        name: &str,
        policy: &SessionPolicy,
        lifetime: Duration,
        access: Access,
    ) -> Outcome<(Database, Confinement)> {
        let (mut admin, readers) = match beside {
            Beside::Admin(admin) => (Some(admin), None),
            Beside::Readers(readers) => (None, Some(readers)),
        };
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
                let Some(admin) = admin else {
                    return Err(without_the_hosts_session());
                };
                self.open_project_account(admin, project, url, name).await
            }
            (SessionPolicy::LeastPrivilege { fallback }, ConnectionString::Server { url, .. }) => {
                if access.writes() {
                    self.sweep_expired_accounts(url).await;
                }
                let shared = readers.map(|readers| (readers, &target));
                match self
                    .create_account(admin.as_deref_mut(), shared, name, lifetime, access)
                    .await
                {
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
                                let admin = admin.filter(|_| access.writes());
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
    pub(super) async fn remove_handler_account(
        &mut self,
        admin: Option<&mut Database>,
        confinement: &Confinement,
    ) -> Result<(), SqlError> {
        match (&confinement.made, self) {
            (Made::SharedGrant(grant), Server::Postgres(conn)) => grant.release(conn).await,
            (Made::Account(account), Server::Postgres(conn)) => {
                let owner = confinement.owner.as_deref();
                postgres::remove_account(conn, admin, &account.name, owner).await
            }
            (Made::Account(account), Server::Mysql(conn)) => {
                mysql::remove_account(conn, account).await
            }
            _ => Ok(()),
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
    /// trigger's creator as its definer, which must outlive the call. A
    /// PostgreSQL reading given the run's `shared` roles (and its target)
    /// is granted the server's instead, through the server's own session,
    /// which is in the database.
    async fn create_account(
        &mut self,
        admin: Option<&mut Database>,
        shared: Option<(&ReadingAccounts, &ConnectionString)>,
        name: &str,
        lifetime: Duration,
        access: Access,
    ) -> Result<Created, SqlError> {
        if let (Server::Postgres(conn), Access::Read, Some((readers, target))) =
            (&mut *self, access, shared)
        {
            let (grant, password) = readers.grant(conn, target, name, lifetime).await?;
            let account = Account::role(grant.role().to_owned());
            return Ok(Created::new(
                Confinement::shared_reading(grant),
                account,
                password,
            ));
        }
        let (account, password, expires) = new_account(lifetime);
        let owner = owner_account(name);
        let created = match (self, access) {
            (Server::Postgres(conn), Access::Read) => {
                // Its grants exist inside the database: made on a session there.
                let session = match admin {
                    Some(Database::Postgres(admin)) => admin,
                    _ => conn,
                };
                postgres::create_reading_account(session, &account, &password, name, expires)
                    .await?;
                let account = Account::role(account);
                Created::new(Confinement::reading(account.clone()), account, password)
            }
            (Server::Postgres(_), Access::Write | Access::Migrate { .. }) => {
                let Some(admin) = admin else {
                    return Err(SqlError::new(without_the_hosts_session().error));
                };
                postgres::create_account(admin, &account, &password, name, expires, &owner).await?;
                let account = Account::role(account);
                let mut confinement = Confinement::made("ephemeral-account", account.clone());
                confinement.owner = Some(owner);
                Created::new(confinement, account, password)
            }
            (Server::Mysql(conn), Access::Read) => {
                let account =
                    mysql::create_account(conn, &account, &password, name, mysql::Privileges::Read)
                        .await?;
                Created::new(Confinement::reading(account.clone()), account, password)
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

impl HandlerSession {
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
        let exists = match self.database.as_mut() {
            Some(database) => {
                catalog_reader(database, admin)
                    .is_plain_table(target, table)
                    .await
            }
            None => admin.is_plain_table(target, table).await,
        };
        if !exists.unwrap_or(false) {
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
                Account::role(account)
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
}

/// The session to read the database's catalog on, beside the handler's
/// `own`: the host's `admin`, except on SQLite, where only the handler's
/// session may read the file while it holds the file's lock.
fn catalog_reader<'a>(own: &'a mut Database, admin: &'a mut Database) -> &'a mut Database {
    match own {
        Database::Sqlite(_) => own,
        _ => admin,
    }
}

/// What a handler's session is opened beside.
enum Beside<'a> {
    /// The host's own session in the database, where the grants that
    /// exist only inside it are made.
    Admin(&'a mut Database),
    /// Nothing more, for a reading whose server session is itself in the
    /// database ([`InDatabase`]); on PostgreSQL it reads through the run's
    /// shared role.
    Readers(&'a ReadingAccounts),
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
    Ok(Database::Sqlite(Polite::new(conn)))
}

/// Only a reading session is opened without the host's own session in the
/// database: every other one hands over or checks objects there.
fn without_the_hosts_session() -> Failure {
    Failure::new("A handler session that may write needs the host's own session in the database")
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
    })?;
    if !privileged.is_empty() {
        return Err(Failure::new(format!(
            "The handler account {user} is not confined to the database"
        ))
        .cause(format!("it holds {}", privileged.join(", ")))
        .help("Give the handler an account without server-wide privileges, or remove handler_connection_string_env to let faber-db create one per run"));
    }
    Ok((database, Confinement::plain("project-account", Some(user))))
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
pub(super) fn new_account(lifetime: Duration) -> (String, String, u64) {
    let expires = unix_now() + (lifetime + ACCOUNT_GRACE).as_secs();
    let account = format!("{ACCOUNT_PREFIX}{expires}_{}", credentials::random_hex(4));
    (account, credentials::random_hex(24), expires)
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}
