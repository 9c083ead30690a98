//! SQLite: the "server" is a folder and each database a file in it.

use std::ffi::c_int;
use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode, SqliteRow};
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
        Err(err) => Err(CreateError::Failed(SqlError::new(format!(
            "cannot create {}: {err}",
            path.display()
        )))),
    }
}

pub fn drop_database(target: &ConnectionString) -> Result<(), SqlError> {
    let path = target.file_path().expect("a SQLite target names a file");
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Err(err) if err.kind() != ErrorKind::NotFound => {
                return Err(SqlError::new(format!(
                    "cannot remove {}: {err}",
                    path.display()
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

pub async fn open(target: &ConnectionString) -> Result<SqliteConnection, sqlx::Error> {
    options(target).connect().await
}

/// Opens the file holding its lock until the connection closes: exclusive
/// locking mode, then `BEGIN EXCLUSIVE` (the mode keeps the lock past the
/// transaction, in rollback-journal and WAL files alike). It does not wait:
/// SQLITE_BUSY when another connection holds any lock on the file. A refused
/// attempt's connection is dropped, since in this mode it would keep what
/// part of the lock it got.
pub async fn open_locked(target: &ConnectionString) -> Result<SqliteConnection, sqlx::Error> {
    let mut conn = options(target)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(Duration::ZERO)
        .connect()
        .await?;
    sqlx::raw_sql("BEGIN EXCLUSIVE; COMMIT")
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

fn options(target: &ConnectionString) -> SqliteConnectOptions {
    let path = target.file_path().expect("a SQLite target names a file");
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
}

/// SQLITE_BUSY, and its extended codes: another connection holds the lock.
pub fn is_busy(err: &SqlError) -> bool {
    err.code
        .as_deref()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == libsqlite3_sys::SQLITE_BUSY)
}

/// Opens the file with `SQLITE_OPEN_READONLY`: the engine refuses every
/// write on this connection, whatever the statement.
pub async fn open_read_only(target: &ConnectionString) -> Result<SqliteConnection, sqlx::Error> {
    options(target).read_only(true).connect().await
}

/// A private database in memory, gone when the connection closes.
pub async fn open_in_memory() -> Result<SqliteConnection, sqlx::Error> {
    SqliteConnectOptions::new()
        .filename(":memory:")
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

/// Confines a connection to its own file, enforced by SQLite itself: no
/// database may be attached (which also stops `VACUUM INTO`), an authorizer
/// denies attaching, detaching, extension loading and every pragma outside
/// [`PRAGMAS_ALLOWED`], defensive mode forbids corrupting the file on purpose
/// (`writable_schema`, raw page writes), and schema code is not trusted.
/// `reading` also denies transactions, so a session that only reads cannot
/// hold the file's lock past one statement (writers would wait on it).
pub async fn confine(conn: &mut SqliteConnection, reading: bool) -> Result<(), sqlx::Error> {
    use libsqlite3_sys as ffi;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let settings = [
        (ffi::SQLITE_DBCONFIG_DEFENSIVE, 1),
        (ffi::SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0),
        (ffi::SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0),
        (ffi::SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0),
    ];
    // SAFETY: `db` is the live handle this connection owns, held exclusively
    // through `handle` for the duration of these calls; the authorizer is a
    // plain function that needs no user data.
    unsafe {
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_ATTACHED, 0);
        for (option, value) in settings {
            let status =
                ffi::sqlite3_db_config(db, option, value as c_int, std::ptr::null_mut::<c_int>());
            if status != ffi::SQLITE_OK {
                return Err(sqlx::Error::Protocol(format!(
                    "SQLite refused configuration option {option}: code {status}"
                )));
            }
        }
        let authorizer = if reading {
            authorize_reading
        } else {
            authorize
        };
        ffi::sqlite3_set_authorizer(db, Some(authorizer), std::ptr::null_mut());
    }
    Ok(())
}

/// With `rows_of`, keeps a confined writing connection to reading and to
/// writing the rows of that table only (a tool's tracking table): every
/// other write, and every change to the schema, is denied by SQLite itself.
/// Without, back to the authorizer [`confine`] set, for a migration's own
/// script.
pub async fn allow_writes(
    conn: &mut SqliteConnection,
    rows_of: Option<&'static std::ffi::CStr>,
) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let (authorizer, table) = match rows_of {
        Some(table) => (authorize_rows as Authorizer, table.as_ptr()),
        None => (authorize as Authorizer, std::ptr::null()),
    };
    // SAFETY: `db` is the live handle this connection owns, held exclusively
    // through `handle`; the user data is null or a `'static` string the
    // callback only reads.
    unsafe {
        libsqlite3_sys::sqlite3_set_authorizer(db, Some(authorizer), table.cast_mut().cast());
    }
    Ok(())
}

/// The type of SQLite's authorizer callbacks.
type Authorizer = unsafe extern "C" fn(
    *mut std::ffi::c_void,
    c_int,
    *const std::ffi::c_char,
    *const std::ffi::c_char,
    *const std::ffi::c_char,
    *const std::ffi::c_char,
) -> c_int;

/// `table`'s name as a C string that lives as long as the process: the
/// authorizer may be consulted until the connection closes, whose end the
/// host does not wait for. One per table name, so a long process does not
/// grow with its runs.
pub fn interned(table: &str) -> &'static std::ffi::CStr {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashMap<String, &'static std::ffi::CStr>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    names.entry(table.to_owned()).or_insert_with(|| {
        let name = std::ffi::CString::new(table.replace('\0', "")).unwrap_or_default();
        Box::leak(name.into_boxed_c_str())
    })
}

/// Pragmas a handler may read or set on its own database: schema
/// introspection and foreign-key handling, which migrations need; nothing
/// that touches files, the journal or the engine's safety settings.
const PRAGMAS_ALLOWED: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "foreign_keys",
    "defer_foreign_keys",
    "integrity_check",
    "quick_check",
    "user_version",
    "application_id",
    "schema_version",
    "collation_list",
];

/// [`authorize`], and no `BEGIN`.
unsafe extern "C" fn authorize_reading(
    user_data: *mut std::ffi::c_void,
    action: c_int,
    first: *const std::ffi::c_char,
    second: *const std::ffi::c_char,
    database: *const std::ffi::c_char,
    trigger: *const std::ffi::c_char,
) -> c_int {
    use libsqlite3_sys as ffi;
    if action == ffi::SQLITE_TRANSACTION || action == ffi::SQLITE_SAVEPOINT {
        return ffi::SQLITE_DENY;
    }
    // SAFETY: the same arguments SQLite passed us, for the same call.
    unsafe { authorize(user_data, action, first, second, database, trigger) }
}

/// [`authorize`], and of writes only rows of the table named by `user_data`.
unsafe extern "C" fn authorize_rows(
    user_data: *mut std::ffi::c_void,
    action: c_int,
    first: *const std::ffi::c_char,
    second: *const std::ffi::c_char,
    database: *const std::ffi::c_char,
    trigger: *const std::ffi::c_char,
) -> c_int {
    use libsqlite3_sys as ffi;
    // SAFETY: the same arguments SQLite passed us, for the same call.
    let verdict = unsafe { authorize(user_data, action, first, second, database, trigger) };
    if verdict != ffi::SQLITE_OK {
        return verdict;
    }
    match action {
        ffi::SQLITE_SELECT
        | ffi::SQLITE_READ
        | ffi::SQLITE_FUNCTION
        | ffi::SQLITE_PRAGMA
        | ffi::SQLITE_RECURSIVE
        | ffi::SQLITE_TRANSACTION
        | ffi::SQLITE_SAVEPOINT => ffi::SQLITE_OK,
        ffi::SQLITE_INSERT | ffi::SQLITE_UPDATE | ffi::SQLITE_DELETE => {
            // SAFETY: `user_data` is the `'static` C string `allow_rows_only`
            // set, and SQLite passes a NUL-terminated table name or NULL.
            let table = unsafe { std::ffi::CStr::from_ptr(user_data.cast()) };
            let written = (!first.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(first) });
            if written
                .is_some_and(|written| written.to_bytes().eq_ignore_ascii_case(table.to_bytes()))
            {
                ffi::SQLITE_OK
            } else {
                ffi::SQLITE_DENY
            }
        }
        _ => ffi::SQLITE_DENY,
    }
}

unsafe extern "C" fn authorize(
    _user_data: *mut std::ffi::c_void,
    action: c_int,
    first: *const std::ffi::c_char,
    second: *const std::ffi::c_char,
    _database: *const std::ffi::c_char,
    _trigger: *const std::ffi::c_char,
) -> c_int {
    use libsqlite3_sys as ffi;
    // SAFETY: SQLite passes NUL-terminated strings or NULL, valid for the call.
    let text = |ptr: *const std::ffi::c_char| {
        (!ptr.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(ptr) }.to_string_lossy())
    };
    match action {
        ffi::SQLITE_ATTACH | ffi::SQLITE_DETACH => ffi::SQLITE_DENY,
        ffi::SQLITE_PRAGMA => {
            let allowed = text(first).is_some_and(|pragma| {
                let pragma = pragma.to_ascii_lowercase();
                // schema_version is read-only here: writing it corrupts the file.
                PRAGMAS_ALLOWED.contains(&pragma.as_str())
                    && (pragma != "schema_version" || second.is_null())
            });
            if allowed {
                ffi::SQLITE_OK
            } else {
                ffi::SQLITE_DENY
            }
        }
        ffi::SQLITE_FUNCTION => {
            let name = text(second).map(|name| name.to_ascii_lowercase());
            if name.as_deref() == Some("load_extension") {
                ffi::SQLITE_DENY
            } else {
                ffi::SQLITE_OK
            }
        }
        _ => ffi::SQLITE_OK,
    }
}
