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

/// The tracking table exists and has a row naming each of `applied`, a row
/// of its own for each (two migrations whose files are the same have the
/// same checksum, and one row is not both). The error is a failure to
/// read, or the untrue claim. This catches a handler that reports a
/// migration it did not record; it cannot catch one that writes rows it
/// should not, which its session, kept to its tracking table's rows, may.
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
    let recorded: Vec<Vec<&str>> = rows
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|value| match value {
                    Value::Text(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect()
        })
        .collect();
    match unrecorded(&recorded, applied) {
        Some(claim) => Err(Err(format!(
            "{} is reported as applied, but {table} has no row for it",
            claim.name
        ))),
        None => Ok(()),
    }
}

/// The first claim left without a row of its own: rows are matched by name
/// first, then by checksum, each row to one claim.
fn unrecorded<'c>(rows: &[Vec<&str>], applied: &'c [Claim<'c>]) -> Option<&'c Claim<'c>> {
    let mut taken = vec![false; rows.len()];
    let mut left: Vec<&Claim> = applied.iter().collect();
    for records in [names, checksums] {
        left.retain(|claim| {
            let found = (0..rows.len())
                .find(|&at| !taken[at] && rows[at].iter().any(|cell| records(cell, claim)));
            found.map(|at| taken[at] = true).is_none()
        });
    }
    left.first().copied()
}

/// A tracking row names a migration by its full name (Prisma) or by its
/// version, the part before the first `_` (dbmate and most others)...
fn names(cell: &str, claim: &Claim) -> bool {
    cell == claim.name
        || claim
            .name
            .split_once('_')
            .is_some_and(|(version, _)| version == cell)
}

/// ... or by its file's checksum (Drizzle, whose rows are a hash and a time).
fn checksums(cell: &str, claim: &Claim) -> bool {
    claim.checksum == Some(cell)
}

#[cfg(test)]
mod tests {
    use super::{Claim, unrecorded};

    fn claim(name: &'static str, checksum: &'static str) -> Claim<'static> {
        Claim {
            name,
            checksum: Some(checksum),
        }
    }

    #[test]
    fn a_row_names_a_migration_by_name_version_or_checksum() {
        for cell in ["20240101000000_init", "20240101000000", "ab12"] {
            let claims = [claim("20240101000000_init", "ab12")];
            assert!(unrecorded(&[vec!["x", cell]], &claims).is_none(), "{cell}");
        }
        for cell in ["20240101", "other"] {
            let claims = [claim("20240101000000_init", "ab12")];
            assert!(unrecorded(&[vec![cell]], &claims).is_some(), "{cell}");
        }
    }

    #[test]
    fn each_claim_needs_a_row_of_its_own() {
        // Two files alike, one row: one of them is not recorded.
        let claims = [claim("0000_a", "same"), claim("0001_b", "same")];
        let found = unrecorded(&[vec!["same"]], &claims).map(|c| c.name);
        assert_eq!(found, Some("0001_b"));
        assert!(unrecorded(&[vec!["same"], vec!["same"]], &claims).is_none());
        // A row found by name is not taken for another claim's checksum.
        let claims = [claim("0001_b", "ab"), claim("0000_a", "ab")];
        let rows = [vec!["0000_a", "ab"], vec!["0001_b", "ab"]];
        assert!(unrecorded(&rows, &claims).is_none());
    }
}
