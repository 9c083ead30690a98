//! `faber-db handler new`: a handler crate on the `faber-db-handler` SDK.
//!
//! The host carries the SDK's sources and the contract it binds, and
//! installs them once per SDK version in the user's SDK folder
//! (`FABER_DB_SDK_DIR`, else `faber-db/sdk` in the user data directory), as
//! `<version>/` in a checkout's layout (`wit/` and
//! `handlers/faber-db-handler/`, so the SDK finds the WIT at `../../wit`).
//! New crates depend on it by path, its version pinned: a fixed SDK of that
//! version, installed by a later faber-db, reaches every one of them at its
//! next build, and none carries a copy. The crate needs nothing but the Rust
//! toolchain and the SDK's one dependency, `wit-bindgen`: no checkout, no
//! network when that is already in Cargo's cache.

use std::path::{Path, PathBuf};

use crate::failure::{Failure, Outcome};
use crate::runtime::CONTRACT_VERSION as WIT_VERSION;

const CARGO_TOML: &str = include_str!("../../templates/handler/Cargo.toml.in");
const LIB_RS: &str = include_str!("../../templates/handler/lib.rs.in");
const README: &str = include_str!("../../templates/handler/README.md.in");

/// Every file of the SDK and the contract, by its path in the repository
/// (and in an installed SDK version's folder).
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
        "handlers/faber-db-handler/src/config_text.rs",
        include_str!("../../../handlers/faber-db-handler/src/config_text.rs"),
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
        "handlers/faber-db-handler/src/project.rs",
        include_str!("../../../handlers/faber-db-handler/src/project.rs"),
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

/// The folder SDK versions are installed in: `FABER_DB_SDK_DIR`, else the
/// user data directory's `faber-db/sdk`.
pub fn sdk_home() -> Outcome<PathBuf> {
    let home = std::env::var_os("FABER_DB_SDK_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|dir| dir.join("faber-db").join("sdk")))
        .ok_or_else(|| {
            Failure::new("There is no user data directory to install the handler SDK in")
                .help("Set FABER_DB_SDK_DIR to a folder for it")
        })?;
    // Absolute: crates name it, and Cargo reads a relative path from theirs.
    std::path::absolute(&home).map_err(|err| {
        Failure::new(format!(
            "Cannot place the handler SDK at {}",
            home.display()
        ))
        .cause(err)
    })
}

/// The SDK's version, as its `Cargo.toml` says.
fn sdk_version() -> &'static str {
    let manifest = SDK_FILES
        .iter()
        .find(|(path, _)| path.ends_with("faber-db-handler/Cargo.toml"))
        .map_or("", |(_, text)| text);
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the SDK's Cargo.toml states its version")
}

/// This faber-db's SDK at `home/<version>/`, installed unless the same
/// bytes are there already; returns the SDK crate's folder. A folder of
/// that version whose files differ (another faber-db's build of it, or
/// one edited by hand) is replaced: the SDK of a version is the copy of
/// the faber-db that last ran `handler new`. The new copy is written
/// beside it and renamed into place, the old one moved aside first, so a
/// crate never builds against half an SDK; a run that loses the race to
/// another one installing the same bytes takes theirs.
pub fn install_sdk(home: &Path) -> Outcome<PathBuf> {
    let installed = home.join(sdk_version());
    let crate_dir = installed.join("handlers/faber-db-handler");
    if is_intact(&installed) {
        return Ok(crate_dir);
    }
    let cannot = |path: &Path, err: std::io::Error| {
        Failure::new(format!(
            "Cannot install the handler SDK at {}",
            path.display()
        ))
        .cause(err)
        .help("Check that the folder is writable, or set FABER_DB_SDK_DIR to another")
    };
    let aside = |what: &str| home.join(format!(".{}.{what}-{}", sdk_version(), std::process::id()));
    let (partial, old) = (aside("partial"), aside("old"));
    let written = SDK_FILES.iter().try_for_each(|(path, text)| {
        let file = partial.join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(&partial))
            .and_then(|()| std::fs::write(&file, text))
            .map_err(|err| cannot(&file, err))
    });
    let moved = written.and_then(|()| match std::fs::rename(&installed, &old) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(cannot(&installed, err)),
        _ => std::fs::rename(&partial, &installed).map_err(|err| cannot(&installed, err)),
    });
    let _ = std::fs::remove_dir_all(&partial);
    let _ = std::fs::remove_dir_all(&old);
    match moved {
        Err(_) if is_intact(&installed) => Ok(crate_dir),
        moved => moved.map(|()| crate_dir),
    }
}

