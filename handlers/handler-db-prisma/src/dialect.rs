//! The SQL Prisma Migrate uses on each provider. The DDL is Prisma's own, text
//! for text, because Prisma inspects the table and must find what it expects.

use faber_db_handler::dialect::placeholder;
use faber_db_handler::types::Provider;

/// Prisma hard-codes this name; it cannot be configured.
pub const TRACKING_TABLE: &str = "_prisma_migrations";

/// Names of the migrations Prisma considers applied. The table name needs no
/// quoting on any provider, so one statement serves all three.
pub const APPLIED_MIGRATIONS: &str = "SELECT migration_name FROM _prisma_migrations \
     WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL";

/// The provider's name as Prisma spells it in `migration_lock.toml`.
pub fn prisma_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Postgresql => "postgresql",
        Provider::Mysql => "mysql",
        Provider::Sqlite => "sqlite",
    }
}

pub fn create_tracking_table(provider: Provider) -> &'static str {
    match provider {
        Provider::Postgresql => {
            r#"CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)"#
        }
        Provider::Mysql => {
            "CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at DATETIME(3), migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at DATETIME(3), started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        }
        Provider::Sqlite => {
            r#"CREATE TABLE "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME, "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME, "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)"#
        }
    }
}

/// Records one finished migration; parameters: id, checksum, migration_name.
/// Times come from the database's clock, as they do when Prisma applies one.
pub fn record_applied(provider: Provider) -> String {
    format!(
        "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, rolled_back_at, \
         started_at, finished_at, applied_steps_count) \
         VALUES ({}, {}, {}, NULL, NULL, {now}, {now}, 1)",
        placeholder(provider, 1),
        placeholder(provider, 2),
        placeholder(provider, 3),
        now = now(provider)
    )
}

/// Prisma's advisory lock key on PostgreSQL (`pg_advisory_lock(72707369)`).
pub const POSTGRES_LOCK_KEY: i64 = 72_707_369;
/// Prisma's named lock on MySQL (`GET_LOCK('prisma_migrate', …)`).
pub const MYSQL_LOCK_NAME: &str = "prisma_migrate";

/// The database's clock as the tracking table stores it, in UTC: Prisma
/// writes UTC times (its own clock; the database's here, which every
/// writer shares). On SQLite Prisma's schema engine binds the time as an
/// integer, milliseconds since the epoch (quaint's conversion of a
/// `DateTime` for rusqlite), so rows either tool writes look the same;
/// `'now'` is one instant within a statement, so its seconds and
/// milliseconds agree.
pub fn now(provider: Provider) -> &'static str {
    match provider {
        Provider::Postgresql => "now()",
        Provider::Mysql => "UTC_TIMESTAMP(3)",
        Provider::Sqlite => {
            "(CAST(strftime('%s', 'now') AS INTEGER) * 1000 \
             + CAST(substr(strftime('%f', 'now'), 4) AS INTEGER))"
        }
    }
}

/// Every column of a row, in the order `history` reads them.
const SELECT_ROWS: &str = "SELECT id, checksum, finished_at, migration_name, logs, \
     rolled_back_at, started_at, applied_steps_count FROM _prisma_migrations";

/// The order Prisma lists rows in: `started_at`, oldest first. A SQLite
/// table may hold both integer milliseconds (Prisma's engine, faber-db)
/// and text (Prisma's driver adapters, older faber-db), and SQLite sorts
/// every integer before any text: text times are compared as milliseconds.
fn in_order(provider: Provider) -> &'static str {
    match provider {
        Provider::Postgresql | Provider::Mysql => "ORDER BY started_at ASC",
        Provider::Sqlite => {
            "ORDER BY CASE typeof(started_at) WHEN 'text' \
             THEN CAST(round((julianday(started_at) - 2440587.5) * 86400000) AS INTEGER) \
             ELSE started_at END ASC"
        }
    }
}

/// Every row, in Prisma's order.
pub fn all_rows(provider: Provider) -> String {
    format!("{SELECT_ROWS} {}", in_order(provider))
}

