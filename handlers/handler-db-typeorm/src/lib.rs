//! faber-db handler for TypeORM.
//!
//! A TypeORM project's migrations are JavaScript classes (what `typeorm
//! migration:generate` and `migration:create` write, compiled to `.js` for
//! a TypeScript project) whose `up(queryRunner)` sends SQL with
//! `queryRunner.query`. This handler runs them inside its own component,
//! in a JavaScript engine with no Node.js (no modules, files, network or
//! environment), so a migration reaches the database only through the
//! host's SQL capability, with the approval, lock and report of every
//! faber-db run. It records them in TypeORM's own `migrations` table as
//! `typeorm migration:run` does, so TypeORM's CLI and faber-db take turns
//! on one database without either noticing the other.

mod lifecycle;
mod migrations;
mod project;
mod template;
mod tool;
mod tracking_table;

use faber_db_handler::export_migration_tool;

/// The handler; its operations are in [`lifecycle`].
struct TypeormHandler;

export_migration_tool!(TypeormHandler);
