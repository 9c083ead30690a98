//! Step 13's check of what the handler reported, against the database (read
//! on the host's own session) and the disk, before the host repeats any of
//! it: the tracking table exists, every migration reported as applied has
//! its row, every file reported as written is a file inside the folder.

use super::migrations::MigrationsFolder;
use crate::db::{ConnectionString, Database, Value};
use crate::failure::{Failure, Outcome};
use crate::runtime::InitializeOutcome;

pub async fn verify(
    database: &mut Database,
    target: &ConnectionString,
    folder: &MigrationsFolder,
    outcome: &InitializeOutcome,
) -> Outcome<()> {
    let untrue = |claim: String| {
        Failure::new("The handler reported work it did not do")
            .cause(claim)
            .help("Report it to the handler's author; this run's database and files are removed")
    };
    let applied: Vec<Claim> = outcome
        .applied
        .iter()
        .map(|name| Claim {
            name,
            checksum: None,
        })
        .collect();
    verify_recorded(database, target, &outcome.tracking_table, &applied)
        .await
        .map_err(|claim| claim.unwrap_or_else(untrue))?;
    let root = folder
        .path
        .canonicalize()
        .unwrap_or_else(|_| folder.path.clone());
    for file in &outcome.files_written {
        let path = folder.path.join(file);
        let is_file = std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_file());
        let inside = path
            .canonicalize()
            .is_ok_and(|real| real.starts_with(&root));
        if !(is_file && inside) {
            return Err(untrue(format!(
                "{file} is reported as written, but it is not a file in the migrations folder"
            )));
        }
    }
    Ok(())
}

/// A migration the handler reported as applied, with the checksum of its
/// file as the handler read it (for a tool whose rows name a migration by
/// it).
pub struct Claim<'a> {
    pub name: &'a str,
    pub checksum: Option<&'a str>,
}

/// The tracking table exists and has a row naming each of `applied`. The
/// error is a failure to read, or the untrue claim.
pub async fn verify_recorded(
    database: &mut Database,
    target: &ConnectionString,
    table: &str,
    applied: &[Claim<'_>],
) -> Result<(), Result<Failure, String>> {
    // Read on the host's own, more privileged session: a view (or a policy)
    // there could run the handler's functions with the host's privileges.
    let plain = database
        .is_plain_table(target, table)
        .await
        .map_err(|err| {
            Ok(
                Failure::new(format!("Cannot look up the tracking table {table}"))
                    .cause(err.message),
            )
        })?;
    if !plain {
        return Err(Err(format!(
            "its tracking table {table} does not exist as a plain table (it is missing, a view, or under row security)"
        )));
    }
    let statement = format!("SELECT * FROM {}", target.qualify(table));
    let rows = database.query(&statement, &[]).await.map_err(|err| {
        Ok(Failure::new(format!("Cannot read the tracking table {table}")).cause(err.message))
    })?;
    let recorded: Vec<&str> = rows
        .rows
        .iter()
        .flatten()
        .filter_map(|value| match value {
            Value::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    for claim in applied {
        if !recorded.iter().any(|cell| records(cell, claim)) {
            return Err(Err(format!(
                "{} is reported as applied, but {table} has no row for it",
                claim.name
            )));
        }
    }
    Ok(())
}

/// A tracking row names a migration by its full name (Prisma), by its
/// version, the part before the first `_` (dbmate and most others), or by
/// its file's checksum (Drizzle, whose rows are a hash and a time).
fn records(cell: &str, claim: &Claim) -> bool {
    cell == claim.name
        || claim.checksum == Some(cell)
        || claim
            .name
            .split_once('_')
            .is_some_and(|(version, _)| version == cell)
}

#[cfg(test)]
mod tests {
    use super::{Claim, records};

    #[test]
    fn a_row_names_a_migration_by_name_version_or_checksum() {
        let claim = |name| Claim {
            name,
            checksum: Some("ab12"),
        };
        assert!(records(
            "20240101000000_init",
            &claim("20240101000000_init")
        ));
        assert!(records("20240101000000", &claim("20240101000000_init")));
        assert!(records("ab12", &claim("0000_init")));
        assert!(!records("20240101", &claim("20240101000000_init")));
        assert!(!records("other", &claim("20240101000000_init")));
    }
}
