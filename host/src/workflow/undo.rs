//! The one record of what an `init` run created, kept as it happens, and
//! the cleanup that removes exactly that after a failure: never anything
//! that existed before the run.

use std::path::Path;

use super::migrations::{MigrationsFolder, ProjectLock};
use crate::db::{ConnectionString, HandlerSession, Server};
use crate::failure::Outcome;

#[derive(Default)]
pub(super) struct Undo {
    /// The project lock, held from the first change until cleanup is done.
    pub lock: Option<ProjectLock>,
    /// The database was created by this run: cleanup drops it.
    pub created_database: bool,
    /// The database was resumed or adopted: kept, but what the handler's
    /// account made in it passes to the database's owner role.
    pub resumed_database: bool,
    /// The handler's session while it (or its account) still exists.
    pub handler: Option<HandlerSession>,
    /// The migrations folder, which knows the files this run wrote.
    pub folder: Option<MigrationsFolder>,
}

/// What cleanup did.
pub(super) struct Cleanup {
    /// One line per thing removed (or that could not be), for the report.
    pub done: Vec<String>,
    pub dropped_database: bool,
}

impl Undo {
    /// Takes the project lock unless this run holds it already; true when
    /// another run of the project held it and this one waited.
    pub fn hold_lock(&mut self, dir: &Path) -> Outcome<bool> {
        if self.lock.is_some() {
            return Ok(false);
        }
        let (lock, waited) = ProjectLock::acquire(dir)?;
        self.lock = Some(lock);
        Ok(waited)
    }

    /// Ends the handler's session, drops the database and removes the
    /// account and the files this run created; keeps the lock (released
    /// when the record is dropped, after the run's last word).
    pub async fn run(
        &mut self,
        server: &mut Server,
        target: &ConnectionString,
        name: &str,
    ) -> Cleanup {
        let mut done = Vec::new();
        let mut dropped_database = false;
        // The run's sessions an error path let go of say goodbye first: a
        // database in use cannot be dropped.
        crate::db::settle().await;
        if let Some(session) = self.handler.as_mut() {
            // Before the drop: a database in use cannot be dropped.
            session.disconnect(server).await;
        }
        if self.created_database {
            match server.drop_database(target, name).await {
                Ok(()) => {
                    done.push(format!("dropped database {name} (created by this run)"));
                    dropped_database = true;
                }
                Err(err) => done.push(format!(
                    "could not drop database {name} created by this run: {}; drop it by hand",
                    err.message
                )),
            }
        }
        if let Some(session) = self.handler.take()
            && let Some(account) = session.confinement().ephemeral_account().map(str::to_owned)
        {
            // Where the database is kept, what the account created in it
            // passes to the database's owner role before the account goes.
            let kept = (self.created_database && !dropped_database) || self.resumed_database;
            let mut admin = match kept {
                true => server.open(target, name).await.ok(),
                false => None,
            };
            match session.close(server, admin.as_mut(), None).await {
                Ok(_) => done.push(format!(
                    "removed the handler's database account {account} (created by this run)"
                )),
                Err(failure) => done.push(format!("could not remove {account}: {failure}")),
            }
            if let Some(admin) = admin {
                admin.close().await;
            }
        }
        if let Some(folder) = self.folder.take() {
            done.extend(folder.undo());
        }
        Cleanup {
            done,
            dropped_database,
        }
    }
}
