//! The outcome's `next-steps`, in dbmate's own commands: dbmate is the tool
//! the user works with from here on.

/// The steps for a folder with `pending` migrations not applied yet.
pub fn next_steps(pending: usize) -> Vec<String> {
    let mut steps = Vec::new();
    // Migrations the folder already held (written for another environment)
    // come before anything new.
    if pending > 0 {
        steps.push(format!(
            "{pending} migration(s) in the folder are not applied to this database yet: \
             dbmate up"
        ));
    }
    steps.push("Create your first migration: dbmate new initial_schema".to_string());
    steps.push("Apply migrations: dbmate up".to_string());
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
                "Create your first migration: dbmate new initial_schema",
                "Apply migrations: dbmate up",
            ]
        );
    }

    #[test]
    fn pending_migrations_come_first_with_their_count() {
        assert_eq!(
            next_steps(2),
            [
                "2 migration(s) in the folder are not applied to this database yet: dbmate up",
                "Create your first migration: dbmate new initial_schema",
                "Apply migrations: dbmate up",
            ]
        );
    }
}
