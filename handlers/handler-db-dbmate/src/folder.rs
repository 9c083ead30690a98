//! The migrations folder: dbmate keeps every migration as one file directly
//! in it, so the only structure is the file names.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;

use crate::faber::db::types::HandlerError;

pub struct MigrationsFolder {
    root: PathBuf,
}

impl MigrationsFolder {
    pub fn new(root: &str) -> Self {
        Self { root: root.into() }
    }

    /// The names of the regular files directly in the folder; which of them
    /// are migrations is [`crate::migration`]'s to decide.
    pub fn file_names(&self) -> Result<Vec<String>, HandlerError> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(|e| fs_error(".", e))? {
            let entry = entry.map_err(|e| fs_error(".", e))?;
            // A name that is not UTF-8 cannot be a `<digits>_<name>.sql` dbmate wrote.
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if entry.path().is_file() {
                names.push(name);
            }
        }
        Ok(names)
    }

    pub fn read_text(&self, relative: &str) -> Result<String, HandlerError> {
        fs::read_to_string(self.root.join(relative)).map_err(|e| fs_error(relative, e))
    }

    /// Writes under a hidden temporary name, then renames into place: an
    /// interrupted call must never leave a truncated `.sql` that dbmate would
    /// apply. The host syncs what a call wrote to disk once it returns.
    /// The temporary name does not end in `.sql`, so it is never taken for
    /// a migration either.
    pub fn write_atomically(&self, file_name: &str, content: &str) -> Result<(), HandlerError> {
        let target = self.root.join(file_name);
        let temporary = self.root.join(format!(".{file_name}.partial"));
        let write = || -> io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(content.as_bytes())?;
            fs::rename(&temporary, &target)
        };
        write().map_err(|e| {
            // Best effort: the write's own error is the one worth reporting.
            let _ = fs::remove_file(&temporary);
            fs_error(file_name, e)
        })
    }
}

fn fs_error(relative: &str, error: io::Error) -> HandlerError {
    HandlerError::Filesystem(format!("{relative}: {error}"))
}
