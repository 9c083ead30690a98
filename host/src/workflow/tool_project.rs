//! The migration tool's own project, as `config init` finds it, in the
//! terms of faber-db's configuration. Prisma's files are read here, by the
//! host: their rules also decide, on every run, where a relative SQLite
//! path points and how an empty migration is filled. Every other tool's are
//! read by its handler (`read-project`), so a tool's detection ships with
//! its component and the host names no tool but Prisma.

use std::path::Path;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::prisma_schema::{self, PrismaProject};
use crate::components;
use crate::failure::{Failure, Outcome};
use crate::logging;
use crate::provider::Provider;
use crate::runtime::{MigrationTool, ProjectSettings, Runtime};

/// The tool that migrates with faber-db's defaults.
pub const DEFAULT_TOOL: &str = "prisma";
/// The handler whose tool's files the host reads itself.
const PRISMA_HANDLER: &str = "handler-db-prisma";
/// Where a tool whose handler says nothing keeps its migrations.
pub const DEFAULT_DIRECTORY: &str = "migrations";

/// What a tool's files say, or (`read_from` empty) its conventions.
#[derive(Debug, PartialEq)]
pub struct ToolProject {
    /// The name the tool is configured by (`migration_tool`).
    tool: String,
    read: Read,
}

#[derive(Debug, PartialEq)]
enum Read {
    Prisma(PrismaProject),
    /// By the tool's handler.
    Handler(ProjectSettings),
}

impl ToolProject {
    /// The first of `tools` whose files `project` holds, asked in order. A
    /// tool whose handler cannot read them is passed over, with a warning:
    /// the others may still find theirs.
    pub async fn find(runtime: &Runtime, project: &Path, tools: &[String]) -> Option<ToolProject> {
        for tool in tools {
            match ToolProject::read(runtime, project, tool).await {
                Ok(Some(read)) if read.found() => return Some(read),
                Ok(_) => {}
                Err(failure) => logging::emit(
                    logging::Level::Warn,
                    "faber-db",
                    &format!("{tool}'s files were not looked for: {failure}"),
                ),
            }
        }
        None
    }

    /// What `tool`'s files in `project` say; `None` from a handler built
    /// for a contract without `read-project`.
    pub async fn read(
        runtime: &Runtime,
        project: &Path,
        tool: &str,
    ) -> Outcome<Option<ToolProject>> {
        let name = components::migration_tool_handler(project, tool);
        if name == PRISMA_HANDLER {
            return Ok(Some(ToolProject {
                tool: tool.to_owned(),
                read: Read::Prisma(prisma_schema::read_project(project).unwrap_or_default()),
            }));
        }
        let checked = components::load_checked(project, runtime, &name)?;
        let handler = MigrationTool::new(runtime, checked.component).map_err(|failure| {
            Failure::new(format!("Cannot load handler {name}")).cause(failure)
        })?;
        let settings = handler.read_project(project).await.map_err(|failure| {
            Failure::new(format!("Handler {name} could not read the project's files"))
                .cause(failure)
                .help(
                    "Report it to the handler's authors, or choose another tool: faber-db config init --migration-tool TOOL (faber-db handler list shows them)",
                )
        })?;
        Ok(settings.map(|settings| ToolProject {
            tool: tool.to_owned(),
            read: Read::Handler(settings),
        }))
    }

    /// Whether the project holds the tool's files (not only its conventions).
    pub fn found(&self) -> bool {
        !self.read_from().is_empty()
    }

    /// The name the tool is configured by (`migration_tool`).
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The tool as its users name it.
    pub fn tool_name(&self) -> &str {
        match &self.read {
            Read::Prisma(_) => "Prisma",
            Read::Handler(settings) => &settings.tool_name,
        }
    }

    /// The files read, relative to the project.
    pub fn read_from(&self) -> &[String] {
        match &self.read {
            Read::Prisma(found) => &found.read_from,
            Read::Handler(settings) => &settings.read_from,
        }
    }

    /// The provider the files name, where faber-db has it.
    pub fn provider(&self) -> Option<Provider> {
        match &self.read {
            Read::Prisma(found) => found.provider.as_deref().and_then(Provider::parse),
            Read::Handler(settings) => settings.provider,
        }
    }

    /// `migrations.directory`, relative to the project.
    pub fn migrations_directory(&self) -> String {
        match &self.read {
            Read::Prisma(found) => found
                .migrations_directory
                .clone()
                .unwrap_or_else(|| crate::config::MigrationsSection::DEFAULT_DIRECTORY.to_owned()),
            Read::Handler(settings) => settings.migrations_directory.clone(),
        }
    }

    /// `migrations.table` (Prisma's is fixed).
    pub fn tracking_table(&self) -> Option<String> {
        match &self.read {
            Read::Prisma(_) => None,
            Read::Handler(settings) => settings.tracking_table.clone(),
        }
    }

    /// The variable the application and the tool's CLI read the URL from.
    pub fn url_variable(&self) -> Option<String> {
        match &self.read {
            Read::Prisma(found) => found.url_variable.clone(),
            Read::Handler(settings) => settings.url_variable.clone(),
        }
    }

    /// What to do before faber-db can use what the files name.
    pub fn next_steps(&self) -> &[String] {
        match &self.read {
            Read::Prisma(_) => &[],
            Read::Handler(settings) => &settings.next_steps,
        }
    }
}

/// One key, `<tool>_project` (`"drizzle_project": {…}`): the settings in
/// faber-db's terms, and beside them whatever else the handler reported.
impl Serialize for ToolProject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        let short = self.tool.strip_prefix("handler-db-").unwrap_or(&self.tool);
        let key = format!("{}_project", short.replace('-', "_"));
        match &self.read {
            Read::Prisma(found) => map.serialize_entry(&key, found)?,
            Read::Handler(settings) => {
                let mut value = serde_json::json!({
                    "read_from": settings.read_from,
                    "provider": settings.provider,
                    "migrations_directory": settings.migrations_directory,
                    "tracking_table": settings.tracking_table,
                    "url_variable": settings.url_variable,
                });
                if let (Some(value), Ok(serde_json::Value::Object(details))) = (
                    value.as_object_mut(),
                    serde_json::from_str::<serde_json::Value>(&settings.details),
                ) {
                    for (name, detail) in details {
                        value.entry(name).or_insert(detail);
                    }
                }
                map.serialize_entry(&key, &value)?;
            }
        }
        map.end()
    }
}
