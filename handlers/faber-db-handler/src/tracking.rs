//! Recording migrations: the folder `initialize-schema` settles and the
//! outcome it reports, the transaction around a migration and its record,
//! and the row a tool without times reports.

use crate::log::{Level, log};
use crate::migration_tool::{InitializeOutcome, MigrationLock, TrackingRow};
use crate::sql::execute;
use crate::types::{HandlerError, Provider};

/// The lock a tool takes, for `migration-lock-for`: PostgreSQL's advisory
/// lock `postgres_key`, MySQL's named lock `mysql_name`, nothing beyond the
/// database's own on SQLite. The host takes it on its own session.
pub fn tool_lock(provider: Provider, postgres_key: i64, mysql_name: &str) -> MigrationLock {
    match provider {
        Provider::Postgresql => MigrationLock::PostgresAdvisory(postgres_key),
        Provider::Mysql => MigrationLock::MysqlNamed(mysql_name.to_string()),
        Provider::Sqlite => MigrationLock::None,
    }
}

/// Runs `work` between `BEGIN` and `COMMIT`, or `ROLLBACK` when it fails:
/// a migration is then never recorded without its SQL having run. (MySQL
/// commits DDL implicitly; there a failure after DDL leaves the DDL in
/// place, as it would under the tool itself.) A failed rollback is logged
/// next to `work`'s error, which is the one the user must act on.
pub fn in_transaction<T>(
    what: &str,
    work: impl FnOnce() -> Result<T, HandlerError>,
) -> Result<T, HandlerError> {
    execute("BEGIN", &[]).map_err(HandlerError::Sql)?;
    match work() {
        Ok(value) => {
            execute("COMMIT", &[]).map_err(HandlerError::Sql)?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = execute("ROLLBACK", &[]) {
                log(
                    Level::Warn,
                    &format!("rolling back {what} failed too: {}", rollback.message),
                );
            }
            Err(error)
        }
    }
}

/// The row of a tool that records a migration only once it finished and
/// keeps no times (dbmate): one applied step and nothing else, which the
/// host reads as applied.
pub fn untimed_applied_row(name: String) -> TrackingRow {
    TrackingRow {
        name,
        checksum: None,
        started_at: None,
        finished_at: None,
        rolled_back_at: None,
        logs: None,
        applied_steps_count: 1,
    }
}

/// The migrations folder once it holds at least one migration, as
/// `initialize-schema` reports it. `M` is the handler's own idea of a
/// migration (a name, or a parsed file name).
pub struct Baselined<M> {
    /// Oldest first; the first is the baseline.
    migrations: Vec<M>,
    baseline_created: bool,
    files_written: Vec<String>,
}

impl<M> Baselined<M> {
    /// The folder's migrations as found (oldest first) and the files this
    /// call wrote so far; when there are none, `write_baseline` writes one
    /// and returns it with the file it wrote.
    pub fn new(
        found: Vec<M>,
        mut files_written: Vec<String>,
        write_baseline: impl FnOnce() -> Result<(M, String), HandlerError>,
    ) -> Result<Self, HandlerError> {
        let mut migrations = found;
        let baseline_created = migrations.is_empty();
        if baseline_created {
            let (baseline, file) = write_baseline()?;
            migrations.push(baseline);
            files_written.push(file);
        }
        Ok(Self {
            migrations,
            baseline_created,
            files_written,
        })
    }

    /// The oldest migration.
    pub fn baseline(&self) -> &M {
        // Never empty: `new` writes a baseline into an empty folder.
        &self.migrations[0]
    }

    /// What `initialize-schema` reports: migrations are named by `name`,
    /// and those `is_applied` does not hold now are pending; `next_steps`
    /// is given their count.
    pub fn outcome(
        self,
        tracking_table: String,
        tracking_table_created: bool,
        applied: Vec<String>,
        name: impl Fn(&M) -> String,
        is_applied: impl Fn(&M) -> bool,
        next_steps: impl FnOnce(usize) -> Vec<String>,
    ) -> InitializeOutcome {
        let pending: Vec<String> = self
            .migrations
            .iter()
            .filter(|m| !is_applied(m))
            .map(&name)
            .collect();
        InitializeOutcome {
            tracking_table,
            tracking_table_created,
            baseline_migration: name(self.baseline()),
            baseline_created: self.baseline_created,
            applied,
            next_steps: next_steps(pending.len()),
            pending,
            files_written: self.files_written,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_folder_gets_a_baseline() {
        let folder = Baselined::new(vec![], vec!["lock.toml".to_string()], || {
            Ok(("1_init".to_string(), "1_init.sql".to_string()))
        })
        .unwrap();
        let outcome = folder.outcome(
            "t".to_string(),
            true,
            vec!["1_init".to_string()],
            String::clone,
            |m| m == "1_init",
            |pending| vec![format!("{pending} pending")],
        );
        assert_eq!(outcome.baseline_migration, "1_init");
        assert!(outcome.baseline_created);
        assert_eq!(outcome.files_written, ["lock.toml", "1_init.sql"]);
        assert_eq!(outcome.pending, Vec::<String>::new());
        assert_eq!(outcome.next_steps, ["0 pending"]);
    }

    #[test]
    fn a_folder_with_migrations_keeps_them_and_reports_the_pending() {
        let found = vec!["1_a".to_string(), "2_b".to_string()];
        let folder = Baselined::new(found, vec![], || unreachable!("not empty")).unwrap();
        assert_eq!(folder.baseline(), "1_a");
        let outcome = folder.outcome(
            "t".to_string(),
            false,
            vec![],
            String::clone,
            |m| m == "1_a",
            |pending| vec![pending.to_string()],
        );
        assert!(!outcome.baseline_created);
        assert_eq!(outcome.pending, ["2_b"]);
        assert_eq!(outcome.next_steps, ["1"]);
    }
}
