//! faber-db handler for sequelize-cli.
//!
//! A Sequelize project's migrations are JavaScript modules (what
//! `sequelize-cli migration:generate` and `model:generate` write) whose
//! `up(queryInterface, Sequelize)` changes the schema with `queryInterface`
//! (`createTable`, `addColumn`, `addIndex`, `bulkInsert`, …) or sends SQL
//! with `queryInterface.sequelize.query`. This handler runs them inside its
//! own component, in a JavaScript engine with no Node.js, writing the SQL
//! Sequelize writes for each call on each provider, so a migration reaches
//! the database only through the host's SQL capability. It records them in
//! sequelize-cli's `SequelizeMeta` table as `sequelize-cli db:migrate`
//! does, so sequelize-cli and faber-db take turns on one database.

mod lifecycle;
mod migrations;
mod project;
mod template;
mod tool;
mod tracking_table;

use faber_db_handler::export_migration_tool;

/// The handler; its operations are in [`lifecycle`].
struct SequelizeHandler;

export_migration_tool!(SequelizeHandler);
