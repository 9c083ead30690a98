//! Finding a handler component by name.
//!
//! Order: the project's folder (`.fractary/plugins/faber-db/handlers/`), the
//! user's folder (`FABER_DB_HANDLERS_DIR`, else the user data directory's
//! `faber-db/handlers/`), then the handlers bundled with the host (a
//! `handlers/` folder beside the binary, or the workspace's own build output
//! when running from a checkout).

use std::path::{Path, PathBuf};

use crate::config::config_dir;
use crate::failure::{Failure, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Project,
    User,
    Bundled,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Project => "project",
            Source::User => "user",
            Source::Bundled => "bundled",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: String,
    pub path: PathBuf,
    pub source: Source,
}

/// The handler name for a configured migration tool: `prisma` → `handler-db-prisma`.
pub fn migration_tool_handler(tool: &str) -> String {
    if tool.starts_with("handler-") {
        tool.to_owned()
    } else {
        format!("handler-db-{tool}")
    }
}

pub fn project_dir(project: &Path) -> PathBuf {
    config_dir(project).join("handlers")
}

pub fn user_dir() -> Option<PathBuf> {
    std::env::var_os("FABER_DB_HANDLERS_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|dir| dir.join("faber-db").join("handlers")))
}

fn bundled_dirs() -> Vec<PathBuf> {
    let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    // A checkout's `target/<profile>/faber-db` finds the components built by
    // `cargo build --target wasm32-wasip2` in `target/wasm32-wasip2/release`.
    vec![
        exe_dir.join("handlers"),
        exe_dir.join("..").join("wasm32-wasip2").join("release"),
    ]
}

pub fn resolve(project: &Path, name: &str) -> Outcome<Resolved> {
    let mut places = vec![(Source::Project, project_dir(project))];
    places.extend(user_dir().map(|dir| (Source::User, dir)));
    places.extend(bundled_dirs().into_iter().map(|dir| (Source::Bundled, dir)));
    // Cargo names a cdylib with underscores.
    let file_names = [
        format!("{name}.wasm"),
        format!("{}.wasm", name.replace('-', "_")),
    ];
    for (source, dir) in &places {
        for file in &file_names {
            let path = dir.join(file);
            if path.is_file() {
                return Ok(Resolved {
                    name: name.to_owned(),
                    path,
                    source: *source,
                });
            }
        }
    }
    let searched: Vec<String> = places
        .iter()
        .map(|(_, dir)| dir.display().to_string())
        .collect();
    Err(Failure::new(format!("Handler {name} not found"))
        .cause(format!("searched {}", searched.join(", ")))
        .help(format!(
            "Put {name}.wasm into {} (or build the bundled handlers: cargo build --release --target wasm32-wasip2 -p {name})",
            project_dir(project).display()
        )))
}
