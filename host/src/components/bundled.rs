//! The handlers bundled with faber-db. `build.rs` embeds their components in
//! the binary, so an installed `faber-db` has them wherever it is copied; on
//! first use each is written into the user's content-addressed handler cache
//! (`<cache>/sha256/<hex>.wasm`) and loaded from there like any other file.
//! The file is used only while its bytes still hash to its name, so a cache
//! edited behind faber-db's back is rewritten, not trusted.

use std::path::PathBuf;

use super::{Resolved, Source};
use crate::failure::Outcome;

/// One embedded component.
pub struct Embedded {
    /// The handler's name (`handler-db-prisma`).
    pub name: &'static str,
    /// The version of the handler's crate it was built from.
    pub version: &'static str,
    /// The sha256 of `bytes`, computed when they were embedded.
    pub sha256: &'static str,
    pub bytes: &'static [u8],
}

/// Written by `build.rs`: every bundled handler, in the order `handler
/// list` shows them.
static EMBEDDED: &[Embedded] = include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

pub fn all() -> &'static [Embedded] {
    EMBEDDED
}

/// The bundled handler called exactly `name`.
pub fn get(name: &str) -> Option<&'static Embedded> {
    EMBEDDED.iter().find(|embedded| embedded.name == name)
}

/// The bundled handler `name` stands for: its own name, or the short name of
/// a bundled migration tool or cloud provider (`prisma`, `aws`).
pub fn by_short_name(name: &str) -> Option<&'static Embedded> {
    [
        name.to_owned(),
        format!("handler-db-{name}"),
        format!("handler-cloud-{name}"),
    ]
    .iter()
    .find_map(|candidate| get(candidate))
}

impl Embedded {
    /// The handler, found: its component as a file in the handler cache.
    pub fn resolved(&self) -> Outcome<Resolved> {
        Ok(Resolved {
            name: self.name.to_owned(),
            path: self.materialize()?,
            source: Source::Bundled,
        })
    }

    /// The component as a file in the handler cache, written there first
    /// when the cache does not hold these exact bytes.
    pub fn materialize(&self) -> Outcome<PathBuf> {
        let intact = super::cache::lookup(self.sha256).filter(|path| {
            std::fs::read(path).is_ok_and(|bytes| crate::runtime::sha256_hex(&bytes) == self.sha256)
        });
        match intact {
            Some(path) => Ok(path),
            None => super::cache::store(self.bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_handler_is_embedded_and_found_by_its_short_name() {
        let names: Vec<&str> = all().iter().map(|embedded| embedded.name).collect();
        // The workspace's order: Prisma, the default tool, is asked first.
        assert_eq!(names.first(), Some(&"handler-db-prisma"));
        assert!(names.contains(&"handler-cloud-aws"), "{names:?}");
        for embedded in all() {
            // A component, not an empty placeholder.
            assert_eq!(&embedded.bytes[..8], b"\0asm\x0d\0\x01\0");
            assert_eq!(crate::runtime::sha256_hex(embedded.bytes), embedded.sha256);
            let short = embedded
                .name
                .strip_prefix("handler-db-")
                .or_else(|| embedded.name.strip_prefix("handler-cloud-"))
                .unwrap();
            assert_eq!(by_short_name(short).unwrap().name, embedded.name);
        }
        assert!(by_short_name("flyway").is_none());
    }
}
