//! One module per command group: plain functions from parsed arguments to an
//! exit code.

pub mod config;
pub mod fleet;
pub mod handler;
pub mod init;
pub mod migrate;
pub mod status;
