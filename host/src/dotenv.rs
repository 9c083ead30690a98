//! The project's `.env` file, read the way Prisma, dbmate and sqlx-cli read
//! it: a variable already set in the process environment wins, and
//! `--env-file PATH` names another file. A project that keeps its
//! connection strings there (as Prisma projects do) needs no `export`.
//!
//! The file is only ever read for the variables the configuration names;
//! its values are never printed, not even the line of a parse error.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::failure::{Failure, Outcome};

/// The default file, in the project directory.
pub const FILE_NAME: &str = ".env";

static EXPLICIT: OnceLock<PathBuf> = OnceLock::new();

/// `--env-file PATH`, once, before any command runs. A relative path is
/// relative to the current directory, as a shell user expects.
pub fn set_file(path: PathBuf) {
    let path = std::env::current_dir()
        .map(|current| current.join(&path))
        .unwrap_or(path);
    let _ = EXPLICIT.set(path);
}

/// The env file read for `project`: `--env-file`, else its `.env`.
pub fn file(project: &Path) -> PathBuf {
    EXPLICIT
        .get()
        .cloned()
        .unwrap_or_else(|| project.join(FILE_NAME))
}

/// Where a variable's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Environment,
    File(PathBuf),
}

/// The value of `variable`: from the process environment, else from the
/// env file (`--env-file`, else the project's `.env`). `Ok(None)` when it is
/// in neither; an unreadable or malformed file, or `--env-file` naming a
/// file that is not there, is an error.
pub fn var(project: &Path, variable: &str) -> Outcome<Option<(String, Origin)>> {
    if let Some(value) = std::env::var_os(variable) {
        let value = value.into_string().map_err(|_| {
            Failure::new(format!("{variable} is not valid UTF-8"))
                .help("Percent-encode special characters in the connection string, e.g. a password")
        })?;
        return Ok(Some((value, Origin::Environment)));
    }
    let path = file(project);
    if EXPLICIT.get().is_none() && !path.is_file() {
        return Ok(None);
    }
    Ok(lookup(&path, variable)?.map(|value| (value, Origin::File(path))))
}

fn lookup(path: &Path, variable: &str) -> Outcome<Option<String>> {
    let unreadable = |cause: String| {
        Failure::new(format!("Cannot read the env file {}", path.display()))
            .cause(cause)
            .help("Fix the file, or name another with --env-file PATH")
    };
    let entries = dotenvy::from_path_iter(path).map_err(|err| unreadable(err.to_string()))?;
    let mut found = None;
    for entry in entries {
        match entry {
            // A later assignment wins, as in a shell.
            Ok((key, value)) if key == variable => found = Some(value),
            Ok(_) => {}
            Err(dotenvy::Error::LineParse(line, _)) => {
                // The line itself may hold a password: only its number is shown.
                let number = std::fs::read_to_string(path)
                    .ok()
                    .and_then(|text| text.lines().position(|l| l.trim() == line.trim()))
                    .map(|index| format!("line {}", index + 1))
                    .unwrap_or_else(|| "a line".to_owned());
                return Err(unreadable(format!(
                    "{number} is not a NAME=value assignment"
                )));
            }
            Err(err) => return Err(unreadable(err.to_string())),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_read_for_one_variable_and_a_bad_line_is_reported_without_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(
            &path,
            "# comment\nexport FABER_DOTENV_A=\"postgresql://u:p@h/db\"\nFABER_DOTENV_B=x\nFABER_DOTENV_B=y\n",
        )
        .unwrap();
        assert_eq!(
            lookup(&path, "FABER_DOTENV_A").unwrap().as_deref(),
            Some("postgresql://u:p@h/db")
        );
        assert_eq!(
            lookup(&path, "FABER_DOTENV_B").unwrap().as_deref(),
            Some("y")
        );
        assert_eq!(lookup(&path, "FABER_DOTENV_C").unwrap(), None);

        std::fs::write(&path, "FABER_DOTENV_A=ok\nnot an assignment s3cret\n").unwrap();
        let error = lookup(&path, "FABER_DOTENV_A").unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }
}
