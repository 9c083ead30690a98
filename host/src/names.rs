//! Database names: validating what the user typed, deriving one from the
//! project, and quoting for each dialect.
//!
//! Validation is strict on purpose: a name that passes can be quoted safely in
//! every provider and used as a SQLite file name, so no input reaches SQL or
//! the filesystem as anything but a plain identifier.

use std::path::Path;

use crate::failure::{Failure, Outcome};
use crate::provider::Provider;

/// PostgreSQL truncates identifiers at 63 bytes; MySQL allows 64. The smaller
/// limit keeps one name valid everywhere.
pub const MAX_NAME_BYTES: usize = 63;

/// Checks a name given by the user or found in a connection string.
pub fn validate(name: &str) -> Outcome<&str> {
    let invalid = |why: &str| {
        Failure::new(format!("Invalid database name {name:?}"))
            .cause(why)
            .help("Use 1 to 63 ASCII letters, digits, `_` or `-`, starting with a letter or `_`, e.g. --database-name myapp_dev")
    };
    let Some(first) = name.chars().next() else {
        return Err(invalid("it is empty"));
    };
    if name.len() > MAX_NAME_BYTES {
        return Err(invalid(&format!(
            "it is {} bytes long, the limit is {MAX_NAME_BYTES}",
            name.len()
        )));
    }
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(invalid("it must start with a letter or `_`"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(invalid(&format!("it contains {bad:?}")));
    }
    Ok(name)
}

/// `<project>_<environment>`, lower-cased, with every run of other characters
/// turned into one `_`, so any folder name gives a valid identifier.
pub fn derive(project: &str, environment: &str) -> String {
    let mut name = String::new();
    for c in format!("{project}_{environment}").chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let mut name = name.trim_matches('_').to_owned();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "db_");
    }
    name.truncate(MAX_NAME_BYTES);
    name.trim_end_matches('_').to_owned()
}

/// The database name an environment gets when nothing names one:
/// `<project folder>_<environment>`.
pub fn default_database(project: &std::path::Path, environment: &str) -> String {
    let folder = project
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    derive(&folder, environment)
}

