//! What dbmate makes of a migration file: its version from the file name, and
//! the SQL to apply from its `-- migrate:up` section (with the marker lines
//! the host's `migration-script` finds it by). Pure text handling.

use std::cmp::Ordering;

use faber_db_handler::tracking::Named;
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

impl Named for Migration {
    fn name(&self) -> String {
        self.name.clone()
    }
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

/// The `-- migrate:up` section of a migration file, and how to have the
/// host's `migration-script` run exactly it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpSection<'a> {
    /// The text between the up line and the next `-- migrate:down` line
    /// (or the end of the file).
    pub sql: &'a str,
    /// The up line as written, without its line break (`--migrate:up`,
    /// `-- migrate:up transaction:false`, …).
    pub up_line: &'a str,
    /// The down line that ends the section, as written, if there is one.
    pub down_line: Option<&'a str>,
    /// False when the up line carries dbmate's `transaction:false`: dbmate
    /// then runs the section outside a transaction.
    pub in_transaction: bool,
}

impl<'a> UpSection<'a> {
    /// The up section of `text`; `None` when there is no up line, which
    /// dbmate refuses too. Options after the directive are allowed on its
    /// line; `transaction:false` is the one dbmate knows.
    pub fn of(text: &'a str) -> Option<Self> {
        let mut lines = lines(text);
        let (up_line, start, options) = lines
            .find_map(|(line, _, end)| Some((line.trim_end(), end, directive(line, "up")?)))?;
        let down = lines.find(|(line, _, _)| directive(line, "down").is_some());
        Some(Self {
            sql: &text[start..down.map_or(text.len(), |(_, at, _)| at)],
            up_line,
            down_line: down.map(|(line, _, _)| line.trim_end()),
            in_transaction: !options
                .split_whitespace()
                .any(|option| option == "transaction:false"),
        })
    }

    /// True when the host finds this same section from the marker lines:
    /// it starts after the first line that begins with `up_line` and ends
    /// before the first later line that begins with `down_line`. A line
    /// that merely begins like a directive (`-- migrate:upgrade` before
    /// `-- migrate:up`) would make it find another part.
    pub fn is_found_by_markers(&self, text: &str) -> bool {
        let mut lines = lines(text);
        let Some((_, _, start)) = lines.find(|(line, _, _)| line.starts_with(self.up_line)) else {
            return false;
        };
        let end = match self.down_line {
            Some(down) => lines
                .find(|(line, _, _)| line.starts_with(down))
                .map_or(text.len(), |(_, at, _)| at),
            None => text.len(),
        };
        text.get(start..end) == Some(self.sql)
    }
}

/// The text of the up section (see [`UpSection::of`]).
pub fn up_section(text: &str) -> Option<&str> {
    UpSection::of(text).map(|section| section.sql)
}

/// Each line of `text` with its line break, where it starts and where the
/// next one starts.
fn lines(text: &str) -> impl Iterator<Item = (&str, usize, usize)> {
    text.split_inclusive('\n').scan(0, |start, line| {
        let at = *start;
        *start += line.len();
        Some((line, at, *start))
    })
}

/// The options of a `-- migrate:<section>` line (what follows the
/// directive, possibly nothing); `None` for any other line.
fn directive<'l>(line: &'l str, section: &str) -> Option<&'l str> {
    line.trim_end()
        .strip_prefix("--")
        .and_then(|rest| rest.trim_start().strip_prefix("migrate:"))
        .and_then(|rest| rest.strip_prefix(section))
        .filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
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

    #[test]
    fn the_section_names_its_marker_lines_as_written() {
        let text = "--migrate:up\r\nSELECT 1;\r\n--   migrate:down\r\nSELECT 2;\r\n";
        let section = UpSection::of(text).unwrap();
        assert_eq!(
            section,
            UpSection {
                sql: "SELECT 1;\r\n",
                up_line: "--migrate:up",
                down_line: Some("--   migrate:down"),
                in_transaction: true,
            }
        );
        assert!(section.is_found_by_markers(text));
        let without_down = UpSection::of("-- migrate:up\nSELECT 1;").unwrap();
        assert_eq!(without_down.down_line, None);
        assert!(without_down.is_found_by_markers("-- migrate:up\nSELECT 1;"));
    }

    #[test]
    fn transaction_false_on_the_up_line_turns_the_transaction_off() {
        let off = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\
                   -- migrate:down\nDROP INDEX i;\n";
        let section = UpSection::of(off).unwrap();
        assert!(!section.in_transaction);
        assert_eq!(section.up_line, "-- migrate:up transaction:false");
        assert!(section.is_found_by_markers(off));
        for on in [
            "-- migrate:up\nSELECT 1;\n",
            "-- migrate:up transaction:true\nSELECT 1;\n",
            "-- migrate:up\n-- migrate:down transaction:false\n",
        ] {
            assert!(UpSection::of(on).unwrap().in_transaction, "{on}");
        }
    }

    #[test]
    fn a_look_alike_line_before_a_marker_is_noticed() {
        let before_up = "-- migrate:upgrade\n-- migrate:up\nSELECT 1;\n-- migrate:down\n";
        let section = UpSection::of(before_up).unwrap();
        assert_eq!(section.sql, "SELECT 1;\n");
        assert!(!section.is_found_by_markers(before_up));
        let before_down = "-- migrate:up\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n\
                           -- migrate:down\n";
        let section = UpSection::of(before_down).unwrap();
        assert_eq!(section.sql, "SELECT 1;\n-- migrate:downgrade\nSELECT 2;\n");
        assert!(!section.is_found_by_markers(before_down));
    }
}
