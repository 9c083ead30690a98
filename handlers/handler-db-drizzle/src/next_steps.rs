//! The outcome's `next-steps`: Drizzle Kit writes the migrations, faber-db
//! applies them as Drizzle's migrator does.

use faber_db_handler::tracking::pending_step;

/// The steps for a folder with `pending` migrations not applied yet.
pub fn next_steps(pending: usize) -> Vec<String> {
    let mut steps: Vec<String> = pending_step(pending).into_iter().collect();
    steps.push(
        "Generate migrations from your Drizzle schema: npx drizzle-kit generate (or faber-db \
         generate-migration NAME for a custom SQL migration)"
            .to_string(),
    );
    steps.push("Apply migrations: faber-db migrate <environment>".to_string());
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_migrations_come_first_with_their_count() {
        let steps = next_steps(2);
        assert!(steps[0].starts_with("2 migration(s)"), "{steps:?}");
        assert_eq!(steps.len(), 3);
        assert_eq!(next_steps(0).len(), 2);
    }
}