/// The one of `candidates` that `typed` most likely meant: within two
/// edits (a typo, a swapped or missing letter), or one it is a prefix of.
pub fn closest<'a>(typed: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|candidate| (edits(typed, candidate), candidate))
        .filter(|(distance, candidate)| {
            *distance <= 2 || (typed.len() >= 3 && candidate.starts_with(typed))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The edit distance between two names, counting a swap of neighbours as
/// one edit.
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![(0..=b.len()).collect::<Vec<usize>>()];
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let substitution = rows[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            row[j] = substitution.min(rows[i - 1][j] + 1).min(row[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(rows[i - 2][j - 2] + 1);
            }
        }
        rows.push(row);
    }
    rows[a.len()][b.len()]
}

/// A connection string to show in help lines for one environment of the
/// project: it names the database that environment gets by default, since
/// a name in the URL is the name used.
pub fn example_url(provider: Provider, project: &Path, environment: &str) -> String {
    let database = default_database(project, environment);
    match provider {
        Provider::Postgresql => format!("postgresql://user:password@localhost:5432/{database}"),
        Provider::Mysql => format!("mysql://user:password@localhost:3306/{database}"),
        Provider::Sqlite => format!("file:./{environment}.db"),
    }
}

/// A table's schema and name, when `table` names one as `schema.table`:
/// on PostgreSQL a tool may keep its tracking table in a schema of its own
/// (Drizzle: `drizzle.__drizzle_migrations`). Elsewhere, and for a name
/// with more dots, the whole is one name, as before.
pub fn schema_and_table(provider: Provider, table: &str) -> Option<(&str, &str)> {
    match provider {
        Provider::Postgresql => table
            .split_once('.')
            .filter(|(schema, name)| !schema.is_empty() && !name.is_empty() && !name.contains('.')),
        Provider::Mysql | Provider::Sqlite => None,
    }
}

/// `table` quoted for the provider's SQL, its schema too when it names one
/// (see [`schema_and_table`]).
pub fn quote_table(provider: Provider, table: &str) -> String {
    match schema_and_table(provider, table) {
        Some((schema, name)) => format!("{}.{}", quote(provider, schema), quote(provider, name)),
        None => quote(provider, table),
    }
}

/// Quotes an identifier for the provider's SQL.
pub fn quote(provider: Provider, identifier: &str) -> String {
    match provider {
        Provider::Mysql => format!("`{}`", identifier.replace('`', "``")),
        Provider::Postgresql | Provider::Sqlite => {
            format!("\"{}\"", identifier.replace('"', "\"\""))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_table_may_name_its_schema() {
        let pg = Provider::Postgresql;
        assert_eq!(
            quote_table(pg, "drizzle.__drizzle_migrations"),
            r#""drizzle"."__drizzle_migrations""#
        );
        assert_eq!(
            quote_table(pg, "_prisma_migrations"),
            r#""_prisma_migrations""#
        );
        for one_name in ["a.b.c", ".b", "a."] {
            assert_eq!(schema_and_table(pg, one_name), None, "{one_name}");
        }
        assert_eq!(quote_table(Provider::Mysql, "a.b"), "`a.b`");
        assert_eq!(quote_table(Provider::Sqlite, "a.b"), r#""a.b""#);
    }

    #[test]
    fn a_typed_name_finds_the_one_it_meant() {
        let known = ["dev", "staging", "production"];
        assert_eq!(closest("stagng", known.into_iter()), Some("staging"));
        assert_eq!(closest("prodcution", known.into_iter()), Some("production"));
        assert_eq!(closest("prod", known.into_iter()), Some("production"));
        assert_eq!(closest("qa", known.into_iter()), None);
    }

    #[test]
    fn accepts_ordinary_names() {
        for name in ["myapp_dev", "myapp-production", "_x", "A1"] {
            assert!(validate(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_hostile_names() {
        for name in [
            "",
            "x\"; DROP DATABASE postgres; --",
            "a;b",
            "naïve",
            "1abc",
            "a b",
            "../etc",
            "x`y",
            &"a".repeat(64),
        ] {
            let failure = validate(name).unwrap_err();
            assert!(failure.error.starts_with("Invalid database name"), "{name}");
            assert!(!failure.suggestions.is_empty());
        }
    }

    #[test]
    fn derives_valid_names() {
        assert_eq!(derive("My App", "dev"), "my_app_dev");
        assert_eq!(derive("2048-game", "staging"), "db_2048_game_staging");
        assert_eq!(derive("üñí", "dev"), "dev");
        assert_eq!(derive("..", "dev"), "dev");
        let long = derive(&"x".repeat(200), "production");
        assert!(validate(&long).is_ok());
        for (project, env) in [("a--b", "dev"), ("x", "prod")] {
            let name = derive(project, env);
            assert!(validate(&name).is_ok(), "{name}");
        }
    }

    proptest::proptest! {
        // Bounded by proptest's case count (PROPTEST_CASES; 256 by default,
        // raise it for a longer fuzzing run).
        #[test]
        fn any_project_and_environment_derive_a_valid_name(project in ".*", environment in "[a-z_-]{1,64}") {
            let name = derive(&project, &environment);
            proptest::prop_assert!(validate(&name).is_ok(), "{:?}", name);
        }

        #[test]
        fn validation_never_panics_and_accepts_only_safe_characters(name in ".*") {
            if validate(&name).is_ok() {
                proptest::prop_assert!(name.len() <= MAX_NAME_BYTES);
                proptest::prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
            }
        }

        /// Names of the accepted alphabet, around the length limit: accepted
        /// exactly when they are short enough.
        #[test]
        fn names_of_the_safe_alphabet_are_accepted_up_to_the_limit(name in "[A-Za-z_][A-Za-z0-9_-]{0,80}") {
            proptest::prop_assert_eq!(validate(&name).is_ok(), name.len() <= MAX_NAME_BYTES, "{}", name);
        }

        #[test]
        fn quoting_cannot_be_escaped(identifier in ".*") {
            for provider in Provider::ALL {
                let quoted = quote(provider, &identifier);
                let mark = if provider == Provider::Mysql { '`' } else { '"' };
                let inner = &quoted[1..quoted.len() - 1];
                // Every quote character inside is doubled, so none ends the identifier.
                proptest::prop_assert_eq!(inner.replace(&format!("{mark}{mark}"), "").contains(mark), false);
            }
        }
    }

    #[test]
    fn quotes_per_dialect() {
        assert_eq!(quote(Provider::Postgresql, "a\"b"), "\"a\"\"b\"");
        assert_eq!(quote(Provider::Mysql, "a`b"), "`a``b`");
    }
}
