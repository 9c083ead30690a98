//! The project's migrations folder: where it is, what this run added to it,
//! and taking that back out on failure.
//!
//! The folder belongs to the project, not to one environment, so runs for
//! different environments serialize on the project lock (see [`ProjectLock`])
//! while they touch it.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Component, Path, PathBuf};

use crate::config::config_dir;
use crate::failure::{Failure, Outcome};
use crate::runtime::folder_budget::{MAX_GROWTH_BYTES, survey};

/// Resolves `configured` against the project and refuses anything that
/// leaves it, lexically (`..`) or through a symbolic link.
pub fn resolve(project: &Path, configured: &str) -> Outcome<PathBuf> {
    let outside = || {
        Failure::new(format!(
            "migrations.directory {configured:?} points outside the project"
        ))
        .cause(format!("the project is {}", project.display()))
        .help("Set migrations.directory to a folder inside the project, e.g. \"prisma/migrations\"")
    };
    let mut path = project.to_path_buf();
    for component in Path::new(configured).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !path.pop() || !path.starts_with(project) {
                    return Err(outside());
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(outside()),
        }
    }
    if path == project {
        return Err(outside().help("The migrations folder cannot be the project directory itself"));
    }
    let existing = path.ancestors().find(|dir| dir.exists()).unwrap_or(project);
    let real = existing
        .canonicalize()
        .map_err(|err| Failure::new(format!("Cannot resolve {}", existing.display())).cause(err))?;
    if !real.starts_with(project) {
        return Err(outside().cause(format!(
            "{} resolves to {}",
            existing.display(),
            real.display()
        )));
    }
    Ok(path)
}

/// The folder as this run found it.
pub struct MigrationsFolder {
    pub path: PathBuf,
    /// The outermost directory this run had to create, if any.
    created: Option<PathBuf>,
    before: BTreeSet<OsString>,
    /// Bytes in regular files and the symbolic links anywhere below it.
    before_bytes: u64,
    before_links: BTreeSet<PathBuf>,
}

impl MigrationsFolder {
    /// Creates the folder if needed and remembers what was already in it.
    pub fn prepare(path: &Path) -> Outcome<MigrationsFolder> {
        let created = path
            .ancestors()
            .take_while(|dir| !dir.exists())
            .last()
            .map(Path::to_path_buf);
        std::fs::create_dir_all(path).map_err(|err| {
            Failure::new(format!(
                "Cannot create the migrations folder {}",
                path.display()
            ))
            .cause(err)
            .help("Check the permissions of the project directory and that the disk is writable")
        })?;
        let before = entries(path).map_err(|err| {
            Failure::new(format!(
                "Cannot read the migrations folder {}",
                path.display()
            ))
            .cause(err)
        })?;
        let (before_bytes, before_links) = survey(path);
        Ok(MigrationsFolder {
            path: path.to_path_buf(),
            created,
            before,
            before_bytes,
            before_links,
        })
    }

    /// What a handler call left in the folder: symbolic links that appeared
    /// and lead out of it (or nowhere) are removed, since the user and other
    /// tools would follow them even though the handler cannot; growth past
    /// [`MAX_GROWTH_BYTES`] fails the call. Returns a line per link removed.
    pub fn audit(&self) -> Outcome<Vec<String>> {
        let root = self
            .path
            .canonicalize()
            .unwrap_or_else(|_| self.path.clone());
        let (now, links) = survey(&self.path);
        let removed = links
            .difference(&self.before_links)
            .filter(|link| !link.canonicalize().is_ok_and(|real| real.starts_with(&root)))
            .map(|link| match std::fs::remove_file(link) {
                Ok(()) => format!(
                    "removed {}: the handler left a symbolic link leading out of the migrations folder",
                    link.display()
                ),
                Err(err) => format!(
                    "could not remove {}, a symbolic link the handler left leading out of the migrations folder: {err}",
                    link.display()
                ),
            })
            .collect();
        let grown = now.saturating_sub(self.before_bytes);
        if grown > MAX_GROWTH_BYTES {
            return Err(
                Failure::new("The handler wrote too much into the migrations folder")
                    .cause(format!(
                        "{grown} bytes in one call, more than {} MiB",
                        MAX_GROWTH_BYTES >> 20
                    ))
                    .help("Report it to the handler's author; what this run wrote is removed"),
            );
        }
        Ok(removed)
    }

