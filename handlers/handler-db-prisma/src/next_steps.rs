//! The outcome's `next-steps`: what the user runs after `initialize-schema`,
//! in faber-db's own commands, which apply migrations exactly as Prisma does.

use faber_db_handler::tracking::pending_step;

/// The steps for a folder with `pending` migrations not applied yet, on a
/// database whose Prisma `datasource` provider is `provider`.
pub fn next_steps(provider: &str, pending: usize) -> Vec<String> {
    let mut steps: Vec<String> = pending_step(pending).into_iter().collect();
    steps.push(format!(
        "Describe your models in prisma/schema.prisma (datasource provider = \"{provider}\"), \
         then create the first migration: faber-db generate-migration initial_schema (it shows \
         how to fill it with Prisma's own diff)"
    ));
    steps.push("Apply migrations to each environment: faber-db migrate <environment>".to_string());
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_pending_starts_with_the_schema() {
        assert_eq!(
            next_steps("postgresql", 0),
            [
                "Describe your models in prisma/schema.prisma (datasource provider = \
                 \"postgresql\"), then create the first migration: faber-db \
                 generate-migration initial_schema (it shows how to fill it with Prisma's own \
                 diff)",
                "Apply migrations to each environment: faber-db migrate <environment>",
            ]
        );
    }

    #[test]
    fn pending_migrations_come_first_with_their_count() {
        let steps = next_steps("mysql", 3);
        assert_eq!(steps.len(), 3);
        assert_eq!(
            steps[0],
            "3 migration(s) in the folder are not applied to this database yet: \
             faber-db migrate <environment>"
        );
        assert!(
            steps[1].contains("(datasource provider = \"mysql\")"),
            "{}",
            steps[1]
        );
    }
}
