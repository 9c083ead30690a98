//! What dbmate makes of a migration file: its version from the file name, and
//! the SQL to apply from its `-- migrate:up` section. Pure text handling.

use std::cmp::Ordering;

use faber_db_handler::types::HandlerError;

const EXTENSION: &str = ".sql";

/// One migration file of the folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// The leading digits of the file name; what the tracking table records.
    pub version: String,
    /// The file name without `.sql`, e.g. `20261124010203_init`; the name the
    /// outcome reports.
    pub name: String,
}

impl Migration {
    /// The migration a file name denotes: `<version>_<name>.sql`, where the
    /// version is one or more ASCII digits. `None` for any other file (a
    /// README, an editor's backup), which is not a migration.
    pub fn from_file_name(file_name: &str) -> Option<Self> {
        let name = file_name.strip_suffix(EXTENSION)?;
        let digits = name.bytes().take_while(u8::is_ascii_digit).count();
        let description = name[digits..].strip_prefix('_')?;
        if digits == 0 || description.is_empty() {
            return None;
        }
        Some(Self {
            version: name[..digits].to_string(),
            name: name.to_string(),
        })
    }

    pub fn file_name(&self) -> String {
        format!("{}{EXTENSION}", self.name)
    }
}

/// The migrations among `file_names`, oldest (lowest version) first.
///
/// Two files with one version would share one row of the tracking table, so
/// whichever ran second would never run anywhere; that is refused here rather
/// than discovered in production.
pub fn oldest_first<'a>(
    file_names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Migration>, HandlerError> {
    let mut migrations: Vec<Migration> = file_names
        .into_iter()
        .filter_map(Migration::from_file_name)
        .collect();
    migrations.sort_by(|a, b| compare_versions(&a.version, &b.version).then(a.name.cmp(&b.name)));
    if let Some(pair) = migrations.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(HandlerError::Conflict(format!(
            "{} and {} have the same version {}; dbmate records a migration by its version, \
             so rename one of them",
            pair[0].file_name(),
            pair[1].file_name(),
            pair[0].version
        )));
    }
    Ok(migrations)
}

/// Numeric order on digit strings of any length (`9` before `10`), without
/// parsing them into an integer that a long version would overflow. Versions
/// equal as numbers (`01`, `1`) fall back to text order to stay total.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (a_digits, b_digits) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a_digits
        .len()
        .cmp(&b_digits.len())
        .then_with(|| a_digits.cmp(b_digits))
        .then_with(|| a.cmp(b))
}

/// The text between the `-- migrate:up` line and the next `-- migrate:down`
/// line (or the end of the file); `None` when there is no up line, which
/// dbmate refuses too. Options after the directive (`transaction:false`) are
/// allowed on its line and ignored.
pub fn up_section(text: &str) -> Option<&str> {
    let mut section_start = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        match section_start {
            None if is_directive(line, "up") => section_start = Some(line_end),
            Some(start) if is_directive(line, "down") => return Some(&text[start..line_start]),
            _ => {}
        }
        line_start = line_end;
    }
    section_start.map(|start| &text[start..])
}

