//! The handler's session as one scope: lent to each call and taken back,
//! then closed once, which checks what the handler left, hands its objects
//! to the database's owner and removes its account(s).

use super::{Account, Confinement};
use crate::db::leftovers::{self, Expect, HandlerObject, Refused, Snapshot};
use crate::db::{ConnectionString, Database, Server};
use crate::failure::{Failure, Outcome};

/// The handler's session from its opening to the removal of its account:
/// the one place that pairs them, for every command that runs a handler.
/// The host lends the connection to each call ([`HandlerSession::lend`])
/// and takes it back; [`HandlerSession::close`] ends it, checks what the
/// handler left against the catalog, hands what it created to the
/// database's owner and removes its account.
pub struct HandlerSession {
    pub(super) database: Option<Database>,
    /// The server's id for the session, to end it when a call lost it
    /// (perhaps mid-statement).
    pub(super) backend: Option<i64>,
    pub(super) confinement: Confinement,
    /// The database's objects before the first call, where it may write.
    pub(super) before: Option<Snapshot>,
    /// The writing session, once the handler's own is kept to its tracking
    /// table's rows ([`HandlerSession::keep_to_rows`]): the host runs the
    /// migrations' scripts on it, the handler never gets it.
    pub(super) writer: Option<Database>,
    pub(super) writer_backend: Option<i64>,
    /// The account of the handler's kept session, removed with it.
    pub(super) keeper: Option<Account>,
    /// On SQLite, the table the one connection's authorizer keeps writes to.
    pub(super) rows_only: Option<&'static std::ffi::CStr>,
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

    /// The writing session back from a call that was granted it. A call
    /// that was not (reading, resolving) gives back `None`, and the session
    /// keeps the one it holds.
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
            let kept = Confinement::reading(keeper);
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
