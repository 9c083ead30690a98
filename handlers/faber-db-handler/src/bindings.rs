//! The generated bindings of the `faber:db` contract, one module per world.
//!
//! The WIT is read from `../../wit`: in the repository that is the contract
//! itself; in an SDK installed by `faber-db handler new` it is the copy
//! installed with it (`<version>/wit`, mirroring the repository).
//!
//! Both worlds are generated with a public export macro: the library then
//! carries only the worlds' imports (unused ones are dropped when the
//! component is made), and a handler's `export_*!` invocation adds the
//! exports of the one world it implements. The cloud world reuses the
//! migration world's `types` and `log`, so a `HandlerError` is one type.

/// The `migration-tool-handler` world.
pub mod migration {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "migration-tool-handler",
        pub_export_macro: true,
        export_macro_name: "export_migration_tool_world",
        default_bindings_module: "faber_db_handler::bindings::migration",
        runtime_path: "faber_db_handler::__wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

/// The `cloud-provider-handler` world.
pub mod cloud {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "cloud-provider-handler",
        pub_export_macro: true,
        export_macro_name: "export_cloud_provider_world",
        default_bindings_module: "faber_db_handler::bindings::cloud",
        runtime_path: "faber_db_handler::__wit_bindgen::rt",
        additional_derives: [PartialEq],
        // Keys name the package version: a contract bump that forgets them
        // fails to compile here ("unused remappings"), not at run time.
        with: {
            "faber:db/types@0.6.0": crate::bindings::migration::faber::db::types,
            "faber:db/log@0.6.0": crate::bindings::migration::faber::db::log,
        },
    });
}

/// A failed statement is a handler error as it is: `?` on a SQL call.
impl From<migration::faber::db::types::SqlError> for migration::faber::db::types::HandlerError {
    fn from(error: migration::faber::db::types::SqlError) -> Self {
        Self::Sql(error)
    }
}
