//! Steps 14 and 15: is the new database reachable, is its tracking table
//! readable, may we create, write, read and drop a table, and is there room.

use std::path::Path;

use crate::db::{ConnectionString, Database, SqlError, Value};
use crate::report::{DiskSpace, Health};

const LOW_DISK_BYTES: u64 = 1 << 30;
const OK: &str = "ok";

/// `SELECT 1` and a read of the tracking table (in `target`'s schema).
pub async fn verify_connectivity(
    db: &mut Database,
    target: &ConnectionString,
    table: &str,
) -> Result<i64, SqlError> {
    db.query("SELECT 1", &[]).await?;
    db.count_rows(target, table).await
}

pub async fn check(
    db: &mut Database,
    target: &ConnectionString,
    table: &str,
    data_dir: Option<&Path>,
) -> Health {
    let connectivity = outcome(db.query("SELECT 1", &[]).await.map(drop));
    let schema = outcome(verify_connectivity(db, target, table).await.map(drop));
    let permissions = outcome(scratch_table(db, target).await);
    Health {
        connectivity,
        schema,
        permissions,
        disk_space: disk_space(data_dir),
    }
}

pub fn passed(health: &Health) -> bool {
    [&health.connectivity, &health.schema, &health.permissions]
        .iter()
        .all(|status| status.as_str() == OK)
}

fn outcome(result: Result<(), SqlError>) -> String {
    match result {
        Ok(()) => OK.to_owned(),
        Err(err) => format!("failed: {}", err.message),
    }
}

/// Create, insert, select and drop a table whose name no one else uses,
/// inside a transaction that is rolled back: the privileges are proven
/// without a commit (and its flush to disk). MySQL commits DDL on its own;
/// the drop cleans up there.
async fn scratch_table(db: &mut Database, target: &ConnectionString) -> Result<(), SqlError> {
    let name = format!(
        "_faber_db_health_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    );
    let table = target.qualify(&name);
    db.execute("BEGIN", &[]).await?;
    let checked = async {
        db.execute(&format!("CREATE TABLE {table} (probe INTEGER)"), &[])
            .await?;
        db.execute(&format!("INSERT INTO {table} (probe) VALUES (42)"), &[])
            .await?;
        let rows = db.query(&format!("SELECT probe FROM {table}"), &[]).await?;
        if rows.rows != vec![vec![Value::Integer(42)]] {
            return Err(SqlError::new(
                "the scratch table did not return the row written to it",
            ));
        }
        db.execute(&format!("DROP TABLE {table}"), &[])
            .await
            .map(drop)
    }
    .await;
    let rolled_back = db.execute("ROLLBACK", &[]).await.map(drop);
    checked.and(rolled_back)
}

fn disk_space(data_dir: Option<&Path>) -> DiskSpace {
    let Some(dir) = data_dir else {
        return DiskSpace {
            status: "unknown".to_owned(),
            available_bytes: None,
            detail: "the server is remote or does not reveal its data directory".to_owned(),
        };
    };
    match fs4::available_space(dir) {
        Ok(bytes) => DiskSpace {
            status: if bytes < LOW_DISK_BYTES { "low" } else { OK }.to_owned(),
            available_bytes: Some(bytes),
            detail: format!("{} MiB free under {}", bytes >> 20, dir.display()),
        },
        Err(err) => DiskSpace {
            status: "unknown".to_owned(),
            available_bytes: None,
            detail: format!("cannot measure {}: {err}", dir.display()),
        },
    }
}
