//! Compiled components on disk, keyed by the component's sha256 and the
//! engine's compatibility hash, so a warm run never recompiles.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// The cache folder: `FABER_DB_CACHE_DIR`, else the user's cache directory.
pub fn default_dir() -> Option<PathBuf> {
    std::env::var_os("FABER_DB_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|dir| dir.join("faber-db").join("components")))
}

pub struct CompileCache {
    dir: PathBuf,
    engine_key: u64,
}

impl CompileCache {
    pub fn new(dir: PathBuf, engine: &Engine) -> CompileCache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir,
            engine_key: hasher.finish(),
        }
    }

    /// A cache in the same folder for another engine's code.
    pub fn beside(&self, engine: &Engine) -> CompileCache {
        CompileCache::new(self.dir.clone(), engine)
    }

    pub fn entry(&self, sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256}-{:016x}.cwasm", self.engine_key))
    }

    /// The cached compilation of `sha256`, if there is a usable one.
    pub fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.entry(sha256);
        if !path.is_file() {
            return None;
        }
        // SAFETY: the file is one this cache wrote with `Component::serialize`
        // from the same engine configuration (the compatibility hash is in its
        // name), under a name that commits to the source's sha256. wasmtime
        // still checks the header and refuses an incompatible artifact, which
        // falls back to compiling.
        unsafe { Component::deserialize_file(engine, &path) }.ok()
    }

    /// Stores a compilation. Failing to cache is not an error for the run:
    /// the next run compiles again.
    pub fn store(&self, sha256: &str, component: &Component) {
        let Ok(bytes) = component.serialize() else {
            return;
        };
        let path = self.entry(sha256);
        let _ = write_atomically(&self.dir, &path, &bytes);
    }
}

/// Writes through a temporary file and a rename, so that a concurrent run
/// never reads a half-written artifact.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}