/// True for a `-- migrate:<section>` line, with or without options after it.
fn is_directive(line: &str, section: &str) -> bool {
    line.trim_end()
        .strip_prefix("--")
        .and_then(|rest| rest.trim_start().strip_prefix("migrate:"))
        .and_then(|rest| rest.strip_prefix(section))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(migrations: &[Migration]) -> Vec<&str> {
        migrations.iter().map(|m| m.version.as_str()).collect()
    }

    #[test]
    fn parses_version_and_name() {
        assert_eq!(
            Migration::from_file_name("20261124010203_create_users.sql"),
            Some(Migration {
                version: "20261124010203".to_string(),
                name: "20261124010203_create_users".to_string(),
            })
        );
        assert_eq!(
            Migration::from_file_name("001_a.b.sql").map(|m| m.version),
            Some("001".to_string())
        );
    }

    #[test]
    fn other_files_are_not_migrations() {
        for name in [
            "README.md",
            "20261124010203_init.sql.bak",
            "20261124010203_init.SQL",
            "init.sql",
            "_init.sql",
            "20261124010203.sql",
            "20261124010203_.sql",
            "20261124010203-init.sql",
            ".20261124010203_init.sql.partial",
        ] {
            assert_eq!(Migration::from_file_name(name), None, "{name}");
        }
    }

    #[test]
    fn file_name_round_trips() {
        let migration = Migration::from_file_name("7_seed.sql").unwrap();
        assert_eq!(migration.file_name(), "7_seed.sql");
    }

    #[test]
    fn orders_by_version_as_a_number() {
        let sorted = oldest_first([
            "20250101000000_c.sql",
            "10_b.sql",
            "notes.txt",
            "9_a.sql",
            "20240101000000_x.sql",
        ])
        .unwrap();
        assert_eq!(
            versions(&sorted),
            ["9", "10", "20240101000000", "20250101000000"]
        );
    }

    #[test]
    fn leading_zeros_do_not_change_the_order() {
        let sorted = oldest_first(["002_b.sql", "1_a.sql", "0003_c.sql"]).unwrap();
        assert_eq!(versions(&sorted), ["1", "002", "0003"]);
        let sorted = oldest_first(["1_b.sql", "01_a.sql"]).unwrap();
        assert_eq!(versions(&sorted), ["01", "1"]);
    }

    #[test]
    fn versions_longer_than_any_integer_still_sort() {
        let long = "9".repeat(40);
        let longer = format!("1{}", "0".repeat(40));
        let files = [format!("{longer}_b.sql"), format!("{long}_a.sql")];
        let sorted = oldest_first(files.iter().map(String::as_str)).unwrap();
        assert_eq!(versions(&sorted), [long.as_str(), longer.as_str()]);
    }

    #[test]
    fn a_shared_version_is_a_conflict_naming_both_files() {
        match oldest_first(["5_b.sql", "5_a.sql", "6_c.sql"]) {
            Err(HandlerError::Conflict(message)) => {
                assert!(message.starts_with("5_a.sql and 5_b.sql"), "{message}");
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn no_migrations() {
        assert_eq!(oldest_first(["README.md"]).unwrap(), []);
    }

    #[test]
    fn up_section_stops_at_down() {
        let text = "-- migrate:up\nCREATE TABLE t (id INT);\n\n-- migrate:down\nDROP TABLE t;\n";
        assert_eq!(up_section(text), Some("CREATE TABLE t (id INT);\n\n"));
    }

    #[test]
    fn up_section_runs_to_the_end_without_down() {
        assert_eq!(
            up_section("-- a comment\n-- migrate:up\nSELECT 1;"),
            Some("SELECT 1;")
        );
        assert_eq!(up_section("-- migrate:up"), Some(""));
    }

    #[test]
    fn baseline_up_section_is_blank() {
        let section = up_section("-- migrate:up\n\n-- migrate:down\n").unwrap();
        assert_eq!(section, "\n");
        assert!(!faber_db_handler::script::has_statements(section));
    }

    #[test]
    fn directives_allow_options_spacing_and_crlf() {
        let text = "--migrate:up transaction:false\r\nSELECT 1;\r\n--   migrate:down\r\n";
        assert_eq!(up_section(text), Some("SELECT 1;\r\n"));
    }

    #[test]
    fn look_alike_lines_are_not_directives() {
        let text = "-- migrate:upgrade\n -- migrate:up\n-- migrate:up\nSELECT 1;\n\
                    -- migrate:downgrade\nSELECT 2;\n";
        assert_eq!(
            up_section(text),
            Some("SELECT 1;\n-- migrate:downgrade\nSELECT 2;\n")
        );
        assert_eq!(up_section("CREATE TABLE t (id INT);\n"), None);
    }
}