    /// Makes the regular files among `files` (paths relative to the folder,
    /// as a handler reported them) durable, with every directory that names
    /// them, up to the outermost one this run created. Handlers need not
    /// sync what they write; the host does it once per call, every fsync at
    /// the same time on the blocking pool (the filesystem commits them
    /// together), while the caller goes on with the database.
    pub fn persist(&self, files: &[String]) -> impl Future<Output = std::io::Result<()>> + 'static {
        let root = self
            .path
            .canonicalize()
            .unwrap_or_else(|_| self.path.clone());
        let mut paths = BTreeSet::new();
        for file in files {
            let Ok(real) = self.path.join(file).canonicalize() else {
                continue;
            };
            if !(real.starts_with(&root) && real.is_file()) {
                continue;
            }
            paths.extend(
                real.ancestors()
                    .take_while(|dir| dir.starts_with(&root))
                    .map(Path::to_path_buf),
            );
        }
        if let Some(created) = &self.created
            && !paths.is_empty()
        {
            let outermost = created.parent().unwrap_or(created);
            paths.extend(
                self.path
                    .ancestors()
                    .take_while(|dir| dir.starts_with(outermost))
                    .map(Path::to_path_buf),
            );
        }
        let syncs: Vec<_> = paths
            .into_iter()
            .map(|path| tokio::task::spawn_blocking(move || File::open(path)?.sync_all()))
            .collect();
        async move {
            for sync in syncs {
                sync.await.map_err(std::io::Error::other)??;
            }
            Ok(())
        }
    }

    /// Removes what this run added: the folder itself if the run created it,
    /// otherwise only the entries that were not there before.
    pub fn undo(&self) -> Vec<String> {
        if let Some(created) = &self.created {
            return match std::fs::remove_dir_all(created) {
                Ok(()) => vec![format!(
                    "removed {} (created by this run)",
                    created.display()
                )],
                Err(err) => vec![format!("could not remove {}: {err}", created.display())],
            };
        }
        let Ok(now) = entries(&self.path) else {
            return Vec::new();
        };
        now.difference(&self.before)
            .map(|name| {
                let entry = self.path.join(name);
                let removed = if entry.is_dir() {
                    std::fs::remove_dir_all(&entry)
                } else {
                    std::fs::remove_file(&entry)
                };
                match removed {
                    Ok(()) => format!("removed {} (written by this run)", entry.display()),
                    Err(err) => format!("could not remove {}: {err}", entry.display()),
                }
            })
            .collect()
    }
}

fn entries(dir: &Path) -> std::io::Result<BTreeSet<OsString>> {
    std::fs::read_dir(dir)?
        .map(|entry| entry.map(|entry| entry.file_name()))
        .collect()
}

/// An exclusive lock on the project, held while a run changes its
/// migrations folder and until its cleanup is done.
pub struct ProjectLock {
    _file: File,
}

impl ProjectLock {
    /// The lock, and whether another run held it first (so this one waited).
    pub fn acquire(project: &Path) -> Outcome<(ProjectLock, bool)> {
        let path = config_dir(project).join(".lock");
        crate::config::ignore_run_time_files(project).map_err(|err| {
            Failure::new(format!("Cannot write {}", config_dir(project).display())).cause(err)
        })?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|err| {
                Failure::new(format!("Cannot open the lock file {}", path.display())).cause(err)
            })?;
        let waited = file.try_lock().is_err();
        if waited {
            crate::logging::emit(
                crate::logging::Level::Warn,
                "faber-db",
                "waiting for another faber-db run on this project to finish",
            );
            file.lock().map_err(|err| {
                Failure::new(format!("Cannot lock {}", path.display())).cause(err)
            })?;
        }
        Ok((ProjectLock { _file: file }, waited))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_inside_the_project() {
        let project = tempfile::tempdir().unwrap();
        let project = project.path().canonicalize().unwrap();
        assert_eq!(
            resolve(&project, "prisma/migrations").unwrap(),
            project.join("prisma/migrations")
        );
        assert_eq!(resolve(&project, "a/../db").unwrap(), project.join("db"));
        for bad in ["../elsewhere", "/etc", "a/../../x", ".", ""] {
            assert!(resolve(&project, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_a_symlink_out_of_the_project() {
        let outside = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let project = project.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(outside.path(), project.join("link")).unwrap();
        assert!(resolve(&project, "link/migrations").is_err());
    }

    #[test]
    fn undo_removes_only_what_the_run_added() {
        let project = tempfile::tempdir().unwrap();
        let dir = project.path().join("migrations");
        std::fs::create_dir_all(dir.join("old")).unwrap();
        let folder = MigrationsFolder::prepare(&dir).unwrap();
        std::fs::create_dir(dir.join("new")).unwrap();
        folder.undo();
        assert!(dir.join("old").exists());
        assert!(!dir.join("new").exists());

        let fresh = MigrationsFolder::prepare(&project.path().join("a/b")).unwrap();
        assert!(fresh.created.is_some());
        fresh.undo();
        assert!(!project.path().join("a").exists());
    }

    #[test]
    fn links_a_call_leaves_leading_out_of_the_folder_are_removed() {
        let project = tempfile::tempdir().unwrap();
        let dir = project.path().join("migrations");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.join("before")).unwrap();
        let folder = MigrationsFolder::prepare(&dir).unwrap();
        std::os::unix::fs::symlink("../..", dir.join("escape")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("sub/deep")).unwrap();
        std::os::unix::fs::symlink("nowhere", dir.join("dangling")).unwrap();
        std::os::unix::fs::symlink("sub", dir.join("inside")).unwrap();

        let removed = folder.audit().unwrap();

        assert_eq!(removed.len(), 3, "{removed:?}");
        for gone in ["escape", "sub/deep", "dangling"] {
            assert!(std::fs::symlink_metadata(dir.join(gone)).is_err(), "{gone}");
        }
        // A link inside the folder, and one the user had before, stay.
        assert!(dir.join("inside").is_dir());
        assert!(std::fs::symlink_metadata(dir.join("before")).is_ok());
    }

    #[test]
    fn growth_past_the_cap_fails_the_call() {
        let project = tempfile::tempdir().unwrap();
        let dir = project.path().join("migrations");
        let folder = MigrationsFolder::prepare(&dir).unwrap();
        let file = std::fs::File::create(dir.join("big")).unwrap();
        file.set_len(MAX_GROWTH_BYTES).unwrap();
        assert!(folder.audit().is_ok(), "up to the cap is fine");
        file.set_len(MAX_GROWTH_BYTES + 1).unwrap();
        let failure = folder.audit().unwrap_err();
        assert!(failure.to_string().contains("wrote too much"), "{failure}");
    }
}
