//! Reading a project's own files for `read-project` (`config init`). The
//! host hands over exactly the paths a handler asks for, call by call; with
//! [`Project`] a handler reads them as if from disk, in one pass: a path not
//! handed over yet reads as absent and is noted, and the export macro asks
//! the host for the noted paths and runs the reading again with them.

use std::cell::RefCell;

use crate::migration_tool::{ProjectEntry, ProjectFile, ProjectReading, ProjectSettings};
use crate::types::Provider;

/// The files of the project handed over so far.
pub struct Project {
    files: Vec<ProjectFile>,
    wanted: RefCell<Vec<String>>,
}

impl Project {
    pub fn new(files: Vec<ProjectFile>) -> Project {
        Project {
            files,
            wanted: RefCell::new(Vec::new()),
        }
    }

    /// A project of these files (path, text), every other path absent: a
    /// handler's reading, tested without a host.
    pub fn of_files(files: &[(&str, &str)]) -> Project {
        Project::new(
            files
                .iter()
                .map(|(path, text)| ProjectFile {
                    path: path.to_string(),
                    entry: ProjectEntry::File(text.to_string()),
                })
                .collect(),
        )
    }

    /// The text of the file at `path` (relative to the project,
    /// `/`-separated), when there is one the host grants.
    pub fn read(&self, path: &str) -> Option<&str> {
        match self.entry(path)? {
            ProjectEntry::File(text) => Some(text),
            _ => None,
        }
    }

    /// The names in the folder at `path`, sorted.
    pub fn list(&self, path: &str) -> Option<&[String]> {
        match self.entry(path)? {
            ProjectEntry::Folder(names) => Some(names),
            _ => None,
        }
    }

    fn entry(&self, path: &str) -> Option<&ProjectEntry> {
        let given = self.files.iter().find(|file| file.path == path);
        if given.is_none() {
            let mut wanted = self.wanted.borrow_mut();
            if !wanted.iter().any(|asked| asked == path) {
                wanted.push(path.to_owned());
            }
        }
        given.map(|file| &file.entry)
    }
}

/// What a tool's files say, in faber-db's terms (see `project-settings` in
/// the WIT); what is not set is what the tool's defaults say.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Found {
    /// The files read, relative to the project.
    pub read_from: Vec<String>,
    pub provider: Option<Provider>,
    /// Relative to the project; the tool's conventional folder when `None`.
    pub migrations_directory: Option<String>,
    pub tracking_table: Option<String>,
    pub url_variable: Option<String>,
    pub next_steps: Vec<String>,
    /// Anything else the files said, each a string, in the report.
    pub details: Vec<(&'static str, String)>,
}

/// The answer to one `read-project` call: `read` runs over the files handed
/// over so far, and its result is the answer unless it asked for a path
/// not handed over yet.
#[doc(hidden)]
pub fn answer(
    files: Vec<ProjectFile>,
    tool_name: &str,
    conventional_directory: &str,
    read: impl FnOnce(&Project) -> Option<Found>,
) -> ProjectReading {
    let project = Project::new(files);
    let found = read(&project);
    let wanted = project.wanted.into_inner();
    if !wanted.is_empty() {
        return ProjectReading::Read(wanted);
    }
    let found = found.unwrap_or_default();
    ProjectReading::Settings(ProjectSettings {
        tool_name: tool_name.to_owned(),
        read_from: found.read_from,
        provider: found.provider,
        migrations_directory: found
            .migrations_directory
            .unwrap_or_else(|| conventional_directory.to_owned()),
        tracking_table: found.tracking_table,
        url_variable: found.url_variable,
        next_steps: found.next_steps,
        details: json_object(&found.details),
    })
}

/// `{"key": "value", …}`, each string escaped as JSON requires.
fn json_object(entries: &[(&str, String)]) -> String {
    let quoted = |text: &str| {
        let mut out = String::from('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    };
    let fields: Vec<String> = entries
        .iter()
        .map(|(key, value)| format!("{}: {}", quoted(key), quoted(value)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> ProjectFile {
        ProjectFile {
            path: path.to_owned(),
            entry: ProjectEntry::File(text.to_owned()),
        }
    }

    fn reading(project: &Project) -> Option<Found> {
        let text = project.read("tool.json")?;
        let extra = project.read("extra.json");
        Some(Found {
            read_from: vec!["tool.json".to_owned()],
            migrations_directory: Some(text.trim().to_owned()),
            details: vec![("extra", extra.unwrap_or("none").to_owned())],
            ..Found::default()
        })
    }

    #[test]
    fn paths_not_handed_over_are_asked_for_then_read() {
        assert_eq!(
            answer(Vec::new(), "Tool", "migrations", reading),
            ProjectReading::Read(vec!["tool.json".to_owned()])
        );
        let first = vec![file("tool.json", "db")];
        assert_eq!(
            answer(first.clone(), "Tool", "migrations", reading),
            ProjectReading::Read(vec!["extra.json".to_owned()])
        );
        let mut all = first;
        all.push(ProjectFile {
            path: "extra.json".to_owned(),
            entry: ProjectEntry::Absent,
        });
        let ProjectReading::Settings(settings) = answer(all, "Tool", "migrations", reading) else {
            panic!("every path was handed over");
        };
        assert_eq!(settings.migrations_directory, "db");
        assert_eq!(settings.details, r#"{"extra": "none"}"#);
    }

    #[test]
    fn a_project_without_the_tools_files_gets_its_conventions() {
        let absent = vec![ProjectFile {
            path: "tool.json".to_owned(),
            entry: ProjectEntry::Absent,
        }];
        let ProjectReading::Settings(settings) = answer(absent, "Tool", "db/migrations", reading)
        else {
            panic!("every path was handed over");
        };
        assert!(settings.read_from.is_empty());
        assert_eq!(settings.migrations_directory, "db/migrations");
        assert_eq!(settings.details, "{}");
    }

    #[test]
    fn details_are_escaped_as_json() {
        assert_eq!(
            json_object(&[("a", "say \"hi\"\\\n".to_owned())]),
            r#"{"a": "say \"hi\"\\\u000a"}"#
        );
    }
}
