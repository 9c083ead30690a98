//! How much one call may add to the directory it was granted. WASI has no
//! quota, so the host measures the directory itself: while the guest runs,
//! at every check of the call's deadline (a handler cannot write gigabytes
//! before the check), and the workflow once more after the call.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Migrations are text: a handler that writes more in one call is broken or
/// hostile.
pub const MAX_GROWTH_BYTES: u64 = 64 << 20;

/// The granted directory's size when the call began.
pub struct FolderBudget {
    dir: PathBuf,
    before: u64,
    exceeded: bool,
}

impl FolderBudget {
    pub fn new(dir: &Path) -> FolderBudget {
        FolderBudget {
            dir: dir.to_path_buf(),
            before: survey(dir).0,
            exceeded: false,
        }
    }

    /// Measures again; true (from then on) once the call has added more
    /// than [`MAX_GROWTH_BYTES`].
    pub fn exceeded_now(&mut self) -> bool {
        if !self.exceeded {
            let now = survey(&self.dir).0;
            self.exceeded = now.saturating_sub(self.before) > MAX_GROWTH_BYTES;
        }
        self.exceeded
    }

    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

/// Total bytes of the regular files below `dir`, and its symbolic links
/// (never followed).
pub fn survey(dir: &Path) -> (u64, BTreeSet<PathBuf>) {
    let mut bytes = 0;
    let mut links = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_symlink() {
                links.insert(entry.path());
            } else if kind.is_dir() {
                pending.push(entry.path());
            } else if let Ok(metadata) = entry.metadata() {
                bytes += metadata.len();
            }
        }
    }
    (bytes, links)
}
