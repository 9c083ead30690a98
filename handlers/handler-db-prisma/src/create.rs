//! `create-migration`: a new `<timestamp>_<name>/migration.sql`, named as
//! `prisma migrate dev --name` names it.

use crate::clock;
use crate::exports::faber::db::migration_tool::CreateRequest;
use crate::faber::db::types::HandlerError;
use crate::folder::{self, MigrationsFolder};
use crate::initialize::{EMPTY_MIGRATION, ensure_lock_file};

/// Prisma cuts a migration's name to this many characters.
const MAX_NAME: usize = 200;

pub fn run(request: &CreateRequest) -> Result<String, HandlerError> {
    let slug = slug(&request.name);
    if slug.is_empty() {
        return Err(HandlerError::InvalidRequest(format!(
            "name: {:?} has no letters or digits to name a migration after",
            request.name
        )));
    }
    let folder = MigrationsFolder::new(&request.migrations_dir);
    ensure_lock_file(&folder, request.provider)?;
    let name = format!("{}_{slug}", clock::migration_timestamp_now());
    if folder.migrations()?.contains(&name) {
        return Err(HandlerError::Conflict(format!(
            "{name} already exists; wait a second and try again"
        )));
    }
    let file = folder::migration_file(&name);
    let body = if request.sql.trim().is_empty() {
        EMPTY_MIGRATION
    } else {
        &request.sql
    };
    folder.write_atomically(&file, body)?;
    Ok(file)
}

/// Lowercase ASCII letters and digits, every other run of characters one
/// `_`, none at either end; at most [`MAX_NAME`] characters.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
    }
    let slug = slug.trim_end_matches('_');
    slug.chars()
        .take(MAX_NAME)
        .collect::<String>()
        .trim_end_matches('_')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_snake_case() {
        assert_eq!(slug("Add users"), "add_users");
        assert_eq!(slug("  initial schema!! "), "initial_schema");
        assert_eq!(slug("AddUsers-v2"), "addusers_v2");
        assert_eq!(slug("ünïcode"), "n_code");
        assert_eq!(slug("---"), "");
    }
}
