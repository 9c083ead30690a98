//! SQLite: the "server" is a folder and each database a file in it.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{ConnectOptions, Row, TypeInfo, ValueRef};

use super::{ConnectionString, CreateError, SqlError, Value};

pub fn check_folder(dir: &Path) -> Result<PathBuf, sqlx::Error> {
    if dir.is_dir() {
        Ok(dir.to_path_buf())
    } else {
        Err(sqlx::Error::Configuration(
            format!("the folder {} does not exist", dir.display()).into(),
        ))
    }
}

/// The file of database `name` in `dir`, as [`ConnectionString::with_database`] names it.
pub fn database_file(dir: &Path, name: &str) -> PathBuf {
    let template = ConnectionString::File {
        dir: dir.to_path_buf(),
        file: None,
    };
    template
        .with_database(name)
        .file_path()
        .expect("with_database names a file")
}

/// Creates the file with `create_new`, so of several racing runs exactly one
/// creates it and the others see that it exists. An empty file is a valid,
/// empty SQLite database.
pub fn create_database(target: &ConnectionString) -> Result<(), CreateError> {
    let path = target.file_path().expect("a SQLite target names a file");
    match OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == ErrorKind::AlreadyExists => Err(CreateError::AlreadyExists),
        Err(err) => Err(CreateError::Failed(SqlError {
            code: None,
            message: format!("cannot create {}: {err}", path.display()),
        })),
    }
}

pub fn drop_database(target: &ConnectionString) -> Result<(), SqlError> {
    let path = target.file_path().expect("a SQLite target names a file");
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Err(err) if err.kind() != ErrorKind::NotFound => {
                return Err(SqlError {
                    code: None,
                    message: format!("cannot remove {}: {err}", path.display()),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

pub async fn open(target: &ConnectionString) -> Result<SqliteConnection, sqlx::Error> {
    let path = target.file_path().expect("a SQLite target names a file");
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .connect()
        .await
}

pub fn decode_value(row: &SqliteRow, index: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(index)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let storage = raw.type_info().name().to_owned();
    Ok(match storage.as_str() {
        "INTEGER" => Value::Integer(row.try_get(index)?),
        "REAL" => Value::Real(row.try_get(index)?),
        "BLOB" => Value::Blob(row.try_get(index)?),
        _ => Value::Text(row.try_get(index)?),
    })
}
