//! What the contract versions share, as macros each bindings module invokes
//! with its own generated modules in scope (`types`, `tool` for the
//! migration-tool interface, `log`, `sql`): the conversions of the records
//! that never changed, and, for older versions, the capabilities they import
//! implemented by delegating to the latest ones.

/// The records every version has in the same shape.
macro_rules! adapt_common {
    () => {
        adapt_variants! {
            types::Provider => host::Provider { Postgresql, Mysql, Sqlite }
            host::Provider => types::Provider { Postgresql, Mysql, Sqlite }
        }

        adapt_records! {
            types::HandlerInfo => host::HandlerInfo {
                name, version, wit_version, description, providers,
            }
            types::SqlError => host::SqlError { code, message }
            host::InitializeRequest => tool::InitializeRequest {
                provider, database_name, migrations_dir, tracking_table,
            }
        }
    };
}

/// An older version's `types`, `log` and `sql` imports, served by the latest
/// capabilities: its records converted to the latest ones and back.
macro_rules! delegate_imports {
    () => {
        impl types::Host for HandlerState {}

        impl log::Host for HandlerState {
            async fn log(&mut self, level: log::Level, message: String) {
                super::latest::log::Host::log(self, level.adapt(), message).await;
            }
        }

        impl sql::Host for HandlerState {
            async fn execute(
                &mut self,
                statement: String,
                params: Vec<sql::SqlValue>,
            ) -> Result<u64, types::SqlError> {
                super::latest::sql::Host::execute(self, statement, params.adapt())
                    .await
                    .adapt()
            }

            async fn query(
                &mut self,
                statement: String,
                params: Vec<sql::SqlValue>,
            ) -> Result<sql::QueryResult, types::SqlError> {
                super::latest::sql::Host::query(self, statement, params.adapt())
                    .await
                    .adapt()
            }
        }

        adapt_variants! {
            log::Level => super::latest::log::Level { Debug, Info, Warn, Error }
            sql::SqlValue => super::latest::sql::SqlValue {
                Null, Boolean(v), Integer(v), Real(v), Text(v), Blob(v),
            }
            super::latest::sql::SqlValue => sql::SqlValue {
                Null, Boolean(v), Integer(v), Real(v), Text(v), Blob(v),
            }
        }

        adapt_records! {
            super::latest::sql::QueryResult => sql::QueryResult { columns, rows }
            super::latest::SqlError => types::SqlError { code, message }
        }
    };
}

pub(super) use {adapt_common, delegate_imports};