/// The rows `condition` keeps (its parameters start at 1), in Prisma's
/// order: one migration's rows are read without reading the whole
/// history, which grows with every migration.
pub fn rows_where(provider: Provider, condition: &str) -> String {
    format!("{SELECT_ROWS} WHERE {condition} {}", in_order(provider))
}

/// A query returning a row for each table of the database (or schema) the
/// connection uses that Prisma does not ignore: a database with one refuses
/// `migrate deploy` until it is baselined (P3005).
pub fn user_tables(provider: Provider) -> &'static str {
    match provider {
        Provider::Postgresql => {
            "SELECT tablename FROM pg_catalog.pg_tables              WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'"
        }
        Provider::Mysql => {
            "SELECT table_name FROM information_schema.tables              WHERE table_schema = DATABASE() AND table_name <> '_prisma_migrations'"
        }
        Provider::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table'              AND name <> '_prisma_migrations' AND name NOT LIKE 'sqlite_%'"
        }
    }
}

/// A migration's script failed (parameters: logs, id).
pub fn record_failed(provider: Provider) -> String {
    format!(
        "UPDATE _prisma_migrations SET logs = {} WHERE id = {}",
        placeholder(provider, 1),
        placeholder(provider, 2)
    )
}

/// `migrate resolve --applied` (parameters: id, checksum, migration_name):
/// started and finished at one moment, empty logs, no step counted.
pub fn record_marked_applied(provider: Provider) -> String {
    format!(
        "INSERT INTO _prisma_migrations (id, checksum, logs, started_at, finished_at, migration_name) \
         VALUES ({}, {}, '', {now}, {now}, {})",
        placeholder(provider, 1),
        placeholder(provider, 2),
        placeholder(provider, 3),
        now = now(provider)
    )
}

/// `migrate resolve --rolled-back`, and the failed rows `--applied`
/// supersedes (parameter: id).
pub fn record_rolled_back(provider: Provider) -> String {
    format!(
        "UPDATE _prisma_migrations SET rolled_back_at = {} WHERE id = {}",
        now(provider),
        placeholder(provider, 1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Provider; 3] = [Provider::Postgresql, Provider::Mysql, Provider::Sqlite];
    const COLUMNS: [&str; 8] = [
        "id",
        "checksum",
        "finished_at",
        "migration_name",
        "logs",
        "rolled_back_at",
        "started_at",
        "applied_steps_count",
    ];

    /// The parameter markers a statement uses, in order.
    fn placeholders(statement: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut chars = statement.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '?' => found.push("?".to_string()),
                '$' => {
                    let mut marker = "$".to_string();
                    while let Some(digit) = chars.next_if(char::is_ascii_digit) {
                        marker.push(digit);
                    }
                    found.push(marker);
                }
                _ => {}
            }
        }
        found
    }

    #[test]
    fn parameters_use_each_providers_markers() {
        assert_eq!(
            placeholders(&record_applied(Provider::Postgresql)),
            ["$1", "$2", "$3"]
        );
        for provider in [Provider::Mysql, Provider::Sqlite] {
            assert_eq!(placeholders(&record_applied(provider)), ["?", "?", "?"]);
        }
        assert!(placeholders(APPLIED_MIGRATIONS).is_empty());
    }

    #[test]
    fn tracking_table_has_prismas_columns_in_order() {
        for provider in ALL {
            let ddl = create_tracking_table(provider).replace('"', "");
            let mut from = 0;
            for column in COLUMNS {
                let at = ddl[from..]
                    .find(&format!("{column} "))
                    .unwrap_or_else(|| panic!("{column} missing or out of order in {ddl}"));
                from += at + column.len();
            }
            assert!(ddl.starts_with(&format!("CREATE TABLE {TRACKING_TABLE} (")));
        }
    }

    #[test]
    fn mysql_table_is_utf8mb4_like_prismas() {
        assert!(
            create_tracking_table(Provider::Mysql)
                .ends_with("DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        );
    }

    #[test]
    fn lock_file_names() {
        let names: Vec<_> = ALL.into_iter().map(prisma_name).collect();
        assert_eq!(names, ["postgresql", "mysql", "sqlite"]);
    }
}
