//! The files of a project a migration tool's `read-project` is given. The
//! handler holds no folder during that call: it names paths, and the host
//! reads each one here, granting only what lies inside the project as the
//! filesystem resolves it (links followed, then checked) and never a `.env`
//! file, where faber-db and applications keep connection strings. A handler
//! written to read anything else gets `absent`, as for a missing file.

use std::path::{Component, Path, PathBuf};

use super::contract::{ProjectEntry, ProjectSettings};
use super::untrusted;

/// The most paths one `read-project` call may ask for.
pub const MOST_NEW_PATHS: usize = 64;
/// The most calls one reading of a project takes.
pub const MOST_ROUNDS: usize = 16;
/// A larger file is `absent`: configuration files are small.
const LARGEST_FILE: u64 = 1 << 20;
/// A folder's names beyond this many are left out.
const MOST_NAMES: usize = 1000;
/// The largest `details` object a project's settings may carry.
const LARGEST_DETAILS: usize = 64 * 1024;

/// What `asked` (relative to `project`, `/`-separated) holds, as far as it
/// is granted.
pub fn read(project: &Path, asked: &str) -> ProjectEntry {
    granted(project, asked)
        .and_then(|path| entry(&path))
        .unwrap_or(ProjectEntry::Absent)
}

/// The path `asked` resolves to, when it is inside the project and names no
/// `.env` file on the way there, before or after its links are followed.
fn granted(project: &Path, asked: &str) -> Option<PathBuf> {
    if asked.starts_with('/') || asked.contains(['\\', '\0']) {
        return None;
    }
    let parts: Vec<&str> = asked
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts
        .iter()
        .any(|part| *part == ".." || holds_credentials(part))
    {
        return None;
    }
    let root = project.canonicalize().ok()?;
    let resolved = root.join(parts.join("/")).canonicalize().ok()?;
    let inside = resolved.strip_prefix(&root).ok()?;
    let named_credentials = inside.components().any(|part| match part {
        Component::Normal(name) => holds_credentials(&name.to_string_lossy()),
        _ => true,
    });
    (!named_credentials).then_some(resolved)
}

/// `.env`, `.env.local`, `.env.production`, …
fn holds_credentials(name: &str) -> bool {
    name.starts_with(".env")
}

fn entry(path: &Path) -> Option<ProjectEntry> {
    let metadata = std::fs::metadata(path).ok()?;
    if metadata.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(path)
            .ok()?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        names.truncate(MOST_NAMES);
        return Some(ProjectEntry::Folder(names));
    }
    if !metadata.is_file() || metadata.len() > LARGEST_FILE {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    String::from_utf8(bytes).ok().map(ProjectEntry::File)
}

/// A handler's settings held to the shapes faber-db's configuration takes
/// (they are written into it), their text cleaned for output; else why not.
pub fn checked(settings: ProjectSettings) -> Result<ProjectSettings, String> {
    untrusted::check_relative_path("migrations directory", &settings.migrations_directory)?;
    for file in &settings.read_from {
        untrusted::check_relative_path("file read", file)?;
    }
    if let Some(table) = &settings.tracking_table {
        untrusted::check_tracking_table(table)?;
    }
    if let Some(variable) = &settings.url_variable {
        untrusted::check_variable_name(variable)?;
    }
    let details_ok = settings.details.len() <= LARGEST_DETAILS
        && serde_json::from_str::<serde_json::Value>(&settings.details)
            .is_ok_and(|details| details.is_object());
    if !details_ok {
        return Err("read-project's details are not a JSON object of at most 64 KiB".to_owned());
    }
    Ok(ProjectSettings {
        tool_name: untrusted::clean(&settings.tool_name),
        next_steps: settings
            .next_steps
            .iter()
            .map(|step| untrusted::clean(step))
            .collect(),
        ..settings
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::write(dir.path().join("config/app.json"), "{}").unwrap();
        std::fs::write(dir.path().join("package.json"), "{\"name\":\"app\"}").unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "DATABASE_URL=postgres://u:secret@h/db",
        )
        .unwrap();
        dir
    }

    #[test]
    fn files_and_folders_inside_the_project_are_read() {
        let dir = project();
        assert_eq!(
            read(dir.path(), "package.json"),
            ProjectEntry::File("{\"name\":\"app\"}".to_owned())
        );
        assert_eq!(
            read(dir.path(), "./config//app.json"),
            ProjectEntry::File("{}".to_owned())
        );
        assert_eq!(
            read(dir.path(), "config"),
            ProjectEntry::Folder(vec!["app.json".to_owned()])
        );
        assert_eq!(read(dir.path(), "missing.ts"), ProjectEntry::Absent);
    }

    #[test]
    fn nothing_outside_the_project_and_no_env_file_is_granted() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let dir = project();
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap();
        };
        link(&outside.path().join("secret.txt"), "escape.txt");
        link(outside.path(), "escape");
        link(&dir.path().join(".env"), "settings.txt");
        std::fs::write(dir.path().join(".env.production"), "X=1").unwrap();
        std::fs::write(dir.path().join("large.ts"), vec![b'a'; 2 << 20]).unwrap();
        std::fs::write(dir.path().join("binary.ts"), [0xff, 0xfe]).unwrap();
        let absolute = outside.path().join("secret.txt");
        for asked in [
            ".env",
            ".env.production",
            "config/../.env",
            "../secret.txt",
            absolute.to_str().unwrap(),
            "escape.txt",
            "escape/secret.txt",
            "settings.txt",
            "large.ts",
            "binary.ts",
            "config\\app.json",
        ] {
            assert_eq!(read(dir.path(), asked), ProjectEntry::Absent, "{asked}");
        }
    }

    fn settings() -> ProjectSettings {
        ProjectSettings {
            tool_name: "Tool\x1b[2J".to_owned(),
            read_from: vec!["tool.config.ts".to_owned()],
            provider: None,
            migrations_directory: "db/migrations".to_owned(),
            tracking_table: Some("ops.journal".to_owned()),
            url_variable: Some("APP_DATABASE_URL".to_owned()),
            next_steps: Vec::new(),
            details: r#"{"dialect": "mysql"}"#.to_owned(),
        }
    }

    #[test]
    fn settings_are_held_to_the_configurations_shapes() {
        assert_eq!(checked(settings()).unwrap().tool_name, "Tool [2J");
        let bad: [fn(&mut ProjectSettings); 6] = [
            |s| s.migrations_directory = "../elsewhere".to_owned(),
            |s| s.migrations_directory = "/etc".to_owned(),
            |s| s.read_from = vec!["a/../../b".to_owned()],
            |s| s.tracking_table = Some("pg_catalog.pg_authid".to_owned()),
            |s| s.url_variable = Some("X; rm -rf /".to_owned()),
            |s| s.details = "[1, 2]".to_owned(),
        ];
        for spoil in bad {
            let mut settings = settings();
            spoil(&mut settings);
            assert!(checked(settings.clone()).is_err(), "{settings:?}");
        }
    }
}
