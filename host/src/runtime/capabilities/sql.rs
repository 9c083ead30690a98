//! `faber:db/sql`: statements on the one database the host opened for the call.
//!
//! The handler never sees how the host connected. Sizes are capped both ways
//! so a handler cannot make the host buffer without bound.

use super::sql_policy;
use crate::db::{Capped, Database, Rows, SqlError as DbError, Value};
use crate::runtime::bindings::latest::SqlError;
use crate::runtime::bindings::latest::sql::{Host, QueryResult, SqlValue};
use crate::runtime::bindings::latest::types;
use crate::runtime::state::HandlerState;

/// The longest statement a handler may send (a large migration file fits).
const MAX_STATEMENT_BYTES: usize = 16 << 20;
/// The most result data a query may hand back to a handler.
const MAX_RESULT_BYTES: usize = 32 << 20;

impl Host for HandlerState {
    async fn execute(&mut self, statement: String, params: Vec<SqlValue>) -> Result<u64, SqlError> {
        let params = self.admit(&statement, params)?;
        let database = self.database.as_mut().ok_or_else(no_database)?;
        let executed = database.execute(&statement, &params).await;
        self.tally(executed)
    }

    async fn query(
        &mut self,
        statement: String,
        params: Vec<SqlValue>,
    ) -> Result<QueryResult, SqlError> {
        let params = self.admit(&statement, params)?;
        let database = self.database.as_mut().ok_or_else(no_database)?;
        let rows = database
            .query_capped(&statement, &params, MAX_RESULT_BYTES)
            .await;
        match self.tally(rows)? {
            Capped::Rows(rows) => Ok(to_result(rows)),
            Capped::TooLarge => {
                self.sql.refused += 1;
                Err(refused(format!(
                    "query result exceeds the limit of {MAX_RESULT_BYTES} bytes; select fewer rows"
                )))
            }
        }
    }
}

impl HandlerState {
    /// Counts the statement and refuses it early where the policy says so.
    fn admit(&mut self, statement: &str, params: Vec<SqlValue>) -> Result<Vec<Value>, SqlError> {
        self.sql.statements += 1;
        // The statement only: parameters carry data, not the handler's intent.
        crate::logging::emit(
            crate::logging::Level::Debug,
            &self.handler,
            &format!("sql ({} parameters): {statement}", params.len()),
        );
        let database = self.database.as_ref().ok_or_else(no_database)?;
        if let Err(refusal) = check_statement(database, statement) {
            self.sql.refused += 1;
            return Err(refusal);
        }
        Ok(params.into_iter().map(to_value).collect())
    }

    /// Counts what the database denied, then hands the result on.
    fn tally<T>(&mut self, result: Result<T, DbError>) -> Result<T, SqlError> {
        result.map_err(|err| {
            if err.denied {
                self.sql.denied += 1;
            }
            SqlError::from(err)
        })
    }
}

impl types::Host for HandlerState {}

impl From<DbError> for SqlError {
    fn from(err: DbError) -> SqlError {
        SqlError {
            code: err.code,
            message: err.message,
        }
    }
}

fn refused(message: String) -> SqlError {
    SqlError {
        code: Some("faber-db:refused".to_owned()),
        message,
    }
}

fn no_database() -> SqlError {
    refused("no database was granted to this call".to_owned())
}

fn check_statement(database: &Database, statement: &str) -> Result<(), SqlError> {
    if statement.len() > MAX_STATEMENT_BYTES {
        return Err(refused(format!(
            "statement of {} bytes exceeds the limit of {MAX_STATEMENT_BYTES}",
            statement.len()
        )));
    }
    match sql_policy::refusal(database.provider(), statement) {
        Some(reason) => Err(refused(reason)),
        None => Ok(()),
    }
}

fn to_value(value: SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Boolean(v) => Value::Boolean(v),
        SqlValue::Integer(v) => Value::Integer(v),
        SqlValue::Real(v) => Value::Real(v),
        SqlValue::Text(v) => Value::Text(v),
        SqlValue::Blob(v) => Value::Blob(v),
    }
}

fn to_result(rows: Rows) -> QueryResult {
    let converted = rows
        .rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|value| match value {
                    Value::Null => SqlValue::Null,
                    Value::Boolean(v) => SqlValue::Boolean(v),
                    Value::Integer(v) => SqlValue::Integer(v),
                    Value::Real(v) => SqlValue::Real(v),
                    Value::Text(v) => SqlValue::Text(v),
                    Value::Blob(v) => SqlValue::Blob(v),
                })
                .collect()
        })
        .collect();
    QueryResult {
        columns: rows.columns,
        rows: converted,
    }
}
