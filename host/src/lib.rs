//! faber-db: stand up a project's databases safely across environments.
//!
//! The host runs the workflow; migration-tool and cloud-provider steps are
//! done by sandboxed WebAssembly components (see `wit/`). The library form
//! exists for the binary and for tests.

pub mod cli;
pub mod cloud;
pub mod commands;
pub mod components;
pub mod config;
pub mod db;
pub mod dotenv;
#[cfg(feature = "failpoints")]
pub mod failpoint;
pub mod failure;
pub mod fleet;
pub mod logging;
pub mod names;
pub mod provider;
pub mod report;
pub mod runtime;
pub mod sql_text;
pub mod status;
pub mod tracking;
pub mod workdir;
pub mod workflow;
