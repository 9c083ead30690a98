//! The project's lock file, `.fractary/plugins/faber-db/handlers.lock`: the
//! exact handlers a project uses, each pinned by the sha256 of its `.wasm`.
//!
//! Like Cargo.lock or `.terraform.lock.hcl`: written on first use, committed,
//! reviewed in diffs, and checked before every load. A handler added from an
//! OCI registry also records where it came from and its manifest digest, so
//! `faber-db handler install` can fetch exactly it on another machine.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::config_dir;
use crate::failure::{Failure, Outcome};

pub const FILE_NAME: &str = "handlers.lock";
const FORMAT_VERSION: u32 = 1;
const HEADER: &str = "# This file is written by faber-db: it pins the handler components this\n\
                      # project uses. Commit it. `faber-db handler verify` checks it.\n\n";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub name: String,
    pub version: String,
    /// The contract the handler was built against, e.g. `faber:db@0.2.0`.
    pub wit: String,
    /// `migration-tool` or `cloud-provider`.
    pub world: String,
    pub sha256: String,
    /// Where it was added from, as the user named it (`oci://REGISTRY/REPOSITORY:TAG`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The registry manifest's digest (`sha256:…`): what `install` fetches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// For a handler pinned as bundled with faber-db, that faber-db's
    /// version: the pinned bytes are inside that build, not in the project,
    /// and another build bundles other bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundled_with: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct LockFile {
    version: u32,
    #[serde(default, rename = "handler")]
    pins: Vec<Pin>,
}

pub fn path(project: &Path) -> PathBuf {
    config_dir(project).join(FILE_NAME)
}

impl LockFile {
    /// The project's lock file; an absent one is empty.
    pub fn load(project: &Path) -> Outcome<LockFile> {
        let path = path(project);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LockFile {
                    version: FORMAT_VERSION,
                    pins: Vec::new(),
                });
            }
            Err(err) => {
                return Err(Failure::new(format!("Cannot read {}", path.display())).cause(err));
            }
        };
        let lock: LockFile = toml::from_str(&text).map_err(|err| {
            Failure::new(format!("Invalid lock file {}", path.display()))
                .cause(err.to_string().trim())
                .help("Restore it from version control, or delete it and pin again with: faber-db handler add NAME")
        })?;
        if lock.version != FORMAT_VERSION {
            return Err(Failure::new(format!(
                "{} has format version {}, this faber-db reads version {FORMAT_VERSION}",
                path.display(),
                lock.version
            ))
            .help("Use the faber-db version that wrote it, or upgrade faber-db"));
        }
        Ok(lock)
    }

    pub fn pins(&self) -> &[Pin] {
        &self.pins
    }

    pub fn get(&self, name: &str) -> Option<&Pin> {
        self.pins.iter().find(|pin| pin.name == name)
    }

    /// Adds or replaces the pin of `pin.name`; returns the one it replaced.
    pub fn pin(&mut self, pin: Pin) -> Option<Pin> {
        let previous = self.remove(&pin.name);
        self.pins.push(pin);
        self.pins.sort_by(|a, b| a.name.cmp(&b.name));
        previous
    }

    pub fn remove(&mut self, name: &str) -> Option<Pin> {
        let index = self.pins.iter().position(|pin| pin.name == name)?;
        Some(self.pins.remove(index))
    }

    /// Writes through a temporary file and a rename: a reader never sees
    /// half a lock file.
    pub fn save(&self, project: &Path) -> Outcome<()> {
        let path = path(project);
        let failed = |err: std::io::Error| {
            Failure::new(format!("Cannot write {}", path.display())).cause(err)
        };
        let body = toml::to_string_pretty(self)
            .map_err(|err| Failure::new("Cannot render the lock file").cause(err))?;
        let temporary = path.with_extension(format!("lock.{}.tmp", std::process::id()));
        std::fs::create_dir_all(config_dir(project)).map_err(failed)?;
        std::fs::write(&temporary, format!("{HEADER}{body}")).map_err(failed)?;
        std::fs::rename(&temporary, &path).map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(name: &str, sha: &str) -> Pin {
        Pin {
            name: name.to_owned(),
            version: "0.1.0".to_owned(),
            wit: "faber:db@0.2.0".to_owned(),
            world: "migration-tool".to_owned(),
            sha256: sha.to_owned(),
            source: None,
            digest: None,
            bundled_with: None,
        }
    }

    #[test]
    fn round_trips_sorted_and_replaces_pins() {
        let project = tempfile::tempdir().unwrap();
        let mut lock = LockFile::load(project.path()).unwrap();
        assert!(lock.pins().is_empty());
        lock.pin(pin("handler-db-prisma", "aa"));
        lock.pin(pin("handler-cloud-aws", "bb"));
        assert_eq!(
            lock.pin(pin("handler-db-prisma", "cc")).unwrap().sha256,
            "aa"
        );
        lock.save(project.path()).unwrap();

        let text = std::fs::read_to_string(path(project.path())).unwrap();
        assert!(text.starts_with("# This file is written by faber-db"));
        assert!(text.find("handler-cloud-aws").unwrap() < text.find("handler-db-prisma").unwrap());
        let again = LockFile::load(project.path()).unwrap();
        assert_eq!(again.get("handler-db-prisma").unwrap().sha256, "cc");
        assert_eq!(again.pins().len(), 2);
    }

    #[test]
    fn a_broken_lock_file_is_an_error_with_a_fix() {
        let project = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(config_dir(project.path())).unwrap();
        std::fs::write(path(project.path()), "version = [").unwrap();
        let failure = LockFile::load(project.path()).unwrap_err();
        assert!(failure.error.starts_with("Invalid lock file"));
        assert!(!failure.suggestions.is_empty());
    }
}
