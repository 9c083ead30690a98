//! Benchmark helper: the physical floor of `init` on PostgreSQL, in process.
//!
//! `sql_floor SERVER_URL DATABASE` sends exactly the SQL an initialization
//! needs, on the fewest connections, and nothing else: the existence check,
//! `CREATE DATABASE`, the tracking table, one row, `SELECT 1`. Its run time,
//! process start included, is what `faber-db init` is compared against.

use sqlx::{AssertSqlSafe, Connection, PgConnection};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let server = args.next().expect("usage: sql_floor SERVER_URL DATABASE");
    let database = args.next().expect("usage: sql_floor SERVER_URL DATABASE");
    let mut admin = PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("connect");
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&database)
        .fetch_optional(&mut admin)
        .await
        .expect("existence check");
    assert!(exists.is_none(), "{database} exists already");
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{database}\"")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let mut target = PgConnection::connect(&format!("{server}/{database}"))
        .await
        .expect("connect");
    sqlx::raw_sql(
        "CREATE TABLE \"_prisma_migrations\" (\"id\" VARCHAR(36) PRIMARY KEY NOT NULL, \"checksum\" VARCHAR(64) NOT NULL, \
         \"finished_at\" TIMESTAMPTZ, \"migration_name\" VARCHAR(255) NOT NULL, \"logs\" TEXT, \"rolled_back_at\" TIMESTAMPTZ, \
         \"started_at\" TIMESTAMPTZ NOT NULL DEFAULT now(), \"applied_steps_count\" INTEGER NOT NULL DEFAULT 0)",
    )
    .execute(&mut target)
    .await
    .expect("tracking table");
    sqlx::query(
        "INSERT INTO \"_prisma_migrations\" (id, checksum, migration_name, finished_at, applied_steps_count) \
         VALUES ($1, $2, $3, now(), 1)",
    )
    .bind("00000000-0000-4000-8000-000000000000")
    .bind("0".repeat(64))
    .bind("20260101000000_init")
    .execute(&mut target)
    .await
    .expect("row");
    sqlx::query("SELECT 1")
        .execute(&mut target)
        .await
        .expect("select 1");
    let _ = target.close().await;
    let _ = admin.close().await;
}
