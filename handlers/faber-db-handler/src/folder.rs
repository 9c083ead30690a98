//! The migrations folder the host granted for the call (`/migrations` in
//! the sandbox): listing, reading, and writing files atomically.
//!
//! Errors name the path relative to the folder, which is what the user
//! knows it by, as `handler-error.filesystem`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::types::HandlerError;

/// The granted folder, addressed by paths relative to it.
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    /// The folder at `root`, a path inside the sandbox (the request's
    /// `migrations-dir`).
    pub fn new(root: &str) -> Self {
        Self { root: root.into() }
    }

    /// The names of the regular files directly in the folder, sorted. Names
    /// that are not UTF-8 are left out: no tool writes them.
    pub fn file_names(&self) -> Result<Vec<String>, HandlerError> {
        self.names(|path| path.is_file())
    }

    /// The names of the directories directly in the folder that hold a file
    /// called `file` (e.g. Prisma's `<name>/migration.sql`), sorted. A
    /// directory without it (an editor's leftover, a half-deleted migration)
    /// is left out.
    pub fn directories_with(&self, file: &str) -> Result<Vec<String>, HandlerError> {
        self.names(|path| path.join(file).is_file())
    }

    fn names(&self, keep: impl Fn(&Path) -> bool) -> Result<Vec<String>, HandlerError> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(|e| error(".", e))? {
            let entry = entry.map_err(|e| error(".", e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if keep(&entry.path()) {
                names.push(name);
            }
        }
        names.sort_unstable();
        Ok(names)
    }

    /// True when `relative` names a regular file in the folder.
    pub fn is_file(&self, relative: &str) -> bool {
        self.root.join(relative).is_file()
    }

    pub fn read(&self, relative: &str) -> Result<Vec<u8>, HandlerError> {
        fs::read(self.root.join(relative)).map_err(|e| error(relative, e))
    }

    pub fn read_text(&self, relative: &str) -> Result<String, HandlerError> {
        fs::read_to_string(self.root.join(relative)).map_err(|e| error(relative, e))
    }

    /// The file's text, or `None` when there is no such file.
    pub fn read_text_if_present(&self, relative: &str) -> Result<Option<String>, HandlerError> {
        match fs::read_to_string(self.root.join(relative)) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(error(relative, e)),
        }
    }

    /// Writes the file (creating its directory) under a hidden temporary
    /// name, `.<name>.partial` beside it, then renames it into place: an
    /// interrupted call never leaves a truncated migration that a tool would
    /// take as real, and the temporary name never looks like a migration.
    /// There is no need to sync: the host syncs every file a call reports
    /// written once the call returns.
    pub fn write_atomically(&self, relative: &str, content: &str) -> Result<(), HandlerError> {
        let target = self.root.join(relative);
        let file_name = target
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| {
                HandlerError::InvalidRequest(format!("{relative:?} does not name a file"))
            })?;
        let temporary = target.with_file_name(format!(".{file_name}.partial"));
        let write = || -> io::Result<()> {
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)?;
            }
            let mut file = File::create(&temporary)?;
            file.write_all(content.as_bytes())?;
            fs::rename(&temporary, &target)
        };
        write().map_err(|e| {
            // Best effort: the write's own error is the one worth reporting.
            let _ = fs::remove_file(&temporary);
            error(relative, e)
        })
    }
}

/// A filesystem failure on `relative` (a path inside the folder), as the
/// contract's error.
pub fn error(relative: &str, error: io::Error) -> HandlerError {
    HandlerError::Filesystem(format!("{relative}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_in(dir: &tempfile::TempDir) -> Folder {
        Folder::new(dir.path().to_str().expect("temp path is UTF-8"))
    }

    #[test]
    fn lists_files_and_directories_holding_a_file_sorted() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["20250102000000_b", "20240101000000_a"] {
            fs::create_dir(dir.path().join(name)).unwrap();
            fs::write(dir.path().join(name).join("migration.sql"), "SELECT 1;").unwrap();
        }
        fs::create_dir(dir.path().join("20230101000000_no_sql")).unwrap();
        fs::write(dir.path().join("b.sql"), "").unwrap();
        fs::write(dir.path().join("a.sql"), "").unwrap();

        let folder = folder_in(&dir);
        assert_eq!(
            folder.directories_with("migration.sql").unwrap(),
            ["20240101000000_a", "20250102000000_b"]
        );
        assert_eq!(folder.file_names().unwrap(), ["a.sql", "b.sql"]);
    }

    #[test]
    fn atomic_write_creates_the_directory_and_leaves_no_partial() {
        let dir = tempfile::tempdir().unwrap();
        let folder = folder_in(&dir);
        folder
            .write_atomically("20260101000000_init/migration.sql", "-- x")
            .unwrap();
        folder.write_atomically("1_top.sql", "-- y").unwrap();

        assert_eq!(
            folder.read("20260101000000_init/migration.sql").unwrap(),
            b"-- x"
        );
        assert_eq!(folder.read_text("1_top.sql").unwrap(), "-- y");
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("20260101000000_init"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["migration.sql"]);
        assert_eq!(folder.file_names().unwrap(), ["1_top.sql"]);
    }

    #[test]
    fn missing_file_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            folder_in(&dir).read_text_if_present("lock.toml").unwrap(),
            None
        );
    }

    #[test]
    fn errors_name_the_relative_path() {
        let dir = tempfile::tempdir().unwrap();
        match folder_in(&dir).read("nope/migration.sql") {
            Err(HandlerError::Filesystem(message)) => {
                assert!(message.starts_with("nope/migration.sql: "), "{message}")
            }
            other => panic!("expected a filesystem error, got {other:?}"),
        }
    }
}
