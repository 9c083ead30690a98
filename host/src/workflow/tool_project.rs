//! The migration tool's own project, as `config init` finds it: the first
//! of a Prisma, Drizzle, TypeORM or Sequelize project, each read by its own
//! module as that tool reads its files, and what each says in the terms of
//! faber-db's configuration.

use std::path::Path;

use serde::Serialize;

use super::drizzle_config::{self, DrizzleProject};
use super::prisma_schema::{self, PrismaProject};
use super::sequelize_config::{self, SequelizeProject};
use super::typeorm_config::{self, TypeormProject};

/// Serialized as the one key it is (`"typeorm_project": {…}`).
#[derive(Debug, PartialEq, Serialize)]
pub enum ToolProject {
    #[serde(rename = "prisma_project")]
    Prisma(PrismaProject),
    #[serde(rename = "drizzle_project")]
    Drizzle(DrizzleProject),
    #[serde(rename = "typeorm_project")]
    Typeorm(TypeormProject),
    #[serde(rename = "sequelize_project")]
    Sequelize(SequelizeProject),
}

impl ToolProject {
    /// The first tool whose files `project` holds, in this order.
    pub fn read(project: &Path) -> Option<ToolProject> {
        prisma_schema::read_project(project)
            .map(ToolProject::Prisma)
            .or_else(|| drizzle_config::read_project(project).map(ToolProject::Drizzle))
            .or_else(|| typeorm_config::read_project(project).map(ToolProject::Typeorm))
            .or_else(|| sequelize_config::read_project(project).map(ToolProject::Sequelize))
    }

    /// The bundled tool's short name (`--migration-tool`).
    pub fn tool(&self) -> &'static str {
        match self {
            ToolProject::Prisma(_) => "prisma",
            ToolProject::Drizzle(_) => "drizzle",
            ToolProject::Typeorm(_) => "typeorm",
            ToolProject::Sequelize(_) => "sequelize",
        }
    }

    /// The tool as its users name it.
    pub fn tool_name(&self) -> &'static str {
        match self {
            ToolProject::Prisma(_) => "Prisma",
            ToolProject::Drizzle(_) => "Drizzle",
            ToolProject::Typeorm(_) => "TypeORM",
            ToolProject::Sequelize(_) => "Sequelize",
        }
    }

    /// The files read, relative to the project.
    pub fn read_from(&self) -> String {
        match self {
            ToolProject::Prisma(found) => found.read_from.join(", "),
            ToolProject::Drizzle(found) => found.read_from.clone(),
            ToolProject::Typeorm(found) => found.read_from.join(", "),
            ToolProject::Sequelize(found) => found.read_from.join(", "),
        }
    }

    /// The provider's faber-db name, where the project says one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            ToolProject::Prisma(found) => found.provider.as_deref(),
            ToolProject::Drizzle(found) => found.provider(),
            ToolProject::Typeorm(found) => found.provider(),
            ToolProject::Sequelize(found) => found.provider(),
        }
    }

    /// `migrations.directory`, relative to the project.
    pub fn migrations_directory(&self) -> Option<String> {
        match self {
            ToolProject::Prisma(found) => found.migrations_directory.clone(),
            ToolProject::Drizzle(found) => Some(found.migrations_directory.clone()),
            ToolProject::Typeorm(found) => found.migrations_directory.clone(),
            ToolProject::Sequelize(found) => Some(found.migrations_directory.clone()),
        }
    }

    /// `migrations.table` (Prisma's is fixed).
    pub fn tracking_table(&self) -> Option<String> {
        match self {
            ToolProject::Prisma(_) => None,
            ToolProject::Drizzle(found) => found.tracking_table.clone(),
            ToolProject::Typeorm(found) => found.tracking_table.clone(),
            ToolProject::Sequelize(found) => found.tracking_table.clone(),
        }
    }

    /// The variable the application and the tool's CLI read the URL from.
    pub fn url_variable(&self) -> Option<String> {
        match self {
            ToolProject::Prisma(found) => found.url_variable.clone(),
            ToolProject::Drizzle(found) => found.url_variable.clone(),
            ToolProject::Typeorm(found) => found.url_variable.clone(),
            ToolProject::Sequelize(found) => found.url_variable.clone(),
        }
    }

    /// Where TypeScript migrations must be compiled from before faber-db
    /// runs the JavaScript.
    pub fn typescript_sources(&self) -> Option<&str> {
        match self {
            ToolProject::Typeorm(found) => found.typescript_sources.as_deref(),
            _ => None,
        }
    }
}
