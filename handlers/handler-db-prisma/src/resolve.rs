//! `resolve-migration`: `prisma migrate resolve --applied NAME` and
//! `--rolled-back NAME`, with Prisma's rules and its rows.

use crate::dialect;
use crate::history::{self, Row};
use crate::initialize::check_tracking_table;
use crate::tracking;
use faber_db_handler::folder::Folder;
use faber_db_handler::migration_tool::{Resolution, TrackingRequest, TrackingRow};
use faber_db_handler::sql::{SqlValue, execute};
use faber_db_handler::types::{HandlerError, Provider};

pub fn run(
    request: &TrackingRequest,
    name: &str,
    resolution: Resolution,
) -> Result<TrackingRow, HandlerError> {
    check_tracking_table(request.tracking_table.as_deref())?;
    match resolution {
        Resolution::Applied => applied(request, name),
        Resolution::RolledBack => rolled_back(request.provider, name),
    }
}

/// Records the folder's migration as applied without running it; failed
/// attempts of it are marked rolled back first. One already applied is
/// refused (P3008).
fn applied(request: &TrackingRequest, name: &str) -> Result<TrackingRow, HandlerError> {
    let provider = request.provider;
    let folder = Folder::new(&request.migrations_dir);
    let (_, checksum) = history::script(&folder, name)?;
    if !history::initialized(provider)? {
        tracking::ensure_table(provider)?;
    }
    let rows = history::rows_of(provider, name)?;
    if rows.iter().any(|r| r.row.finished_at.is_some()) {
        return Err(HandlerError::Conflict(format!(
            "{name} is already recorded as applied in the database (P3008)"
        )));
    }
    mark_failed_rolled_back(provider, &rows)?;
    let id = tracking::new_record_id()?;
    let params = [
        SqlValue::Text(id.clone()),
        SqlValue::Text(checksum),
        SqlValue::Text(name.to_string()),
    ];
    execute(&dialect::record_marked_applied(provider), &params)?;
    history::row_by_id(provider, &id)
}

/// Marks the failed attempts of a migration rolled back. A migration never
/// attempted (P3011) or not failed (P3012) is refused.
fn rolled_back(provider: Provider, name: &str) -> Result<TrackingRow, HandlerError> {
    let rows = if history::initialized(provider)? {
        history::rows_of(provider, name)?
    } else {
        Vec::new()
    };
    if rows.is_empty() {
        return Err(HandlerError::Conflict(format!(
            "{name} cannot be rolled back because it was never applied to the database (P3011)"
        )));
    }
    if !rows.iter().any(failed) {
        return Err(HandlerError::Conflict(format!(
            "{name} cannot be rolled back because it is not in a failed state (P3012)"
        )));
    }
    mark_failed_rolled_back(provider, &rows)?;
    let last = rows.last().map(|r| r.id.clone()).unwrap_or_default();
    history::row_by_id(provider, &last)
}

/// A failed attempt: neither finished nor rolled back.
fn failed(row: &Row) -> bool {
    row.row.finished_at.is_none() && row.row.rolled_back_at.is_none()
}

fn mark_failed_rolled_back(provider: Provider, rows: &[Row]) -> Result<(), HandlerError> {
    for row in rows.iter().filter(|row| failed(row)) {
        execute(
            &dialect::record_rolled_back(provider),
            &[SqlValue::Text(row.id.clone())],
        )?;
    }
    Ok(())
}
