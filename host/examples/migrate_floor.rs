//! Benchmark helper: what `migrate` costs on PostgreSQL without faber-db
//! around it, in one minimal in-process program. Its run time, process start
//! included, is what `faber-db migrate` is compared against.
//!
//! `migrate_floor DATABASE_URL MIGRATIONS_DIR` applies the folder's pending
//! Prisma migrations to a database that has `_prisma_migrations` already,
//! with Prisma's lock and Prisma's bookkeeping and nothing else: the lock,
//! the history read once, each file read and checksummed, then per
//! migration the row inserted as started, the script, the step counted and
//! the row finished.
//!
//! `migrate_floor --fleet URLS_FILE MIGRATIONS_DIR CONCURRENCY` does the
//! same to every database the file lists (one URL per line), CONCURRENCY at
//! a time: the floor of a fleet `migrate`.

use std::path::Path;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: migrate_floor DATABASE_URL MIGRATIONS_DIR | migrate_floor --fleet URLS_FILE MIGRATIONS_DIR CONCURRENCY";
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["--fleet", urls, dir, concurrency] => {
            let urls = std::fs::read_to_string(urls).expect("URLs file");
            let concurrency: usize = concurrency.parse().expect(usage);
            futures_util::stream::iter(urls.lines().filter(|url| !url.trim().is_empty()))
                .map(|url| migrate(url, dir))
                .buffer_unordered(concurrency)
                .collect::<Vec<()>>()
                .await;
        }
        [url, dir] => migrate(url, dir).await,
        _ => panic!("{usage}"),
    }
}

async fn migrate(url: &str, dir: &str) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query("SELECT pg_advisory_lock(72707369)")
        .execute(&mut conn)
        .await
        .expect("lock");
    let applied: Vec<String> = sqlx::query_scalar(
        "SELECT migration_name FROM _prisma_migrations WHERE rolled_back_at IS NULL",
    )
    .fetch_all(&mut conn)
    .await
    .expect("history");
    let pending = folder(Path::new(dir))
        .into_iter()
        .filter(|(name, _)| !applied.contains(name));
    for (id, (name, script)) in pending.enumerate() {
        let id = format!("00000000-0000-4000-8000-{id:012x}");
        let checksum = format!("{:x}", Sha256::digest(script.as_bytes()));
        sqlx::query(
            "INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name) \
             VALUES ($1, $2, now(), $3)",
        )
        .bind(&id)
        .bind(&checksum)
        .bind(&name)
        .execute(&mut conn)
        .await
        .expect("record started");
        sqlx::raw_sql(AssertSqlSafe(script))
            .execute(&mut conn)
            .await
            .expect("script");
        for finish in [
            "UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1 WHERE id = $1",
            "UPDATE _prisma_migrations SET finished_at = now() WHERE id = $1",
        ] {
            sqlx::query(finish)
                .bind(&id)
                .execute(&mut conn)
                .await
                .expect("record finished");
        }
    }
    sqlx::query("SELECT pg_advisory_unlock(72707369)")
        .execute(&mut conn)
        .await
        .expect("unlock");
    let _ = conn.close().await;
}

/// The folder's migrations, oldest first: `(name, script)`.
fn folder(dir: &Path) -> Vec<(String, String)> {
    let mut migrations: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("migrations folder")
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let script = std::fs::read_to_string(entry.path().join("migration.sql")).ok()?;
            Some((entry.file_name().into_string().ok()?, script))
        })
        .collect();
    migrations.sort();
    migrations
}
