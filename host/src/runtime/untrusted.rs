//! What a handler says is untrusted text: it is cleaned before it reaches a
//! terminal, and names it reports are held to plain shapes before the host
//! uses them in paths, SQL or output.

/// `text` without control characters (escape sequences, carriage returns)
/// or Unicode format characters (bidirectional overrides, zero-width
/// characters) that could make a terminal show something else.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_format(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// The longest name the host accepts from a handler.
const MAX_NAME: usize = 255;

/// A handler's own name: kebab-case ASCII, at most 64 characters, so that
/// it is safe in a file name, the lock file and output.
pub fn check_handler_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "its name {:?} is not kebab-case (a–z, 0–9 and single `-`, at most 64 characters, starting with a letter)",
            clean(name)
        ))
    }
}

/// A single file or folder name: no separators, no `..`, nothing invisible.
pub fn check_plain_name(what: &str, name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && clean(name) == name;
    if valid {
        Ok(())
    } else {
        Err(format!("{what} {:?} is not a plain name", clean(name)))
    }
}

/// A tracking table's name: a plain name, which on PostgreSQL may name its
/// schema (`schema.table`), never one of the server's own (`pg_catalog`,
/// `pg_toast`, `information_schema`, …): the handler's session is granted
/// the rows of this table, by the host's superuser. (The schemas the
/// host's grants and leftover checks skip are the same ones.)
pub fn check_tracking_table(name: &str) -> Result<(), String> {
    check_plain_name("tracking table", name)?;
    let schema = name.split_once('.').map(|(schema, _)| schema);
    if schema.is_some_and(|schema| schema.starts_with("pg_") || schema == "information_schema") {
        return Err(format!(
            "tracking table {:?} is in one of the server's own schemas",
            clean(name)
        ));
    }
    Ok(())
}

/// An environment variable's name: ASCII letters, digits and `_`, not
/// starting with a digit.
pub fn check_variable_name(name: &str) -> Result<(), String> {
    let valid = name.len() <= MAX_NAME
        && name.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not an environment variable's name",
            clean(name)
        ))
    }
}

/// A path relative to the granted folder, every part a plain name.
pub fn check_relative_path(what: &str, path: &str) -> Result<(), String> {
    if path.starts_with('/') || path.len() > 4 * MAX_NAME {
        return Err(format!("{what} {:?} is not a relative path", clean(path)));
    }
    path.split('/')
        .try_for_each(|part| check_plain_name(what, part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_overrides_are_blanked() {
        assert_eq!(clean("ok\x1b[2J\r✓ done\u{202E}"), "ok [2J ✓ done ");
    }

    #[test]
    fn handler_names_are_kebab_case() {
        for good in ["handler-db-prisma", "x", "a1-b2"] {
            assert!(check_handler_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/../b",
            "Handler",
            "a_b",
            "-a",
            "a-",
            "a--b",
            &"a".repeat(65),
        ] {
            assert!(check_handler_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reported_paths_stay_plain() {
        assert!(check_relative_path("file", "20240101_init/migration.sql").is_ok());
        for bad in [
            "../x",
            "/etc/passwd",
            "a/../../b",
            "a//b",
            "a/\u{202E}b",
            "",
        ] {
            assert!(check_relative_path("file", bad).is_err(), "{bad}");
        }
    }
}
