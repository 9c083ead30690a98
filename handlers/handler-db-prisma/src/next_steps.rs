//! The outcome's `next-steps`: what the user runs after `initialize-schema`,
//! in Prisma's own commands, since from here on Prisma is the tool they use.

/// The steps for a folder with `pending` migrations not applied yet, on a
/// database whose Prisma `datasource` provider is `provider`.
pub fn next_steps(provider: &str, pending: usize) -> Vec<String> {
    let mut steps = Vec::new();
    // Migrations the folder already held (another environment wrote them)
    // must be applied before anything new is built on top of them.
    if pending > 0 {
        steps.push(format!(
            "{pending} migration(s) in the folder are not applied to this database yet: \
             npx prisma migrate deploy"
        ));
    }
    steps.push(format!(
        "Describe your models in prisma/schema.prisma (datasource provider = \"{provider}\"), \
         then create the first migration: npx prisma migrate dev --name initial_schema"
    ));
    steps.push("Apply migrations to other environments: npx prisma migrate deploy".to_string());
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
                 \"postgresql\"), then create the first migration: npx prisma migrate dev \
                 --name initial_schema",
                "Apply migrations to other environments: npx prisma migrate deploy",
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
             npx prisma migrate deploy"
        );
        assert!(
            steps[1].contains("(datasource provider = \"mysql\")"),
            "{}",
            steps[1]
        );
    }
}
