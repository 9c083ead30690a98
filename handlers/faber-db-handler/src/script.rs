//! Migration text and names: what every tool needs to know about them.

use crate::types::HandlerError;

/// True when the SQL holds anything besides whitespace and comments.
///
/// A baseline migration usually holds only a comment; sending that alone to
/// a database is pointless at best, and some drivers reject a statement-less
/// query, so such a script is not sent at all. An unterminated block comment
/// counts as content, so that the database, not this function, reports the
/// mistake.
pub fn has_statements(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    while !rest.is_empty() {
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            match comment.split_once("*/") {
                Some((_, after)) => rest = after,
                None => return true,
            }
        } else {
            return true;
        }
        rest = rest.trim_start();
    }
    false
}

/// A user's migration name as tools write it into a file name: lowercase
/// ASCII letters and digits, every other run of characters one `_`, none at
/// either end (`"Add users!"` → `add_users`). A name with no letters or
/// digits is refused as `invalid-request`, naming it.
pub fn migration_slug(name: &str) -> Result<String, HandlerError> {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
    }
    let slug = slug.trim_end_matches('_');
    if slug.is_empty() {
        return Err(HandlerError::InvalidRequest(format!(
            "name: {name:?} has no letters or digits to name a migration after"
        )));
    }
    Ok(slug.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_whitespace_are_not_statements() {
        assert!(!has_statements(""));
        assert!(!has_statements("-- This is an empty migration."));
        assert!(!has_statements(" \n\t-- a\n/* b\n c */\n-- d\n"));
    }

    #[test]
    fn statements_after_comments_count() {
        assert!(has_statements("-- CreateTable\nCREATE TABLE t (id INT);"));
        assert!(has_statements("/* note */ SELECT 1"));
    }

    #[test]
    fn unterminated_block_comment_is_left_to_the_database() {
        assert!(has_statements("/* oops"));
    }

    #[test]
    fn names_become_snake_case() {
        let slug = |name| migration_slug(name).unwrap();
        assert_eq!(slug("Add users"), "add_users");
        assert_eq!(slug("  initial schema!! "), "initial_schema");
        assert_eq!(slug("AddUsers-v2"), "addusers_v2");
        assert_eq!(slug("ünïcode"), "n_code");
    }

    #[test]
    fn a_name_without_letters_or_digits_is_refused() {
        match migration_slug("---") {
            Err(HandlerError::InvalidRequest(message)) => {
                assert!(message.contains("\"---\""), "{message}")
            }
            other => panic!("expected invalid-request, got {other:?}"),
        }
    }
}
