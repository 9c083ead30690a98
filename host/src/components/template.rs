//! `faber-db handler new`: a handler crate on the `faber-db-handler` SDK.
//!
//! The host carries the SDK's sources and the contract it binds, and writes
//! them beside the new crate as `vendor/faber-db/` (the same layout as a
//! checkout: `wit/` and `handlers/faber-db-handler/`, so the SDK finds the
//! WIT at `../../wit` in both). The crate then needs nothing but the Rust
//! toolchain and the SDK's one dependency, `wit-bindgen`: no checkout, no
//! network when that is already in Cargo's cache.

use std::path::{Path, PathBuf};

use crate::failure::{Failure, Outcome};
use crate::runtime::CONTRACT_VERSION as WIT_VERSION;

const CARGO_TOML: &str = include_str!("../../templates/handler/Cargo.toml.in");
const LIB_RS: &str = include_str!("../../templates/handler/lib.rs.in");
const README: &str = include_str!("../../templates/handler/README.md.in");

/// Where the vendored slice of faber-db goes inside the new crate.
const VENDOR: &str = "vendor/faber-db";

/// Every file of the SDK and the contract, by its path in the repository
/// (and, under [`VENDOR`], in the new crate).
const SDK_FILES: &[(&str, &str)] = &[
    (
        "wit/faber-db.wit",
        include_str!("../../../wit/faber-db.wit"),
    ),
    (
        "handlers/faber-db-handler/Cargo.toml",
        include_str!("../../../handlers/faber-db-handler/Cargo.toml"),
    ),
    (
        "handlers/faber-db-handler/build.rs",
        include_str!("../../../handlers/faber-db-handler/build.rs"),
    ),
    (
        "handlers/faber-db-handler/src/lib.rs",
        include_str!("../../../handlers/faber-db-handler/src/lib.rs"),
    ),
    (
        "handlers/faber-db-handler/src/bindings.rs",
        include_str!("../../../handlers/faber-db-handler/src/bindings.rs"),
    ),
    (
        "handlers/faber-db-handler/src/clock.rs",
        include_str!("../../../handlers/faber-db-handler/src/clock.rs"),
    ),
    (
        "handlers/faber-db-handler/src/dialect.rs",
        include_str!("../../../handlers/faber-db-handler/src/dialect.rs"),
    ),
    (
        "handlers/faber-db-handler/src/folder.rs",
        include_str!("../../../handlers/faber-db-handler/src/folder.rs"),
    ),
    (
        "handlers/faber-db-handler/src/ids.rs",
        include_str!("../../../handlers/faber-db-handler/src/ids.rs"),
    ),
    (
        "handlers/faber-db-handler/src/script.rs",
        include_str!("../../../handlers/faber-db-handler/src/script.rs"),
    ),
    (
        "handlers/faber-db-handler/src/tracking.rs",
        include_str!("../../../handlers/faber-db-handler/src/tracking.rs"),
    ),
];

/// Writes the crate for handler `name` into `parent/name`; returns its folder.
pub fn create(parent: &Path, name: &str) -> Outcome<PathBuf> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        return Err(Failure::new(format!("Invalid handler name {name:?}"))
            .help("Use lower-case kebab-case starting with a letter, e.g. handler-db-flyway"));
    }
    let dir = parent.join(name);
    if dir.exists() {
        return Err(Failure::new(format!("{} already exists", dir.display()))
            .help("Choose another name or remove the folder"));
    }
    let table = format!(
        "{}_migrations",
        name.trim_start_matches("handler-db-").replace('-', "_")
    );
    let render = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{file}}", &name.replace('-', "_"))
            .replace("{{table}}", &table)
            .replace("{{wit_version}}", WIT_VERSION)
    };
    let own = [
        ("Cargo.toml".to_owned(), render(CARGO_TOML)),
        ("src/lib.rs".to_owned(), render(LIB_RS)),
        ("README.md".to_owned(), render(README)),
    ];
    let vendored = SDK_FILES
        .iter()
        .map(|(path, text)| (format!("{VENDOR}/{path}"), (*text).to_owned()));
    for (file, text) in own.into_iter().chain(vendored) {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap_or(&dir))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|err| Failure::new(format!("Cannot write {}", path.display())).cause(err))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files under `dir`, as paths relative to `root`.
    fn files_under(root: &Path, dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_under(root, &path, found);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    /// A file added to the SDK (or the contract) must be carried too, or
    /// the crates `handler new` writes would not build.
    #[test]
    fn the_host_carries_every_file_of_the_sdk_and_the_contract() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut on_disk = Vec::new();
        files_under(&root, &root.join("handlers/faber-db-handler"), &mut on_disk);
        // The package the SDK binds is the `.wit` files at the top of `wit/`
        // (frozen older versions in folders below it are not read).
        for entry in std::fs::read_dir(root.join("wit")).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".wit") {
                on_disk.push(format!("wit/{name}"));
            }
        }
        on_disk.sort();
        let mut carried: Vec<String> = SDK_FILES.iter().map(|(p, _)| p.to_string()).collect();
        carried.sort();
        assert_eq!(carried, on_disk);
    }

    #[test]
    fn the_crate_depends_on_the_vendored_sdk_only() {
        let parent = tempfile::tempdir().unwrap();
        let dir = create(parent.path(), "handler-db-plain").unwrap();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let dependencies = manifest
            .split("[dependencies]")
            .nth(1)
            .unwrap()
            .split("\n[")
            .next()
            .unwrap();
        let named: Vec<&str> = dependencies
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
            .collect();
        assert_eq!(
            named,
            [r#"faber-db-handler = { path = "vendor/faber-db/handlers/faber-db-handler" }"#]
        );
        assert!(
            dir.join("vendor/faber-db/handlers/faber-db-handler/src/lib.rs")
                .is_file()
        );
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("export_migration_tool!(Handler);"), "{lib}");
        assert!(!lib.contains("{{"), "every placeholder is filled: {lib}");
    }
}
