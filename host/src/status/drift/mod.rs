//! Schema drift: an environment's live schema compared with the schema its
//! applied migrations produce, replayed through the handler's
//! `apply-migration` into a scratch database. The environment's database is
//! only read; the scratch database is private (SQLite: in memory) or
//! temporary (PostgreSQL, MySQL: created for the replay and always dropped).

mod introspect;
pub mod schema;

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::components;
use crate::config::Config;
use crate::db::{
    Access, ConnectionString, CreateError, Database, InDatabase, Server, SessionPolicy,
};
use crate::failure::Failure;
use crate::runtime as wit;
use crate::runtime::{Grant, MigrationTool, ScriptSession, Scripts};
use crate::tracking::{Migration, State};
use schema::{Difference, Schema};

/// faber-db's own marker table (see `init`), never part of a comparison.
const IN_PROGRESS_MARKER: &str = "_faber_db_in_progress";

/// Scratch databases are named with this and a random suffix.
pub const SCRATCH_PREFIX: &str = "fdb_scratch_";

#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    /// `none`, `found` or `unknown` (then `reason` says why).
    pub status: &'static str,
    pub differences: Vec<Difference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Drift {
    fn unknown(reason: impl Into<String>) -> Drift {
        Drift {
            status: "unknown",
            differences: Vec::new(),
            reason: Some(reason.into()),
        }
    }
}

/// What a replay needs besides the environment.
pub struct Replay<'a> {
    pub tool: &'a MigrationTool,
    pub config: &'a Config,
    pub migrations_dir: &'a Path,
    pub policy: &'a SessionPolicy,
    pub lifetime: Duration,
}

/// Compares `live` (the host's read-only session in the environment's
/// database) with a replay of the migrations `tracking` records as applied.
pub async fn check(
    replay: &Replay<'_>,
    reached: &mut InDatabase,
    target: &ConnectionString,
    tracking: &wit::TrackingState,
    judged: &[Migration],
) -> Drift {
    if let Some(gone) = judged.iter().find(|m| m.state == State::Missing) {
        return Drift::unknown(format!(
            "migration {} is applied but no longer in the folder, so it cannot be replayed",
            gone.name
        ));
    }
    let applied = Applied {
        table: &tracking.tracking_table,
        names: applied_in_order(tracking, judged),
    };
    let ignored = [tracking.tracking_table.as_str(), IN_PROGRESS_MARKER];
    // The host's own session reads the live schema: only drift needs one.
    let mut live = match reached.server.open(target, &reached.name).await {
        Ok(live) => live,
        Err(failure) => return Drift::unknown(format!("cannot read the schema: {failure}")),
    };
    let server = &mut reached.server;
    let live_schema = match introspect::schema(&mut live, &target.home_schema()).await {
        Ok(schema) => schema.without_tables(&ignored),
        Err(err) => return Drift::unknown(format!("cannot read the schema: {}", err.message)),
    };
    let expected = match target {
        ConnectionString::File { .. } => replay_in_memory(replay, &applied).await,
        ConnectionString::Server { .. } => replay_on_server(replay, server, target, &applied).await,
    };
    match expected {
        Ok(expected) => {
            let differences = schema::diff(&expected.without_tables(&ignored), &live_schema);
            Drift {
                status: if differences.is_empty() {
                    "none"
                } else {
                    "found"
                },
                differences,
                reason: None,
            }
        }
        Err(reason) => Drift::unknown(reason),
    }
}

/// What a replay applies: the migrations, in order, and the tracking table
/// their rows go to.
struct Applied<'a> {
    table: &'a str,
    names: Vec<String>,
}

/// The migrations that shaped the live schema (applied, as the file is now
/// for a modified one), in the order the database recorded them.
fn applied_in_order(tracking: &wit::TrackingState, judged: &[Migration]) -> Vec<String> {
    let mut applied: Vec<String> = Vec::new();
    for row in &tracking.rows {
        let shaped = judged
            .iter()
            .any(|m| m.name == row.name && matches!(m.state, State::Applied | State::Modified));
        if shaped && !applied.contains(&row.name) {
            applied.push(row.name.clone());
        }
    }
    applied
}

/// SQLite: the replay runs in a private in-memory database.
async fn replay_in_memory(replay: &Replay<'_>, applied: &Applied<'_>) -> Result<Schema, String> {
    let database = Database::confined_in_memory()
        .await
        .map_err(|err| format!("cannot open a scratch database in memory: {}", err.message))?;
    let (database, applying) = apply_all(replay, database, "scratch", applied).await;
    let Some(mut database) = database else {
        return Err(applying
            .err()
            .unwrap_or_else(|| "the scratch database was lost".to_owned()));
    };
    applying?;
    introspect::schema(&mut database, "")
        .await
        .map_err(|err| format!("cannot read the replayed schema: {}", err.message))
}

