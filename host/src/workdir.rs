//! Which project directory to work in (step 2 of init, and every command
//! that reads a project).

use std::path::{Path, PathBuf};

use crate::config::CONFIG_DIR;
use crate::failure::{Failure, Outcome};

/// `--cwd`, else `FABER_DB_CWD`, else the legacy `CLAUDE_DB_CWD`, else the
/// current directory, or the git root above it when only that has a config.
pub fn resolve(flag: Option<&Path>) -> Outcome<(PathBuf, String)> {
    let given = flag
        .map(|dir| (dir.to_path_buf(), "--cwd"))
        .or_else(|| env_dir("FABER_DB_CWD"))
        .or_else(|| env_dir("CLAUDE_DB_CWD"));
    if let Some((dir, source)) = given {
        let dir = canonical_dir(&dir).map_err(|failure| failure.help(format!("Check {source}")))?;
        return Ok((dir, format!("from {source}")));
    }
    let current = std::env::current_dir()
        .map_err(|err| Failure::new("Cannot read the current directory").cause(err))?;
    if current.join(CONFIG_DIR).is_dir() {
        return Ok((current, "current directory".to_owned()));
    }
    match current.ancestors().find(|dir| dir.join(".git").exists()) {
        Some(root) if root.join(CONFIG_DIR).is_dir() => Ok((
            root.to_path_buf(),
            "git root above the current directory".to_owned(),
        )),
        _ => Ok((current, "current directory".to_owned())),
    }
}

fn env_dir(variable: &'static str) -> Option<(PathBuf, &'static str)> {
    std::env::var_os(variable)
        .filter(|value| !value.is_empty())
        .map(|value| (PathBuf::from(value), variable))
}

fn canonical_dir(dir: &Path) -> Outcome<PathBuf> {
    let canonical = dir.canonicalize().map_err(|err| {
        Failure::new(format!("Working directory {} is not usable", dir.display())).cause(err)
    })?;
    if !canonical.is_dir() {
        return Err(Failure::new(format!(
            "Working directory {} is not a directory",
            dir.display()
        )));
    }
    Ok(canonical)
}
