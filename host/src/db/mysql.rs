//! MySQL and MariaDB: server operations and row decoding.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{AssertSqlSafe, Column, Connection, Row, TypeInfo, ValueRef};
use url::Url;

use super::handler_session::Account;
use super::{CreateError, Polite, SqlError, Value};
use crate::names::quote;
use crate::provider::Provider;

/// ER_DB_CREATE_EXISTS.
const DATABASE_EXISTS: &str = "HY000";
const DATABASE_EXISTS_NUMBER: &str = "1007";

/// Server-level work runs without a default database.
pub async fn connect_server(url: &Url) -> Result<MySqlConnection, sqlx::Error> {
    let mut admin = url.clone();
    admin.set_path("");
    connect(&admin).await
}

/// Connects to what `url` names. An IAM token reaches MySQL through the
/// cleartext authentication plugin, which RDS asks for: it is allowed only
/// when the URL requires an encrypted connection.
pub async fn connect(url: &Url) -> Result<MySqlConnection, sqlx::Error> {
    let encrypted = url.query_pairs().any(|(key, value)| {
        matches!(key.as_ref(), "ssl-mode" | "sslmode")
            && matches!(
                value.to_ascii_uppercase().as_str(),
                "REQUIRED" | "VERIFY_CA" | "VERIFY_IDENTITY"
            )
    });
    let options = MySqlConnectOptions::from_str(super::driver_url(url).as_str())?
        .enable_cleartext_plugin(encrypted);
    MySqlConnection::connect_with(&options).await
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

/// Drops the database and its owner account, which held nothing elsewhere.
pub async fn drop_database(conn: &mut MySqlConnection, name: &str) -> Result<(), SqlError> {
    let statement = format!("DROP DATABASE IF EXISTS {}", quote(Provider::Mysql, name));
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(&mut *conn)
        .await?;
    let owner = super::handler_session::owner_account(name);
    let hosts: Vec<String> =
        sqlx::query_scalar("SELECT CAST(host AS CHAR) FROM mysql.user WHERE user = ?")
            .bind(&owner)
            .fetch_all(&mut *conn)
            .await?;
    for host in hosts {
        let account = Account {
            name: owner.clone(),
            host,
        };
        let drop = format!("DROP USER IF EXISTS {}", account_name(&account));
        sqlx::raw_sql(AssertSqlSafe(drop))
            .execute(&mut *conn)
            .await?;
    }
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

/// An account that holds `privileges` on database `name` and nothing else:
/// no global privilege (so no FILE, SUPER, user management or other
/// databases), one connection. Its host part is the one this machine
/// connects from, as the server sees it.
pub async fn create_account(
    conn: &mut MySqlConnection,
    account: &str,
    password: &str,
    name: &str,
    privileges: Privileges<'_>,
) -> Result<Account, SqlError> {
    let (ephemeral, identified) = this_host(conn, account, password).await?;
    let create = format!(
        "CREATE USER {} {identified} WITH MAX_USER_CONNECTIONS 1",
        account_name(&ephemeral)
    );
    sqlx::raw_sql(AssertSqlSafe(create))
        .execute(&mut *conn)
        .await?;
    if let Err(err) = grant(conn, &ephemeral, name, privileges).await {
        let _ = remove_account(conn, &ephemeral).await;
        return Err(err);
    }
    Ok(ephemeral)
}

/// `account` at the host this machine connects from, as the server sees
/// it, and the clause that sets its password: on MariaDB as its hash, so
/// the password itself never reaches the server's logs (MySQL rewrites it
/// out of them itself).
async fn this_host(
    conn: &mut MySqlConnection,
    account: &str,
    password: &str,
) -> Result<(Account, String), SqlError> {
    let (host, version): (String, String) =
        sqlx::query_as("SELECT SUBSTRING_INDEX(USER(), '@', -1), VERSION()")
            .fetch_one(&mut *conn)
            .await?;
    let identified = if version.contains("MariaDB") {
        format!(
            "IDENTIFIED BY PASSWORD '{}'",
            super::credentials::mysql_native_hash(password)
        )
    } else {
        format!("IDENTIFIED BY '{password}'")
    };
    let account = Account {
        name: account.to_owned(),
        host,
    };
    Ok((account, identified))
}

/// Makes database `name`'s owner account where it is not yet (every
/// privilege on that database, none elsewhere; locked) and unlocks it with
/// `password` for one login, which [`lock_owner`] closes again. A named
/// lock keeps two runs from changing its password between each other's
/// unlock and login.
pub async fn unlock_owner(
    conn: &mut MySqlConnection,
    owner: &str,
    password: &str,
    name: &str,
) -> Result<Account, SqlError> {
    let (account, identified) = this_host(conn, owner, password).await?;
    let acquired: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 30)")
        .bind(owner_lock(&account))
        .fetch_one(&mut *conn)
        .await?;
    if acquired != Some(1) {
        return Err(SqlError::new(format!(
            "another run held the login of {} for 30 s",
            account.name
        )));
    }
    let shown = account_name(&account);
    let unlocked = async {
        let create = format!("CREATE USER IF NOT EXISTS {shown} {identified} ACCOUNT LOCK");
        sqlx::raw_sql(AssertSqlSafe(create))
            .execute(&mut *conn)
            .await?;
        grant(conn, &account, name, Privileges::All).await?;
        let unlock = format!("ALTER USER {shown} {identified} ACCOUNT UNLOCK");
        sqlx::raw_sql(AssertSqlSafe(unlock))
            .execute(&mut *conn)
            .await?;
        Ok::<_, SqlError>(())
    }
    .await;
    if let Err(err) = unlocked {
        lock_owner(conn, &account).await;
        return Err(err);
    }
    Ok(account)
}

/// Locks the owner account again (its sessions go on) and lets other runs
/// log in as it. Best effort: it is unlocked again only by the next run.
pub async fn lock_owner(conn: &mut MySqlConnection, account: &Account) {
    let lock = format!("ALTER USER {} ACCOUNT LOCK", account_name(account));
    let _ = sqlx::raw_sql(AssertSqlSafe(lock)).execute(&mut *conn).await;
    let _ = sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(owner_lock(account))
        .execute(&mut *conn)
        .await;
}

fn owner_lock(account: &Account) -> String {
    format!("faber-db:{}", account.name)
}

/// What an account made for a handler may do in its database.
#[derive(Debug, Clone, Copy)]
pub enum Privileges<'a> {
    All,
    /// `SELECT` only: no writes, no `LOCK TABLES`, no temporary tables.
    Read,
    /// Reading, inserting, updating and deleting the rows of this one table.
    Rows(&'a str),
}

/// Gives `account` every privilege on database `name`, and on no other.
pub async fn grant_database(
    conn: &mut MySqlConnection,
    account: &Account,
    name: &str,
) -> Result<(), SqlError> {
    grant(conn, account, name, Privileges::All).await
}

async fn grant(
    conn: &mut MySqlConnection,
    account: &Account,
    name: &str,
    privileges: Privileges<'_>,
) -> Result<(), SqlError> {
    // `_` and `%` are wildcards in a GRANT's database name: escaped, the
    // grant matches this one database only.
    let database = quote(Provider::Mysql, name)
        .replace('_', "\\_")
        .replace('%', "\\%");
    let grant = match privileges {
        Privileges::All => format!("GRANT ALL PRIVILEGES ON {database}.* TO"),
        Privileges::Read => format!("GRANT SELECT ON {database}.* TO"),
        // A table-level grant names its database literally: no wildcards.
        Privileges::Rows(table) => format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {}.{} TO",
            quote(Provider::Mysql, name),
            quote(Provider::Mysql, table)
        ),
    };
    let grant = format!("{grant} {}", account_name(account));
    sqlx::raw_sql(AssertSqlSafe(grant)).execute(conn).await?;
    Ok(())
}

