//! One reading account per PostgreSQL server for a whole `status` run,
//! where a role made and removed per environment would cost its creation
//! and removal on every database read (a fleet's thousands among them).
//!
//! The role is made once, on the first environment's session; each
//! database it reads is granted to it on that database's own session, in
//! one transaction with the check that it could create nothing there, and
//! revoked there once the last reading of that database ends. The run
//! removes the role when every environment is read
//! ([`ReadingAccounts::remove`]), on a session one of them left behind
//! ([`ReadingAccounts::park`]). A role near its expiry is retired for a
//! new one, so a long fleet's reads never log in as one a sweep may take.
//!
//! Only on PostgreSQL: a session there is bound to the database it logged
//! in to, so the role's grants on other databases reach nothing from it.
//! A MySQL session can read any database its account is granted (`USE`,
//! or a qualified name), so there each reading keeps an account of its own.
//! What the sharing does allow: the run's handler, in one environment's
//! call, sees the role's other sessions in `pg_stat_activity` and may end
//! them, which are that same handler's calls in the same run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::accounts::{new_account, unix_now};
use crate::db::{ConnectionString, Server, SqlError, postgres};

/// How long before its expiry a shared role stops being handed out: a
/// call that logs in as it then ends before a sweep may remove it.
const RETIRE_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// The run's shared reading roles, one per server (and login).
pub struct ReadingAccounts {
    /// Each role's connection limit: twice the sessions the run may hold
    /// at once, as a closed session's server process may count a moment
    /// longer.
    connections: usize,
    servers: Mutex<HashMap<String, Arc<Mutex<ServerRoles>>>>,
}

/// One server's shared roles, and what has been granted to them.
#[derive(Default)]
struct ServerRoles {
    /// Where the roles were made, to remove them.
    target: Option<ConnectionString>,
    current: Option<SharedRole>,
    /// Roles retired near their expiry, removed with the current one.
    retired: Vec<String>,
    /// Readings in progress per (role, database): the grant is made by the
    /// first and revoked by the last, so two environments on one database
    /// never revoke each other's. Each count is locked on its own, so
    /// databases are granted and revoked side by side.
    readings: HashMap<(String, String), Arc<Mutex<usize>>>,
    /// A session left by a finished environment, to remove the roles on.
    parked: Option<Server>,
}

#[derive(Clone)]
struct SharedRole {
    name: String,
    password: String,
    expires: u64,
}

impl SharedRole {
    /// Whether a call of `lifetime` that logs in as the role at `now` ends
    /// well before the role expires.
    fn outlasts(&self, lifetime: Duration, now: u64) -> bool {
        self.expires > now + (lifetime + RETIRE_BEFORE_EXPIRY).as_secs()
    }
}

/// A database granted to a shared role, released when its session closes
/// ([`SharedGrant::release`]).
#[derive(Clone)]
pub struct SharedGrant {
    roles: Arc<Mutex<ServerRoles>>,
    role: String,
    database: String,
}

impl std::fmt::Debug for SharedGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedGrant({} on {})", self.role, self.database)
    }
}

impl ReadingAccounts {
    /// For a run that holds at most `at_once` reading sessions at a time.
    pub fn new(at_once: usize) -> ReadingAccounts {
        ReadingAccounts {
            connections: 2 * at_once.max(1),
            servers: Mutex::new(HashMap::new()),
        }
    }

    /// The server's shared role (made where there is none yet, or a new
    /// one where it nears its expiry), granted database `name`; `admin` is
    /// a session in `name`. Returns the grant and the role's password.
    /// Other readings wait only while the role is made, and those of the
    /// same database while it is granted.
    pub(super) async fn grant(
        &self,
        admin: &mut sqlx::PgConnection,
        target: &ConnectionString,
        name: &str,
        lifetime: Duration,
    ) -> Result<(SharedGrant, String), SqlError> {
        let roles = self
            .servers
            .lock()
            .await
            .entry(server_key(target))
            .or_default()
            .clone();
        let (role, readings) = {
            let mut server = roles.lock().await;
            let role = self
                .current_role(&mut server, admin, target, lifetime)
                .await?;
            let key = (role.name.clone(), name.to_owned());
            (role, server.readings.entry(key).or_default().clone())
        };
        let mut readings = readings.lock().await;
        if *readings == 0 {
            postgres::grant_reading(admin, &role.name, name).await?;
        }
        *readings += 1;
        let grant = SharedGrant {
            roles,
            role: role.name,
            database: name.to_owned(),
        };
        Ok((grant, role.password))
    }

