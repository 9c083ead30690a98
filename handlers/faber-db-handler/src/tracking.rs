//! Recording migrations: the folder `initialize-schema` settles and the
//! outcome it reports, the transaction around a migration and its record,
//! the loop of `apply-migrations`, and the row a tool without times reports.

use crate::log::{Level, log};
use crate::migration_tool::{
    ApplyFailure, InitializeOutcome, MigrationLock, Resolution, TrackingRow,
};
use crate::sql::execute;
use crate::types::{HandlerError, Provider, SqlError};

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
/// a migration that `initialize-schema` applies with `sql` is then never
/// recorded without its SQL having run. (MySQL commits DDL implicitly;
/// there a failure after DDL leaves the DDL in place, as it would under the
/// tool itself.) A failed rollback is logged next to `work`'s error, which
/// is the one the user must act on.
///
/// Not for `apply-migrations`: [`crate::migration_script::run`] runs a
/// migration on the host's session, in a transaction of its own when asked,
/// so a transaction held open on `sql` around it cannot include it and
/// would only stand in its way. There, run the script first and record it
/// after (see [`apply_each`]).
pub fn in_transaction<T>(
    what: &str,
    work: impl FnOnce() -> Result<T, HandlerError>,
) -> Result<T, HandlerError> {
    execute("BEGIN", &[])?;
    match work() {
        Ok(value) => {
            execute("COMMIT", &[])?;
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

/// Why applying one migration of an `apply-migrations` call stopped (see
/// [`apply_each`]). A [`HandlerError`] or a bookkeeping statement's
/// [`SqlError`] converts into `Other` with `?`.
#[derive(Debug)]
pub enum MigrationFailure {
    /// The migration's own SQL failed ([`crate::migration_script::run`]),
    /// and its failure is recorded as the tool records it (or the tool
    /// records none, as dbmate): the call reports the migration as
    /// `failed`. Give the script's error, as `HandlerError::Sql`.
    Script(HandlerError),
    /// Anything outside the migration's SQL: a check that refuses it
    /// (already applied, an earlier failure to resolve first), the folder,
    /// or a statement of the bookkeeping. The call reports no `failed`
    /// migration.
    Other(HandlerError),
}

impl From<HandlerError> for MigrationFailure {
    fn from(error: HandlerError) -> Self {
        Self::Other(error)
    }
}

/// A bookkeeping statement that failed: `Other`, as any [`HandlerError`].
impl From<SqlError> for MigrationFailure {
    fn from(error: SqlError) -> Self {
        Self::Other(HandlerError::Sql(error))
    }
}

/// A failure before any migration was applied (a bad request, the tracking
/// table): nothing applied, no migration failed. Lets `?` work on a
/// [`HandlerError`] in `apply_migrations`.
impl From<HandlerError> for ApplyFailure {
    fn from(error: HandlerError) -> Self {
        ApplyFailure {
            applied: Vec::new(),
            failed: None,
            error,
        }
    }
}

/// The loop of `apply-migrations`: `apply` applies one migration, exactly
/// as the tool's deploy does (its checks on `sql`, its SQL and the rows
/// that record it through [`crate::migration_script::run`], recording a
/// failure as the tool does) and returns its row. Migrations are applied in the order
/// given; the first failure stops the call with the rows applied before
/// it, the migration's name as `failed` when it was a
/// [`MigrationFailure::Script`], and the error.
///
/// ```ignore
/// fn apply_migrations(request: TrackingRequest, names: Vec<String>)
///     -> Result<Vec<TrackingRow>, ApplyFailure> {
///     let table = Table::new(&request)?; // HandlerError → ApplyFailure
///     table.ensure()?;
///     apply_each(names, |name| {
///         table.refuse_if_applied(name)?; // HandlerError → MigrationFailure::Other
///         // The row goes in with the script, in its transaction.
///         let script = Script { path: format!("{name}.sql"), after_line: None,
///                               before_line: None, in_transaction: true,
///                               bookkeeping: Some(table.insert_row(name)) };
///         if let Err(error) = migration_script::run(&script) {
///             return Err(MigrationFailure::Script(HandlerError::Sql(error)));
///         }
///         Ok(table.row(name)?)
///     })
/// }
/// ```
pub fn apply_each(
    names: Vec<String>,
    mut apply: impl FnMut(&str) -> Result<TrackingRow, MigrationFailure>,
) -> Result<Vec<TrackingRow>, ApplyFailure> {
    let mut applied = Vec::with_capacity(names.len());
    for name in names {
        match apply(&name) {
            Ok(row) => applied.push(row),
            Err(failure) => {
                let (failed, error) = match failure {
                    MigrationFailure::Script(error) => (Some(name), error),
                    MigrationFailure::Other(error) => (None, error),
                };
                return Err(ApplyFailure {
                    applied,
                    failed,
                    error,
                });
            }
        }
    }
    Ok(applied)
}

/// `resolve-migration` for a tool that keeps one untimed row per applied
/// migration (dbmate, Drizzle): `applied` writes the row (`record`) unless
/// it is there, `rolled back` deletes it (`forget`) if it is; each refuses
/// the other case, naming the migration.
pub fn resolve_untimed(
    name: String,
    resolution: Resolution,
    recorded: bool,
    record: impl FnOnce() -> Result<(), HandlerError>,
    forget: impl FnOnce() -> Result<(), HandlerError>,
) -> Result<TrackingRow, HandlerError> {
    match (resolution, recorded) {
        (Resolution::Applied, false) => {
            record()?;
            Ok(untimed_applied_row(name))
        }
        (Resolution::Applied, true) => Err(HandlerError::Conflict(format!(
            "{name} is already recorded as applied"
        ))),
        (Resolution::RolledBack, true) => {
            forget()?;
            Ok(TrackingRow {
                applied_steps_count: 0,
                ..untimed_applied_row(name)
            })
        }
        (Resolution::RolledBack, false) => Err(HandlerError::Conflict(format!(
            "{name} cannot be rolled back because it is not applied"
        ))),
    }
}

/// The first of `initialize-schema`'s next steps when the folder holds
/// `pending` migrations the database has not applied (written for another
/// environment): they come before anything new.
pub fn pending_step(pending: usize) -> Option<String> {
    (pending > 0).then(|| {
        format!(
            "{pending} migration(s) in the folder are not applied to this database yet: \
             faber-db migrate <environment>"
        )
    })
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

    /// What `initialize-schema` reports: the migrations `is_applied` does
    /// not hold for now are pending, and `next_steps` is given their count.
    pub fn outcome(
        self,
        tracking: Tracking,
        is_applied: impl Fn(&M) -> bool,
        next_steps: impl FnOnce(usize) -> Vec<String>,
    ) -> InitializeOutcome
    where
        M: Named,
    {
        let pending: Vec<String> = self
            .migrations
            .iter()
            .filter(|m| !is_applied(m))
            .map(Named::name)
            .collect();
        InitializeOutcome {
            tracking_table: tracking.table,
            tracking_table_created: tracking.created,
            baseline_migration: self.baseline().name(),
            baseline_created: self.baseline_created,
            applied: tracking.applied,
            next_steps: next_steps(pending.len()),
            pending,
            files_written: self.files_written,
        }
    }
}

/// What `initialize-schema` did to the tracking table, for
/// [`Baselined::outcome`].
pub struct Tracking {
    /// The table that records applied migrations.
    pub table: String,
    /// False when it was already there.
    pub created: bool,
    /// The migrations whose SQL this call ran and recorded, oldest first.
    pub applied: Vec<String>,
}

/// A migration as a handler keeps it, and the name the contract reports.
pub trait Named {
    fn name(&self) -> String;
}

impl Named for String {
    fn name(&self) -> String {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn sql_error(message: &str) -> HandlerError {
        HandlerError::Sql(SqlError {
            code: Some("42601".to_string()),
            message: message.to_string(),
        })
    }

    #[test]
    fn apply_each_applies_all_in_order() {
        let mut seen = Vec::new();
        let rows = apply_each(names(&["1_a", "2_b"]), |name| {
            seen.push(name.to_string());
            Ok(untimed_applied_row(name.to_string()))
        })
        .unwrap();
        assert_eq!(seen, ["1_a", "2_b"]);
        let applied: Vec<_> = rows.iter().map(|row| row.name.as_str()).collect();
        assert_eq!(applied, ["1_a", "2_b"]);
        assert_eq!(apply_each(Vec::new(), |_| unreachable!()), Ok(Vec::new()));
    }

    #[test]
    fn a_failing_script_stops_the_call_naming_the_migration() {
        let mut tried = Vec::new();
        let failure = apply_each(names(&["1_a", "2_b", "3_c"]), |name| {
            tried.push(name.to_string());
            match name {
                "2_b" => Err(MigrationFailure::Script(sql_error("syntax error"))),
                _ => Ok(untimed_applied_row(name.to_string())),
            }
        })
        .unwrap_err();
        assert_eq!(tried, ["1_a", "2_b"], "nothing after the failure");
        assert_eq!(failure.applied, [untimed_applied_row("1_a".to_string())]);
        assert_eq!(failure.failed.as_deref(), Some("2_b"));
        assert_eq!(failure.error, sql_error("syntax error"));
    }

    #[test]
    fn a_failure_outside_the_script_names_no_migration() {
        let failure = apply_each(names(&["1_a", "2_b"]), |name| {
            if name == "1_a" {
                Err(HandlerError::Conflict("1_a is already applied".to_string()))?;
            }
            Ok(untimed_applied_row(name.to_string()))
        })
        .unwrap_err();
        assert_eq!(failure.applied, []);
        assert_eq!(failure.failed, None);
        assert_eq!(
            failure.error,
            HandlerError::Conflict("1_a is already applied".to_string())
        );
    }

    #[test]
    fn a_handler_error_is_a_failure_before_any_migration() {
        let failure = ApplyFailure::from(HandlerError::InvalidRequest("table".to_string()));
        assert_eq!(failure.applied, []);
        assert_eq!(failure.failed, None);
        assert_eq!(
            failure.error,
            HandlerError::InvalidRequest("table".to_string())
        );
    }

    #[test]
    fn an_empty_folder_gets_a_baseline() {
        let folder = Baselined::new(vec![], vec!["lock.toml".to_string()], || {
            Ok(("1_init".to_string(), "1_init.sql".to_string()))
        })
        .unwrap();
        let tracking = Tracking {
            table: "t".to_string(),
            created: true,
            applied: vec!["1_init".to_string()],
        };
        let outcome = folder.outcome(
            tracking,
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
        let tracking = Tracking {
            table: "t".to_string(),
            created: false,
            applied: Vec::new(),
        };
        let outcome = folder.outcome(
            tracking,
            |m| m == "1_a",
            |pending| vec![pending.to_string()],
        );
        assert!(!outcome.baseline_created);
        assert_eq!(outcome.pending, ["2_b"]);
        assert_eq!(outcome.next_steps, ["1"]);
    }
}
