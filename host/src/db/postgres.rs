//! PostgreSQL: server operations and row decoding.

use std::path::PathBuf;

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Column, Connection, Row, TypeInfo, ValueRef};
use url::Url;

use super::{CreateError, SqlError, Value};
use crate::config::Provider;
use crate::names::quote;

/// SQLSTATE duplicate_database; unique_violation when two sessions race on
/// the pg_database catalog.
const DUPLICATE_DATABASE: &[&str] = &["42P04", "23505"];

/// Server-level work needs a database to connect to: the maintenance
/// database `postgres`, the same one `createdb` uses.
pub async fn connect_server(url: &Url) -> Result<PgConnection, sqlx::Error> {
    let mut admin = url.clone();
    admin.set_path("/postgres");
    PgConnection::connect(admin.as_str()).await
}

pub async fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, SqlError> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

pub async fn create_database(conn: &mut PgConnection, name: &str) -> Result<(), CreateError> {
    let statement = format!("CREATE DATABASE {}", quote(Provider::Postgresql, name));
    match sqlx::raw_sql(AssertSqlSafe(statement)).execute(conn).await {
        Ok(_) => Ok(()),
        Err(err) => {
            let err = SqlError::from(err);
            if err
                .code
                .as_deref()
                .is_some_and(|code| DUPLICATE_DATABASE.contains(&code))
            {
                Err(CreateError::AlreadyExists)
            } else {
                Err(CreateError::Failed(err))
            }
        }
    }
}

pub async fn drop_database(conn: &mut PgConnection, name: &str) -> Result<(), SqlError> {
    let statement = format!(
        "DROP DATABASE IF EXISTS {}",
        quote(Provider::Postgresql, name)
    );
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(conn)
        .await?;
    Ok(())
}

/// Readable by superusers and members of pg_read_all_settings; others get
/// nothing and the disk check says "unknown".
pub async fn data_directory(conn: &mut PgConnection) -> Option<PathBuf> {
    sqlx::query_scalar::<_, String>("SELECT current_setting('data_directory')")
        .fetch_one(conn)
        .await
        .ok()
        .map(PathBuf::from)
}

pub fn decode_value(row: &PgRow, index: usize) -> Result<Value, sqlx::Error> {
    if row.try_get_raw(index)?.is_null() {
        return Ok(Value::Null);
    }
    let type_name = row.column(index).type_info().name().to_owned();
    Ok(match type_name.as_str() {
        "BOOL" => Value::Boolean(row.try_get(index)?),
        "INT2" => Value::Integer(row.try_get::<i16, _>(index)?.into()),
        "INT4" => Value::Integer(row.try_get::<i32, _>(index)?.into()),
        "INT8" => Value::Integer(row.try_get(index)?),
        "FLOAT4" => Value::Real(row.try_get::<f32, _>(index)?.into()),
        "FLOAT8" => Value::Real(row.try_get(index)?),
        "BYTEA" => Value::Blob(row.try_get(index)?),
        "TIMESTAMPTZ" => Value::Text(super::rfc3339(row.try_get(index)?)),
        "TIMESTAMP" => Value::Text(super::rfc3339_naive(row.try_get(index)?)),
        _ => Value::Text(row.try_get(index).map_err(|_| unsupported(&type_name))?),
    })
}

fn unsupported(type_name: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!(
        "column type {type_name} cannot be returned to a handler; cast it to text in the query"
    ))
}
