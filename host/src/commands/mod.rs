//! One module per command group: plain functions from parsed arguments to an
//! exit code.

pub mod config;
pub mod fleet;
pub mod handler;
pub mod init;
pub mod migrate;
pub mod output;
pub mod status;

use serde::Serialize;

/// Prints a JSON document on stdout.
pub fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(err) => eprintln!("error: cannot render the report: {err}"),
    }
}