    /// The role to hand out now: the current one, or a new one made on
    /// `admin` where there is none or it nears its expiry.
    async fn current_role(
        &self,
        server: &mut ServerRoles,
        admin: &mut sqlx::PgConnection,
        target: &ConnectionString,
        lifetime: Duration,
    ) -> Result<SharedRole, SqlError> {
        match &server.current {
            Some(role) if role.outlasts(lifetime, unix_now()) => Ok(role.clone()),
            _ => {
                let (account, password, expires) = new_account(lifetime);
                postgres::create_shared_reader(
                    admin,
                    &account,
                    &password,
                    expires,
                    self.connections,
                )
                .await?;
                let role = SharedRole {
                    name: account,
                    password,
                    expires,
                };
                if let Some(old) = server.current.replace(role.clone()) {
                    server.retired.push(old.name);
                }
                server.target.get_or_insert_with(|| target.clone());
                Ok(role)
            }
        }
    }

    /// Keeps `server` (a finished environment's session) to remove the
    /// roles made at `target` on, where none is kept yet; else closes it.
    pub async fn park(&self, target: &ConnectionString, server: Server) {
        let known = self.servers.lock().await.get(&server_key(target)).cloned();
        if let Some(roles) = known {
            let mut roles = roles.lock().await;
            if roles.current.is_some() && roles.parked.is_none() {
                roles.parked = Some(server);
                return;
            }
        }
        server.close().await;
    }

    /// Removes every role the run made, ending any session they still
    /// have; returns those that could not be (a sweep removes them once
    /// they expire).
    pub async fn remove(&self) -> Vec<(String, SqlError)> {
        let mut failed = Vec::new();
        let servers = std::mem::take(&mut *self.servers.lock().await);
        for roles in servers.into_values() {
            let mut roles = roles.lock().await;
            let mut names = std::mem::take(&mut roles.retired);
            names.extend(roles.current.take().map(|role| role.name));
            let Some(target) = roles.target.take().filter(|_| !names.is_empty()) else {
                continue;
            };
            let session = match roles.parked.take() {
                Some(session) => Ok(session),
                None => Server::login(&target).await.map_err(SqlError::from),
            };
            let mut session = match session {
                Ok(session) => session,
                Err(err) => {
                    failed.extend(names.into_iter().map(|name| (name, err.clone())));
                    continue;
                }
            };
            if let Server::Postgres(conn) = &mut session {
                for name in names {
                    if let Err(err) = postgres::remove_account(conn, None, &name, None).await {
                        failed.push((name, err));
                    }
                }
            }
            session.close().await;
        }
        failed
    }
}

impl SharedGrant {
    pub fn role(&self) -> &str {
        &self.role
    }

    /// Ends one reading of the database: the last revokes the role's
    /// grants there, on `admin`, a session in that database.
    pub(super) async fn release(&self, admin: &mut sqlx::PgConnection) -> Result<(), SqlError> {
        let key = (self.role.clone(), self.database.clone());
        let Some(readings) = self.roles.lock().await.readings.get(&key).cloned() else {
            return Ok(());
        };
        let mut readings = readings.lock().await;
        *readings = readings.saturating_sub(1);
        if *readings > 0 {
            return Ok(());
        }
        postgres::revoke_reading(admin, &self.role, &self.database).await
    }
}

/// The server and login a target reaches, whatever its database.
fn server_key(target: &ConnectionString) -> String {
    match target {
        ConnectionString::Server { url, .. } => {
            let mut server = url.clone();
            server.set_path("");
            server.set_query(None);
            server.to_string()
        }
        ConnectionString::File { dir, .. } => dir.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_role_is_retired_before_a_call_could_outlive_it() {
        let lifetime = Duration::from_secs(30);
        let (name, password, expires) = new_account(lifetime);
        let role = SharedRole {
            name,
            password,
            expires,
        };
        let now = unix_now();
        assert!(role.outlasts(lifetime, now));
        let last = expires - (lifetime + RETIRE_BEFORE_EXPIRY).as_secs() - 1;
        assert!(role.outlasts(lifetime, last));
        assert!(!role.outlasts(lifetime, last + 1));
        assert!(!role.outlasts(lifetime, expires));
    }
}
