//! `faber-db handler new`: a handler crate that builds against `wit/` alone.

use std::path::{Path, PathBuf};

use crate::failure::{Failure, Outcome};
use crate::runtime::CONTRACT_VERSION as WIT_VERSION;

const CARGO_TOML: &str = include_str!("../../templates/handler/Cargo.toml.in");
const LIB_RS: &str = include_str!("../../templates/handler/lib.rs.in");
const README: &str = include_str!("../../templates/handler/README.md.in");
const WIT: &str = include_str!("../../../wit/faber-db.wit");

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
    let files = [
        ("Cargo.toml", render(CARGO_TOML)),
        ("src/lib.rs", render(LIB_RS)),
        ("README.md", render(README)),
        ("wit/faber-db.wit", WIT.to_owned()),
    ];
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap_or(&dir))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|err| Failure::new(format!("Cannot write {}", path.display())).cause(err))?;
    }
    Ok(dir)
}