/// The host part of the account `url` logs in as, as the server matched it.
pub async fn account_host(url: &Url) -> Result<String, SqlError> {
    let mut server = url.clone();
    server.set_path("");
    let mut probe = Polite::new(connect(&server).await?);
    Ok(
        sqlx::query_scalar("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', -1)")
            .fetch_one(&mut *probe)
            .await?,
    )
}

/// Ends the account's connections and drops it (and with it its grants).
pub async fn remove_account(conn: &mut MySqlConnection, account: &Account) -> Result<(), SqlError> {
    let sessions: Vec<i64> = sqlx::query_scalar(
        "SELECT CAST(id AS SIGNED) FROM information_schema.processlist WHERE user = ?",
    )
    .bind(&account.name)
    .fetch_all(&mut *conn)
    .await?;
    for session in sessions {
        // Gone already is fine; KILL takes no parameters, the id is ours.
        let _ = sqlx::raw_sql(AssertSqlSafe(format!("KILL CONNECTION {session}")))
            .execute(&mut *conn)
            .await;
    }
    let drop = format!("DROP USER IF EXISTS {}", account_name(account));
    sqlx::raw_sql(AssertSqlSafe(drop)).execute(conn).await?;
    Ok(())
}

/// Drops the expired accounts of faber-db's naming.
pub async fn sweep_accounts(
    conn: &mut MySqlConnection,
    expired: &dyn Fn(&str) -> bool,
) -> Result<(), SqlError> {
    let pattern = format!(
        "{}%",
        super::handler_session::ACCOUNT_PREFIX.replace('_', "\\_")
    );
    let accounts: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(user AS CHAR), CAST(host AS CHAR) FROM mysql.user WHERE user LIKE ?",
    )
    .bind(pattern)
    .fetch_all(&mut *conn)
    .await?;
    for (name, host) in accounts.into_iter().filter(|(name, _)| expired(name)) {
        remove_account(conn, &Account { name, host }).await?;
    }
    Ok(())
}

/// Global privileges and privileges on other databases: what makes an
/// account more than a user of its database.
pub async fn account_privileges(conn: &mut MySqlConnection) -> Result<Vec<String>, SqlError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(CONCAT(privilege_type, ' on *.*') AS CHAR) FROM information_schema.user_privileges \
         WHERE grantee = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') \
           AND privilege_type <> 'USAGE' \
         UNION ALL \
         SELECT DISTINCT CAST(CONCAT('privileges on ', table_schema) AS CHAR) FROM information_schema.schema_privileges \
         WHERE grantee = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') \
           AND REPLACE(REPLACE(table_schema, '\\\\_', '_'), '\\\\%', '%') <> DATABASE()",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// `'user'@'host'`, each part a quoted string literal.
fn account_name(account: &Account) -> String {
    let literal = |text: &str| format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"));
    format!("{}@{}", literal(&account.name), literal(&account.host))
}
