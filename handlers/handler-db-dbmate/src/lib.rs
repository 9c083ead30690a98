//! faber-db handler for dbmate.
//!
//! dbmate keeps plain `<version>_<name>.sql` files, each with a
//! `-- migrate:up` and a `-- migrate:down` section, and records the versions
//! it has applied in one table (`schema_migrations` unless configured). This
//! handler leaves the database and the folder as `dbmate up` would, so dbmate
//! takes over from here without a difference to notice.

mod initialize;
mod lifecycle;
mod migration;
mod next_steps;
mod tracking;
mod tracking_table;

use faber_db_handler::export_migration_tool;

/// The handler; its operations are in [`lifecycle`].
struct DbmateHandler;

export_migration_tool!(DbmateHandler);
