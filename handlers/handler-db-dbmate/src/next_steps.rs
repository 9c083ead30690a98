//! The outcome's `next-steps`, in faber-db's own commands, which apply
//! migrations exactly as dbmate does.

use faber_db_handler::tracking::pending_step;

/// The steps for a folder with `pending` migrations not applied yet.
pub fn next_steps(pending: usize) -> Vec<String> {
    let mut steps: Vec<String> = pending_step(pending).into_iter().collect();
    steps.push("Create your first migration: faber-db generate-migration initial_schema (a dbmate file with -- migrate:up and -- migrate:down sections)".to_string());
    steps.push("Apply migrations: faber-db migrate <environment>".to_string());
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_pending() {
        assert_eq!(
            next_steps(0),
            [
                "Create your first migration: faber-db generate-migration initial_schema (a dbmate file with -- migrate:up and -- migrate:down sections)",
                "Apply migrations: faber-db migrate <environment>",
            ]
        );
    }

    #[test]
    fn pending_migrations_come_first_with_their_count() {
        assert_eq!(
            next_steps(2),
            [
                "2 migration(s) in the folder are not applied to this database yet: faber-db migrate <environment>",
                "Create your first migration: faber-db generate-migration initial_schema (a dbmate file with -- migrate:up and -- migrate:down sections)",
                "Apply migrations: faber-db migrate <environment>",
            ]
        );
    }
}