/// Every file of this faber-db's SDK is at `installed`, byte for byte.
fn is_intact(installed: &Path) -> bool {
    SDK_FILES.iter().all(|(path, text)| {
        std::fs::read(installed.join(path)).is_ok_and(|bytes| bytes == text.as_bytes())
    })
}

/// `path` as a TOML string, for a manifest.
fn toml_string(path: &Path) -> Outcome<String> {
    let text = path.to_str().ok_or_else(|| {
        Failure::new(format!(
            "The handler SDK's folder {} is not UTF-8",
            path.display()
        ))
        .help("Set FABER_DB_SDK_DIR to a folder whose path is UTF-8")
    })?;
    Ok(toml::Value::String(text.to_owned()).to_string())
}

/// Writes the crate for handler `name` into `parent/name`, depending on
/// the SDK installed in `sdk_home`; returns its folder.
pub fn create(parent: &Path, name: &str, sdk_home: &Path) -> Outcome<PathBuf> {
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
    let sdk = install_sdk(sdk_home)?;
    let table = format!(
        "{}_migrations",
        name.trim_start_matches("handler-db-").replace('-', "_")
    );
    let sdk_path = toml_string(&sdk)?;
    let render = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{file}}", &name.replace('-', "_"))
            .replace("{{table}}", &table)
            .replace("{{wit_version}}", WIT_VERSION)
            .replace("{{sdk_version}}", sdk_version())
            .replace("\"{{sdk_path}}\"", &sdk_path)
    };
    let own = [
        ("Cargo.toml".to_owned(), render(CARGO_TOML)),
        ("src/lib.rs".to_owned(), render(LIB_RS)),
        ("README.md".to_owned(), render(README)),
    ];
    for (file, text) in own {
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
    fn the_crate_depends_on_the_installed_sdk_its_version_pinned() {
        let parent = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let dir = create(parent.path(), "handler-db-plain", home.path()).unwrap();
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
        let sdk = home
            .path()
            .join(format!("{}/handlers/faber-db-handler", sdk_version()));
        assert_eq!(
            named,
            [format!(
                r#"faber-db-handler = {{ version = "={}", path = {} }}"#,
                sdk_version(),
                toml_string(&sdk).unwrap()
            )]
        );
        assert!(sdk.join("src/lib.rs").is_file());
        assert!(sdk.join("../../wit/faber-db.wit").is_file());
        assert!(!dir.join("vendor").exists(), "no copy in the crate");
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("export_migration_tool!(Handler);"), "{lib}");
        assert!(!lib.contains("{{"), "every placeholder is filled: {lib}");
    }

    #[test]
    fn an_sdk_that_differs_from_this_faber_dbs_is_installed_again() {
        let home = tempfile::tempdir().unwrap();
        let sdk = install_sdk(home.path()).unwrap();
        let lib = sdk.join("src/lib.rs");
        std::fs::write(&lib, "// an older build of this version").unwrap();
        let stray = sdk.join("src/stray.rs");
        std::fs::write(&stray, "").unwrap();
        assert_eq!(install_sdk(home.path()).unwrap(), sdk);
        let carried = SDK_FILES
            .iter()
            .find(|(path, _)| path.ends_with("src/lib.rs"))
            .unwrap()
            .1;
        assert_eq!(std::fs::read_to_string(&lib).unwrap(), carried);
        assert!(
            !stray.exists(),
            "the version's folder is the host's copy, whole"
        );
        // Intact, it is left as it is.
        std::fs::write(&stray, "").unwrap();
        install_sdk(home.path()).unwrap();
        assert!(stray.exists());
        let names: Vec<_> = std::fs::read_dir(home.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            [std::ffi::OsString::from(sdk_version())],
            "nothing partial left"
        );
    }
}
