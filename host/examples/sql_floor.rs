//! Benchmark helper: what `init` costs on PostgreSQL without faber-db around
//! it, in one minimal in-process program. Its run time, process start
//! included, is what `faber-db init` is compared against.
//!
//! `sql_floor SERVER_URL DATABASE` is the minimal floor: the existence check,
//! `CREATE DATABASE`, the tracking table, one row, `SELECT 1`, on the fewest
//! connections.
//!
//! `sql_floor SERVER_URL DATABASE --equal-work` sends every statement and
//! opens every connection `init` does, in the same order, and writes the same
//! two migration files: the in-progress marker, the handler's own account
//! and its session, the tracking table and row in a transaction, the files
//! synced, the account's objects handed over and the account dropped, the
//! tracking table read back, the connectivity and health checks (a
//! rolled-back transaction), the marker dropped. What `init` costs beyond it is faber-db itself: the
//! process, the configuration, the component, the checks of the handler's
//! claims.

use sqlx::{AssertSqlSafe, Connection, PgConnection};

const TRACKING_TABLE: &str = "CREATE TABLE \"_prisma_migrations\" (\"id\" VARCHAR(36) PRIMARY KEY NOT NULL, \"checksum\" VARCHAR(64) NOT NULL, \
     \"finished_at\" TIMESTAMPTZ, \"migration_name\" VARCHAR(255) NOT NULL, \"logs\" TEXT, \"rolled_back_at\" TIMESTAMPTZ, \
     \"started_at\" TIMESTAMPTZ NOT NULL DEFAULT now(), \"applied_steps_count\" INTEGER NOT NULL DEFAULT 0)";

const ROW: &str = "INSERT INTO \"_prisma_migrations\" (id, checksum, migration_name, finished_at, applied_steps_count) \
     VALUES ($1, $2, $3, now(), 1)";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: sql_floor SERVER_URL DATABASE [--equal-work]";
    let server = args.next().expect(usage);
    let database = args.next().expect(usage);
    let equal_work = args.next().as_deref() == Some("--equal-work");

    let mut admin = connect(&format!("{server}/postgres")).await;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&database)
        .fetch_optional(&mut admin)
        .await
        .expect("existence check");
    assert!(exists.is_none(), "{database} exists already");
    run(&mut admin, &format!("CREATE DATABASE \"{database}\"")).await;
    let mut target = connect(&format!("{server}/{database}")).await;
    if equal_work {
        equal_work_init(&server, &database, &mut admin, &mut target).await;
    } else {
        run(&mut target, TRACKING_TABLE).await;
        row(&mut target).await;
        run(&mut target, "SELECT 1").await;
    }
    let _ = target.close().await;
    let _ = admin.close().await;
}

async fn equal_work_init(
    server: &str,
    database: &str,
    admin: &mut PgConnection,
    target: &mut PgConnection,
) {
    let role = format!("fdb_floor_{}", std::process::id());
    run(
        target,
        "CREATE TABLE IF NOT EXISTS \"_faber_db_in_progress\" (pid INTEGER)",
    )
    .await;
    run(
        admin,
        "SELECT rolname FROM pg_roles WHERE rolname LIKE 'fdb\\_h\\_%'",
    )
    .await;
    run(
        target,
        &format!(
            "SET LOCAL synchronous_commit = off; CREATE ROLE {role} LOGIN CONNECTION LIMIT 1; \
             GRANT {role} TO CURRENT_USER; GRANT CONNECT, CREATE, TEMPORARY ON DATABASE \"{database}\" TO {role}; \
             GRANT USAGE, CREATE ON SCHEMA public TO {role}"
        ),
    )
    .await;
    let login = server.replacen("://postgres@", &format!("://{role}@"), 1);
    let mut handler = connect(&format!("{login}/{database}")).await;
    run(&mut handler, "SELECT pg_backend_pid()").await;
    sqlx::query(
        "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1",
    )
    .bind("_prisma_migrations")
    .fetch_optional(&mut handler)
    .await
    .expect("table exists");
    run(&mut handler, TRACKING_TABLE).await;
    let files = tempfile::tempdir().expect("a folder for the migration files");
    std::fs::write(
        files.path().join("migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .expect("lock file");
    std::fs::create_dir(files.path().join("20260101000000_init")).expect("migration folder");
    std::fs::write(
        files.path().join("20260101000000_init/migration.sql"),
        "-- baseline\n",
    )
    .expect("migration file");
    run(&mut handler, "BEGIN").await;
    row(&mut handler).await;
    run(&mut handler, "COMMIT").await;
    let _ = handler.close().await;
    for written in [
        "migration_lock.toml",
        "20260101000000_init/migration.sql",
        "20260101000000_init",
        "",
    ] {
        std::fs::File::open(files.path().join(written))
            .and_then(|file| file.sync_all())
            .expect("sync");
    }
    run(
        target,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'; \
             SET LOCAL synchronous_commit = off; REASSIGN OWNED BY {role} TO CURRENT_USER; \
             DROP OWNED BY {role}; DROP ROLE {role}"
        ),
    )
    .await;
    run(target, "SELECT * FROM \"_prisma_migrations\"").await;
    run(target, "SELECT 1").await;
    run(target, "SELECT COUNT(*) FROM \"_prisma_migrations\"").await;
    run(target, "SELECT 1").await;
    run(target, "SELECT COUNT(*) FROM \"_prisma_migrations\"").await;
    run(
        target,
        "BEGIN; CREATE TABLE _health (probe INTEGER); INSERT INTO _health VALUES (42); \
         SELECT probe FROM _health; DROP TABLE _health; ROLLBACK",
    )
    .await;
    run(admin, "SELECT current_setting('data_directory')").await;
    run(
        target,
        "SET LOCAL synchronous_commit = off; DROP TABLE \"_faber_db_in_progress\"",
    )
    .await;
}

/// Without TLS, as `init` reaches a server on this machine.
async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(&format!("{url}?sslmode=disable"))
        .await
        .expect("connect")
}

async fn run(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
}

async fn row(conn: &mut PgConnection) {
    sqlx::query(ROW)
        .bind("00000000-0000-4000-8000-000000000000")
        .bind("0".repeat(64))
        .bind("20260101000000_init")
        .execute(conn)
        .await
        .expect("row");
}
