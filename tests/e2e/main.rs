//! End-to-end tests: the real `faber-db` binary and the real runtime against
//! real PostgreSQL and MariaDB servers on loopback, real SQLite files and real
//! compiled components. Run them with `bash tests/run.sh`, which builds the
//! components and starts what is missing.

mod support;

mod cloud;
mod cloud_confinement;
mod cloud_connect;
mod config_init;
mod daily_use;
mod dotenv;
mod drizzle_cli;
mod fleet;
mod handler_boundary;
mod handlers;
mod hardening;
mod init;
mod init_failures;
mod install;
mod least_privilege;
mod leftovers;
mod migrate;
mod prisma7_cli;
mod prisma_cli;
mod prisma_interop;
mod python_handler;
mod readme;
mod registry;
mod sandbox;
mod sequelize_cli;
mod status;
mod typeorm_cli;
