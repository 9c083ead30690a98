//! `create-migration`: a new `<timestamp>_<name>/migration.sql`, named as
//! `prisma migrate dev --name` names it.

use crate::folder;
use crate::initialize::{EMPTY_MIGRATION, ensure_lock_file};
use faber_db_handler::clock;
use faber_db_handler::folder::Folder;
use faber_db_handler::migration_tool::CreateRequest;
use faber_db_handler::script::migration_slug;
use faber_db_handler::types::HandlerError;

/// Prisma cuts a migration's name to this many characters.
const MAX_NAME: usize = 200;

pub fn run(request: &CreateRequest) -> Result<String, HandlerError> {
    let slug = slug(&request.name)?;
    let folder = Folder::new(&request.migrations_dir);
    ensure_lock_file(&folder, request.provider)?;
    let name = format!("{}_{slug}", clock::timestamp_now());
    if folder::migrations(&folder)?.contains(&name) {
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
    folder.write_atomically(&file, &ending_with_newline(body))?;
    Ok(file)
}

/// The text with a final newline: SQL appended to the file later (`echo …
/// >>`) then starts a line of its own instead of ending a comment.
fn ending_with_newline(text: &str) -> String {
    match text.ends_with('\n') {
        true => text.to_string(),
        false => format!("{text}\n"),
    }
}

/// Prisma's snake_case name, cut to [`MAX_NAME`] characters.
fn slug(name: &str) -> Result<String, HandlerError> {
    let cut: String = migration_slug(name)?.chars().take(MAX_NAME).collect();
    Ok(cut.trim_end_matches('_').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_file_ends_with_a_newline() {
        assert_eq!(
            ending_with_newline(EMPTY_MIGRATION),
            format!("{EMPTY_MIGRATION}\n")
        );
        assert_eq!(ending_with_newline("SELECT 1;\n"), "SELECT 1;\n");
    }

    #[test]
    fn names_become_snake_case_cut_to_prismas_length() {
        assert_eq!(slug("Add users").unwrap(), "add_users");
        assert_eq!(slug(&"ab ".repeat(100)).unwrap(), "ab_".repeat(66) + "ab");
    }
}
