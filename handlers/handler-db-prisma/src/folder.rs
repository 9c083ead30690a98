//! The migrations folder as Prisma lays it out: `migration_lock.toml` at the
//! top and one `<YYYYMMDDHHMMSS>_<name>/migration.sql` per migration.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;

use crate::faber::db::types::HandlerError;

const MIGRATION_FILE: &str = "migration.sql";

/// Where a migration's SQL lives, relative to the migrations folder.
pub fn migration_file(migration: &str) -> String {
    format!("{migration}/{MIGRATION_FILE}")
}

pub struct MigrationsFolder {
    root: PathBuf,
}

impl MigrationsFolder {
    pub fn new(root: &str) -> Self {
        Self { root: root.into() }
    }

    /// Migration names, oldest first. Prisma's timestamp prefix makes name
    /// order creation order. A directory without `migration.sql` is not a
    /// migration to Prisma (an editor's leftover, a half-deleted one), so it
    /// is not one here either.
    pub fn migrations(&self) -> Result<Vec<String>, HandlerError> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(|e| fs_error(".", e))? {
            let entry = entry.map_err(|e| fs_error(".", e))?;
            // Prisma only writes UTF-8 names; anything else is not its migration.
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if entry.path().join(MIGRATION_FILE).is_file() {
                names.push(name);
            }
        }
        names.sort_unstable();
        Ok(names)
    }

    /// True when `name` is one of [`Self::migrations`], found without
    /// listing the folder (which grows with every migration).
    pub fn has_migration(&self, name: &str) -> bool {
        !name.is_empty()
            && !name.contains(['/', '\\'])
            && !name.starts_with('.')
            && self.root.join(name).join(MIGRATION_FILE).is_file()
    }

    pub fn read(&self, relative: &str) -> Result<Vec<u8>, HandlerError> {
        fs::read(self.root.join(relative)).map_err(|e| fs_error(relative, e))
    }

    /// The file's text, or `None` when there is no such file.
    pub fn read_text_if_present(&self, relative: &str) -> Result<Option<String>, HandlerError> {
        match fs::read_to_string(self.root.join(relative)) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(fs_error(relative, e)),
        }
    }

    /// Writes the file under a temporary name and renames it into place, so an
    /// interrupted call never leaves a truncated file that Prisma would take
    /// as real. The host syncs what a call wrote to disk once it returns.
    pub fn write_atomically(&self, relative: &str, content: &str) -> Result<(), HandlerError> {
        let target = self.root.join(relative);
        let mut partial = target.clone().into_os_string();
        partial.push(".partial");
        let write = || -> io::Result<()> {
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)?;
            }
            let mut file = File::create(&partial)?;
            file.write_all(content.as_bytes())?;
            fs::rename(&partial, &target)
        };
        write().map_err(|e| {
            // Best effort: the error being reported matters more than a leftover.
            let _ = fs::remove_file(&partial);
            fs_error(relative, e)
        })
    }
}

fn fs_error(relative: &str, error: io::Error) -> HandlerError {
    HandlerError::Filesystem(format!("{relative}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_in(dir: &tempfile::TempDir) -> MigrationsFolder {
        MigrationsFolder::new(dir.path().to_str().expect("temp path is UTF-8"))
    }

    #[test]
    fn lists_only_directories_with_sql_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["20250102000000_b", "20240101000000_a", "20260101000000_c"] {
            fs::create_dir(dir.path().join(name)).unwrap();
            fs::write(dir.path().join(name).join(MIGRATION_FILE), "SELECT 1;").unwrap();
        }
        fs::create_dir(dir.path().join("20230101000000_no_sql")).unwrap();
        fs::write(dir.path().join("migration_lock.toml"), "").unwrap();

        assert_eq!(
            folder_in(&dir).migrations().unwrap(),
            ["20240101000000_a", "20250102000000_b", "20260101000000_c"]
        );
    }

    #[test]
    fn atomic_write_creates_the_migration_directory_and_leaves_no_partial() {
        let dir = tempfile::tempdir().unwrap();
        let folder = folder_in(&dir);
        folder
            .write_atomically(&migration_file("20260101000000_init"), "-- x")
            .unwrap();

        assert_eq!(
            folder.read("20260101000000_init/migration.sql").unwrap(),
            b"-- x"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("20260101000000_init"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, [MIGRATION_FILE]);
    }

    #[test]
    fn missing_file_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            folder_in(&dir)
                .read_text_if_present("migration_lock.toml")
                .unwrap(),
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
