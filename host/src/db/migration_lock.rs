//! The lock a migration tool takes on a database: runs of faber-db, and the
//! tool's own CLI (`prisma migrate deploy` takes the same one), serialize on
//! it. Each is tied to a session: closing it releases the lock, also when
//! the process dies.
//!
//! On a server the host takes it on its own session (never the handler's).
//! On SQLite the lock is the file's own, and only the connection that writes
//! can hold it (a second connection of ours would lock the writer out): the
//! handler's session is opened holding it, before it is confined and lent.

use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnection;

use super::{ConnectionString, Database, SqlError, Value, sqlite};
use crate::failure::Failure;

/// A server's migration lock.
pub enum Lock {
    /// `pg_advisory_lock(key)`.
    PostgresAdvisory(i64),
    /// `GET_LOCK(name, timeout)`.
    MysqlNamed(String),
}

impl Lock {
    pub fn describe(&self) -> String {
        match self {
            Lock::PostgresAdvisory(key) => format!("pg_advisory_lock({key})"),
            Lock::MysqlNamed(name) => format!("GET_LOCK('{name}')"),
        }
    }
}

/// A SQLite file's lock as [`open_holding_file`] holds it: exclusive locking
/// mode, then `BEGIN EXCLUSIVE`, so the lock outlives its transaction until
/// the session closes. Prisma's schema engine sets the same mode, and keeps
/// the file from its first read and write on.
pub const SQLITE_FILE: &str = "PRAGMA locking_mode=EXCLUSIVE";

/// Takes a server's `lock` on the host's `session` for a run migrating
/// `database`, waiting at most `timeout`.
pub async fn take(
    session: &mut Database,
    lock: &Lock,
    timeout: Duration,
    database: &str,
) -> Result<(), Failure> {
    let describe = lock.describe();
    match acquire(session, lock, timeout).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(timed_out(&describe, timeout, database)),
        Err(err) => Err(not_taken(&describe, err)),
    }
}

/// False when the lock did not come free within `timeout`.
async fn acquire(session: &mut Database, lock: &Lock, timeout: Duration) -> Result<bool, SqlError> {
    match lock {
        Lock::PostgresAdvisory(key) => {
            // Polled rather than waited on, so that the wait has our
            // deadline and not the server's statement timeout.
            let mut backoff = Backoff::until(Instant::now() + timeout);
            loop {
                let rows = session
                    .query("SELECT pg_try_advisory_lock($1)", &[Value::Integer(*key)])
                    .await?;
                if rows.rows.first().and_then(|row| row.first()) == Some(&Value::Boolean(true)) {
                    return Ok(true);
                }
                if !backoff.wait().await {
                    return Ok(false);
                }
            }
        }
        Lock::MysqlNamed(name) => {
            let rows = session
                .query(
                    "SELECT GET_LOCK(?, ?)",
                    &[
                        Value::Text(name.clone()),
                        Value::Real(timeout.as_secs_f64()),
                    ],
                )
                .await?;
            Ok(rows.rows.first().and_then(|row| row.first()) == Some(&Value::Integer(1)))
        }
    }
}

/// Opens the SQLite file `target` names holding its lock ([`SQLITE_FILE`]),
/// for a run migrating `database`, waiting at most `timeout`. The session is
/// not confined yet: its caller confines it before lending it.
pub async fn open_holding_file(
    target: &ConnectionString,
    timeout: Duration,
    database: &str,
) -> Result<SqliteConnection, Failure> {
    let mut backoff = Backoff::until(Instant::now() + timeout);
    loop {
        match sqlite::open_locked(target).await.map_err(SqlError::from) {
            Ok(conn) => return Ok(conn),
            Err(err) if sqlite::is_busy(&err) => {
                if !backoff.wait().await {
                    return Err(timed_out(SQLITE_FILE, timeout, database).help(
                        "On SQLite any connection with a transaction open on the file holds it off (an application, a database browser): end it, then run the command again",
                    ));
                }
            }
            Err(err) => return Err(not_taken(SQLITE_FILE, err)),
        }
    }
}

fn timed_out(lock: &str, timeout: Duration, database: &str) -> Failure {
    Failure::new(format!(
        "Timed out after {}s waiting for the migration lock {lock}",
        timeout.as_secs_f64()
    ))
    .cause(format!(
        "another faber-db run or the migration tool's own CLI (e.g. prisma migrate deploy) is migrating {database}"
    ))
    .help("Wait for it to finish and run the command again")
    .help("Or wait longer: set migrations.lock_timeout_seconds in the configuration")
}

fn not_taken(lock: &str, err: SqlError) -> Failure {
    Failure::new(format!("Cannot take the migration lock {lock}")).cause(err.message)
}

/// Pauses between attempts, growing to a quarter second, up to a deadline.
struct Backoff {
    deadline: Instant,
    pause: Duration,
}

impl Backoff {
    fn until(deadline: Instant) -> Backoff {
        Backoff {
            deadline,
            pause: Duration::from_millis(20),
        }
    }

    /// Sleeps before the next attempt; false once the deadline has passed.
    async fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.pause.min(self.deadline - now)).await;
        self.pause = (self.pause * 2).min(Duration::from_millis(250));
        true
    }
}
