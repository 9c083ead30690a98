//! What every older contract shares with the latest one: the `types`, `log`
//! and `sql` imports, whose records did not change. Each legacy bindings
//! module names its generated modules `legacy_types`, `legacy_log` and
//! `legacy_sql` and invokes [`adapt_shared_imports!`], which implements them
//! by delegating to the latest capabilities and converts the shared records.

macro_rules! adapt_shared_imports {
    () => {
        impl legacy_types::Host for HandlerState {}

        impl legacy_log::Host for HandlerState {
            async fn log(&mut self, level: legacy_log::Level, message: String) {
                let level = match level {
                    legacy_log::Level::Debug => latest::log::Level::Debug,
                    legacy_log::Level::Info => latest::log::Level::Info,
                    legacy_log::Level::Warn => latest::log::Level::Warn,
                    legacy_log::Level::Error => latest::log::Level::Error,
                };
                latest::log::Host::log(self, level, message).await;
            }
        }

        impl legacy_sql::Host for HandlerState {
            async fn execute(
                &mut self,
                statement: String,
                params: Vec<legacy_sql::SqlValue>,
            ) -> Result<u64, legacy_types::SqlError> {
                let params = params.into_iter().map(value).collect();
                latest::sql::Host::execute(self, statement, params)
                    .await
                    .map_err(legacy_sql_error)
            }

            async fn query(
                &mut self,
                statement: String,
                params: Vec<legacy_sql::SqlValue>,
            ) -> Result<legacy_sql::QueryResult, legacy_types::SqlError> {
                let params = params.into_iter().map(value).collect();
                let result = latest::sql::Host::query(self, statement, params)
                    .await
                    .map_err(legacy_sql_error)?;
                Ok(legacy_sql::QueryResult {
                    columns: result.columns,
                    rows: result
                        .rows
                        .into_iter()
                        .map(|row| row.into_iter().map(legacy_value).collect())
                        .collect(),
                })
            }
        }

        fn value(value: legacy_sql::SqlValue) -> latest::sql::SqlValue {
            use latest::sql::SqlValue as New;
            use legacy_sql::SqlValue as Old;
            match value {
                Old::Null => New::Null,
                Old::Boolean(v) => New::Boolean(v),
                Old::Integer(v) => New::Integer(v),
                Old::Real(v) => New::Real(v),
                Old::Text(v) => New::Text(v),
                Old::Blob(v) => New::Blob(v),
            }
        }

        fn legacy_value(value: latest::sql::SqlValue) -> legacy_sql::SqlValue {
            use latest::sql::SqlValue as New;
            use legacy_sql::SqlValue as Old;
            match value {
                New::Null => Old::Null,
                New::Boolean(v) => Old::Boolean(v),
                New::Integer(v) => Old::Integer(v),
                New::Real(v) => Old::Real(v),
                New::Text(v) => Old::Text(v),
                New::Blob(v) => Old::Blob(v),
            }
        }

        fn legacy_sql_error(err: latest::SqlError) -> legacy_types::SqlError {
            legacy_types::SqlError {
                code: err.code,
                message: err.message,
            }
        }

        fn sql_error(err: legacy_types::SqlError) -> latest::SqlError {
            latest::SqlError {
                code: err.code,
                message: err.message,
            }
        }

        fn provider(provider: legacy_types::Provider) -> latest::Provider {
            match provider {
                legacy_types::Provider::Postgresql => latest::Provider::Postgresql,
                legacy_types::Provider::Mysql => latest::Provider::Mysql,
                legacy_types::Provider::Sqlite => latest::Provider::Sqlite,
            }
        }

        fn legacy_provider(provider: latest::Provider) -> legacy_types::Provider {
            match provider {
                latest::Provider::Postgresql => legacy_types::Provider::Postgresql,
                latest::Provider::Mysql => legacy_types::Provider::Mysql,
                latest::Provider::Sqlite => legacy_types::Provider::Sqlite,
            }
        }

        pub fn info(info: legacy_types::HandlerInfo) -> latest::HandlerInfo {
            latest::HandlerInfo {
                name: info.name,
                version: info.version,
                wit_version: info.wit_version,
                description: info.description,
                providers: info.providers.into_iter().map(provider).collect(),
            }
        }

        pub fn request(request: &latest::InitializeRequest) -> legacy_tool::InitializeRequest {
            legacy_tool::InitializeRequest {
                provider: legacy_provider(request.provider),
                database_name: request.database_name.clone(),
                migrations_dir: request.migrations_dir.clone(),
                tracking_table: request.tracking_table.clone(),
            }
        }
    };
}

pub(super) use adapt_shared_imports;
