//! Bindings for `faber:db@0.1.0`.

wasmtime::component::bindgen!({
    world: "migration-tool-handler",
    path: "../wit",
    imports: { default: async },
    exports: { default: async },
});

pub use exports::faber::db::migration_tool::{InitializeOutcome, InitializeRequest};
pub use faber::db::types::{HandlerError, HandlerInfo, Provider, SqlError};

/// The package version these bindings were generated from.
pub const WIT_VERSION: &str = "0.1.0";
