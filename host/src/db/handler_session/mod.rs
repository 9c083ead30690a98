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

mod accounts;
mod scope;
mod shared;

use std::time::Duration;

use serde::Serialize;

use super::ConnectionString;

pub use scope::{Check, HandlerSession};
pub use shared::ReadingAccounts;

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
    made: Made,
}

/// What the host made for the call, to undo when the session ends.
#[derive(Debug, Clone, Default)]
enum Made {
    /// Nothing: the session is the project's account, the connection's own
    /// or a SQLite file's.
    #[default]
    Nothing,
    /// An account of the call's own, removed.
    Account(Account),
    /// The run's shared reading role's grant in the database, released
    /// (the role kept for the run's other readings).
    SharedGrant(shared::SharedGrant),
}

/// The kind of a confinement whose account may only read.
const READ_ONLY_ACCOUNT: &str = "read-only-account";

/// A server account; its host part matters on MySQL only.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub host: String,
}

impl Account {
    /// A PostgreSQL role, which has no host part.
    fn role(name: String) -> Account {
        Account {
            name,
            host: String::new(),
        }
    }
}

impl Confinement {
    /// The account the host made for the call, which it must remove.
    pub fn ephemeral_account(&self) -> Option<&str> {
        match &self.made {
            Made::Account(account) => Some(&account.name),
            _ => None,
        }
    }

    fn plain(kind: &'static str, account: Option<String>) -> Confinement {
        Confinement {
            kind,
            account,
            owner: None,
            rows_of: None,
            warning: None,
            made: Made::Nothing,
        }
    }

    /// A session as an account made for the call, removed after it.
    fn made(kind: &'static str, account: Account) -> Confinement {
        Confinement {
            made: Made::Account(account.clone()),
            ..Confinement::plain(kind, Some(account.name))
        }
    }

    /// An account made for the call that may only read and owns nothing.
    fn reading(account: Account) -> Confinement {
        Confinement::made(READ_ONLY_ACCOUNT, account)
    }

    /// A reading through the run's shared role, granted the database.
    fn shared_reading(grant: shared::SharedGrant) -> Confinement {
        Confinement {
            made: Made::SharedGrant(grant.clone()),
            ..Confinement::plain(READ_ONLY_ACCOUNT, Some(grant.role().to_owned()))
        }
    }

    fn unconfined(warning: String) -> Confinement {
        Confinement {
            kind: "connection-privileges",
            account: None,
            owner: None,
            rows_of: None,
            warning: Some(warning),
            made: Made::Nothing,
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
