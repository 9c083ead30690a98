//! MySQL and MariaDB: server operations and row decoding.

use std::path::PathBuf;

use sqlx::mysql::{MySqlConnection, MySqlRow};
use sqlx::{AssertSqlSafe, Column, Connection, Row, TypeInfo, ValueRef};
use url::Url;

use super::{CreateError, SqlError, Value};
use crate::config::Provider;
use crate::names::quote;

/// ER_DB_CREATE_EXISTS.
const DATABASE_EXISTS: &str = "HY000";
const DATABASE_EXISTS_NUMBER: &str = "1007";

/// Server-level work runs without a default database.
pub async fn connect_server(url: &Url) -> Result<MySqlConnection, sqlx::Error> {
    let mut admin = url.clone();
    admin.set_path("");
    MySqlConnection::connect(admin.as_str()).await
}

pub async fn database_exists(conn: &mut MySqlConnection, name: &str) -> Result<bool, SqlError> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM information_schema.schemata WHERE schema_name = ?")
            .bind(name)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// utf8mb4 so that the tracking table and later migrations get full Unicode.
pub async fn create_database(conn: &mut MySqlConnection, name: &str) -> Result<(), CreateError> {
    let statement = format!(
        "CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        quote(Provider::Mysql, name)
    );
    match sqlx::raw_sql(AssertSqlSafe(statement)).execute(conn).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db))
            if db.message().contains("database exists")
                || db.code().as_deref() == Some(DATABASE_EXISTS_NUMBER)
                || (db.code().as_deref() == Some(DATABASE_EXISTS)
                    && db.message().contains("exists")) =>
        {
            Err(CreateError::AlreadyExists)
        }
        Err(err) => Err(CreateError::Failed(err.into())),
    }
}

pub async fn drop_database(conn: &mut MySqlConnection, name: &str) -> Result<(), SqlError> {
    let statement = format!("DROP DATABASE IF EXISTS {}", quote(Provider::Mysql, name));
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn data_directory(conn: &mut MySqlConnection) -> Option<PathBuf> {
    sqlx::query_scalar::<_, String>("SELECT @@datadir")
        .fetch_one(conn)
        .await
        .ok()
        .map(PathBuf::from)
}

pub fn decode_value(row: &MySqlRow, index: usize) -> Result<Value, sqlx::Error> {
    if row.try_get_raw(index)?.is_null() {
        return Ok(Value::Null);
    }
    let type_name = row.column(index).type_info().name().to_owned();
    Ok(match type_name.as_str() {
        "BOOLEAN" => Value::Boolean(row.try_get(index)?),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => {
            Value::Integer(row.try_get(index)?)
        }
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
        | "BIGINT UNSIGNED" => {
            let value: u64 = row.try_get(index)?;
            Value::Integer(i64::try_from(value).map_err(|err| sqlx::Error::Decode(err.into()))?)
        }
        "FLOAT" | "DOUBLE" => Value::Real(row.try_get(index)?),
        "DATETIME" => Value::Text(super::rfc3339_naive(row.try_get(index)?)),
        "TIMESTAMP" => Value::Text(super::rfc3339(row.try_get(index)?)),
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" => {
            // information_schema columns are binary on some MariaDB versions;
            // text in them is still text.
            let bytes: Vec<u8> = row.try_get(index)?;
            match String::from_utf8(bytes) {
                Ok(text) => Value::Text(text),
                Err(err) => Value::Blob(err.into_bytes()),
            }
        }
        _ => Value::Text(row.try_get(index)?),
    })
}
