//! A migration file as Drizzle's migrator reads it: its hash, and its
//! statements, separated by `--> statement-breakpoint` lines.

use sha2::{Digest, Sha256};

use faber_db_handler::ids::lower_hex;
use faber_db_handler::types::HandlerError;

/// The line drizzle-kit writes between two statements.
pub const BREAKPOINT: &str = "--> statement-breakpoint";

/// What `drizzle-kit generate --custom` writes into a new migration.
pub const CUSTOM_MIGRATION: &str = "-- Custom SQL migration file, put your code below! --";

/// What the migrator records: the SHA-256 of the whole file, hex.
pub fn hash(text: &str) -> String {
    lower_hex(&Sha256::digest(text.as_bytes()))
}

/// The migrator sends each statement between breakpoints on its own; the
/// host runs the file as one script, in which a breakpoint is a comment.
/// The two are the same exactly when every statement before a breakpoint
/// ends with `;`, as drizzle-kit writes them: a file where one does not is
/// refused, naming the statement, rather than run differently.
pub fn check_statements_end(file: &str, text: &str) -> Result<(), HandlerError> {
    let parts: Vec<&str> = text.split(BREAKPOINT).collect();
    let Some((_, before_breakpoints)) = parts.split_last() else {
        return Ok(());
    };
    for (number, part) in before_breakpoints.iter().enumerate() {
        if !ends_its_statement(part) {
            return Err(HandlerError::Conflict(format!(
                "{file}: statement {} does not end with `;` before its `{BREAKPOINT}` line; \
                 faber-db runs the file as one script, where that statement would run into \
                 the next: end it with `;`",
                number + 1
            )));
        }
    }
    Ok(())
}

/// True when the part's last code line ends with `;`, the part holds only
/// comments, or its last line has a comment this reading cannot tell from
/// a string (then the database judges).
fn ends_its_statement(part: &str) -> bool {
    let code = part
        .lines()
        .map(str::trim_end)
        .rfind(|line| !line.trim_start().starts_with("--") && !line.trim().is_empty());
    code.is_none_or(|line| line.ends_with(';') || line.contains("--") || line.contains("*/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha256_of_the_whole_file() {
        assert_eq!(
            hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn drizzle_kits_files_run_the_same_as_one_script() {
        let written = "CREATE TABLE `users` (\n\t`id` integer\n);\n--> statement-breakpoint\nCREATE INDEX `i` ON `users` (`id`);";
        assert!(check_statements_end("0000_init.sql", written).is_ok());
        assert!(check_statements_end("0001_custom.sql", CUSTOM_MIGRATION).is_ok());
        let commented = "SELECT 1; -- done\n-- more\n--> statement-breakpoint\nSELECT 2";
        assert!(check_statements_end("x.sql", commented).is_ok());
    }

    #[test]
    fn a_statement_without_its_semicolon_before_a_breakpoint_is_refused() {
        let text =
            "SELECT 1;\n--> statement-breakpoint\nSELECT 2\n--> statement-breakpoint\nSELECT 3";
        match check_statements_end("0002_x.sql", text) {
            Err(HandlerError::Conflict(message)) => {
                assert!(message.starts_with("0002_x.sql: statement 2 "), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
