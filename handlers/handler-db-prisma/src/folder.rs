//! The migrations folder as Prisma lays it out: `migration_lock.toml` at the
//! top and one `<YYYYMMDDHHMMSS>_<name>/migration.sql` per migration.

use faber_db_handler::folder::Folder;
use faber_db_handler::types::HandlerError;

const MIGRATION_FILE: &str = "migration.sql";

/// Where a migration's SQL lives, relative to the migrations folder.
pub fn migration_file(migration: &str) -> String {
    format!("{migration}/{MIGRATION_FILE}")
}

/// Migration names, oldest first. Prisma's timestamp prefix makes name
/// order creation order. A directory without `migration.sql` is not a
/// migration to Prisma (an editor's leftover, a half-deleted one), so it is
/// not one here either.
pub fn migrations(folder: &Folder) -> Result<Vec<String>, HandlerError> {
    folder.directories_with(MIGRATION_FILE)
}

/// True when `name` is one of [`migrations`], found without listing the
/// folder (which grows with every migration).
pub fn has_migration(folder: &Folder, name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['/', '\\'])
        && !name.starts_with('.')
        && folder.is_file(&migration_file(name))
}
