//! faber-db handler for Drizzle.
//!
//! `drizzle-kit generate` writes `<idx>_<name>.sql` files into the `out`
//! folder (`drizzle/` by default), statements separated by
//! `--> statement-breakpoint`, and lists them in `meta/_journal.json`, each
//! with the time it was generated (`when`, in milliseconds). Drizzle's
//! migrator records an applied migration as a row of the file's SHA-256
//! and that time, in `drizzle.__drizzle_migrations` on PostgreSQL (a schema
//! of its own) and `__drizzle_migrations` on MySQL and SQLite, and applies
//! every journal entry generated after the last row's time. This handler
//! keeps to all of that, so Drizzle's migrator and faber-db take turns on
//! one database without either noticing the other.

mod journal;
mod json_text;
mod lifecycle;
mod migration;
mod next_steps;
mod project;
mod snapshot;
mod tracking_table;

use faber_db_handler::export_migration_tool;

/// The handler; its operations are in [`lifecycle`].
struct DrizzleHandler;

export_migration_tool!(DrizzleHandler);
