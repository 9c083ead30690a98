//! The user's cache of handlers fetched from registries, addressed by
//! content: `<cache>/sha256/<hex>.wasm`. A file is written there only after
//! its bytes hashed to its name, so finding the pinned sha256 here is finding
//! exactly the pinned handler; projects on one machine share it, and a
//! project needs only its lock file (`faber-db handler install` fills it).

use std::path::{Path, PathBuf};

use crate::failure::{Failure, Outcome};

/// `FABER_DB_HANDLER_CACHE`, else the user cache directory's `faber-db/handlers`.
pub fn dir() -> Option<PathBuf> {
    std::env::var_os("FABER_DB_HANDLER_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|dir| dir.join("faber-db").join("handlers")))
}

/// Where the component with this sha256 lives in the cache; `None` for a
/// value that is not a sha256 (a lock file is input: it names no paths).
pub fn path_for(sha256: &str) -> Option<PathBuf> {
    let valid = sha256.len() == 64
        && sha256
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    if !valid {
        return None;
    }
    dir().map(|dir| dir.join("sha256").join(format!("{sha256}.wasm")))
}

/// The cached component with this sha256, if the cache holds it.
pub fn lookup(sha256: &str) -> Option<PathBuf> {
    path_for(sha256).filter(|path| path.is_file())
}

/// Stores `bytes` under their own sha256 (written through a temporary file
/// and a rename, so a reader never sees half a component).
pub fn store(bytes: &[u8]) -> Outcome<PathBuf> {
    let sha256 = crate::runtime::sha256_hex(bytes);
    let path = path_for(&sha256).ok_or_else(|| {
        Failure::new("No handler cache directory")
            .cause("neither FABER_DB_HANDLER_CACHE nor a user cache directory is set")
            .help("Set FABER_DB_HANDLER_CACHE to a folder faber-db may write to")
    })?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let failed = |err: std::io::Error| {
        Failure::new(format!(
            "Cannot write to the handler cache {}",
            folder.display()
        ))
        .cause(err)
        .help("Check that the folder is writable, or point FABER_DB_HANDLER_CACHE elsewhere")
    };
    std::fs::create_dir_all(folder).map_err(failed)?;
    let temporary = folder.join(format!(".{sha256}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes).map_err(failed)?;
    std::fs::rename(&temporary, &path).map_err(failed)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sha256_names_a_cache_file() {
        assert!(path_for("../../etc/passwd").is_none());
        assert!(path_for(&"A".repeat(64)).is_none());
        assert!(path_for(&"a".repeat(63)).is_none());
        let path = path_for(&"0".repeat(64)).unwrap();
        assert!(path.ends_with(format!("sha256/{}.wasm", "0".repeat(64))));
    }
}
