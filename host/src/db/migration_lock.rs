//! The lock a migration tool takes on a database, taken by the host on its
//! own session (never the handler's): runs of faber-db, and the tool's own
//! CLI (`prisma migrate deploy` takes the same one), serialize on it. It is
//! a session lock: closing the session releases it, also when the process
//! dies.

use std::time::{Duration, Instant};

use super::{Database, SqlError, Value};

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

/// Takes `lock` on `session`, waiting at most `timeout`; false when it did
/// not come free in time.
pub async fn acquire(
    session: &mut Database,
    lock: &Lock,
    timeout: Duration,
) -> Result<bool, SqlError> {
    match lock {
        Lock::PostgresAdvisory(key) => {
            // Polled rather than waited on, so that the wait has our
            // deadline and not the server's statement timeout.
            let deadline = Instant::now() + timeout;
            let mut pause = Duration::from_millis(20);
            loop {
                let rows = session
                    .query("SELECT pg_try_advisory_lock($1)", &[Value::Integer(*key)])
                    .await?;
                if rows.rows.first().and_then(|row| row.first()) == Some(&Value::Boolean(true)) {
                    return Ok(true);
                }
                let now = Instant::now();
                if now >= deadline {
                    return Ok(false);
                }
                tokio::time::sleep(pause.min(deadline - now)).await;
                pause = (pause * 2).min(Duration::from_millis(250));
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