/// PostgreSQL and MySQL: a temporary database on the environment's server,
/// dropped afterwards whatever happened; `unknown` where the connection's
/// user may not create one.
async fn replay_on_server(
    replay: &Replay<'_>,
    server: &mut Server,
    target: &ConnectionString,
    applied: &Applied<'_>,
) -> Result<Schema, String> {
    let scratch = format!("{SCRATCH_PREFIX}{}", crate::db::random_hex(6));
    match server.create_database(target, &scratch).await {
        Ok(()) => {}
        Err(CreateError::Failed(err)) if err.denied => {
            return Err(format!(
                "the connection's user may not create a temporary database to replay the migrations in ({})",
                err.message
            ));
        }
        Err(CreateError::Failed(err)) => {
            return Err(format!(
                "cannot create a temporary database: {}",
                err.message
            ));
        }
        Err(CreateError::AlreadyExists) => {
            return Err(format!("the temporary database {scratch} already exists"));
        }
    }
    let outcome = replay_in(replay, server, target, &scratch, applied).await;
    // The sessions an error path of the replay let go of end first.
    crate::db::settle().await;
    let dropped = server.drop_database(target, &scratch).await;
    let gone = !server.database_exists(&scratch).await.unwrap_or(true);
    match (outcome, dropped) {
        (outcome, Ok(())) if gone => outcome,
        (_, dropped) => Err(format!(
            "the temporary database {scratch} could not be removed{}: drop it by hand",
            dropped
                .err()
                .map(|err| format!(" ({})", err.message))
                .unwrap_or_default()
        )),
    }
}

/// The replay in the temporary database `scratch`, on the handler's usual
/// confined session; ends every session in it, so it can be dropped.
async fn replay_in(
    replay: &Replay<'_>,
    server: &mut Server,
    target: &ConnectionString,
    scratch: &str,
    applied: &Applied<'_>,
) -> Result<Schema, String> {
    let shown = |failure: Failure| failure.to_string();
    let mut admin = server.open(target, scratch).await.map_err(shown)?;
    let opened = server
        .open_handler_session(
            &mut admin,
            target,
            scratch,
            replay.policy,
            replay.lifetime,
            Access::Write,
        )
        .await;
    let mut session = opened.map_err(shown)?;
    let database = session.lend().expect("a new session holds its connection");
    let (returned, applying) = apply_all(replay, database, scratch, applied).await;
    session.take_back(returned);
    // The scratch database is dropped after: nothing in it outlives the
    // replay, so there is nothing to check.
    let removed = session.close(server, Some(&mut admin), None).await;
    let outcome = match (applying, removed) {
        (Ok(()), Ok(_)) => introspect::schema(&mut admin, &target.home_schema())
            .await
            .map_err(|err| format!("cannot read the replayed schema: {}", err.message)),
        (Err(reason), _) => Err(reason),
        (Ok(()), Err(failure)) => Err(format!(
            "cannot remove the handler's account from the temporary database: {failure}"
        )),
    };
    admin.close().await;
    outcome
}

/// Applies `applied` in order through the handler, on the one session of
/// a scratch database (its scripts too); the database comes back (when the
/// calls did not lose it) with the first failure, if any.
async fn apply_all(
    replay: &Replay<'_>,
    database: Database,
    name: &str,
    applied: &Applied<'_>,
) -> (Option<Database>, Result<(), String>) {
    let request = crate::status::tracking_request(replay.config, name);
    let grant = Grant {
        directory: Some((
            replay.migrations_dir.to_path_buf(),
            crate::status::GUEST_MIGRATIONS_DIR.to_owned(),
        )),
        directory_read_only: true,
        database: Some(database),
        scripts: Some(Scripts::new(
            replay.migrations_dir.to_path_buf(),
            Some(applied.table.to_owned()),
            ScriptSession::Shared,
        )),
        ..Grant::default()
    };
    let (returned, outcome) = replay
        .tool
        .apply_migrations(grant, &request, &applied.names)
        .await;
    let replayed = outcome.map(drop).map_err(|stopped| {
        let failure = components::failure(stopped.failure);
        match stopped.failed {
            Some(migration) => format!("replaying {migration} failed: {failure}"),
            None => format!("replaying failed: {failure}"),
        }
    });
    match returned.database {
        Some(database) => (Some(database), replayed),
        None => (
            None,
            replayed.and(Err("the handler's session was lost".to_owned())),
        ),
    }
}
