//! PostgreSQL: server operations and row decoding.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow, PgValueFormat};
use sqlx::{AssertSqlSafe, Column, Connection, Row, TypeInfo, ValueRef};
use url::Url;

use super::{CreateError, Polite, SqlError, Value};
use crate::names::quote;
use crate::provider::Provider;

/// SQLSTATE duplicate_database; unique_violation when two sessions race on
/// the pg_database catalog.
const DUPLICATE_DATABASE: &[&str] = &["42P04", "23505"];

/// Server-level work needs a database to connect to: the maintenance
/// database `postgres`, the same one `createdb` uses.
pub async fn connect_server(url: &Url) -> Result<PgConnection, sqlx::Error> {
    let mut admin = url.clone();
    admin.set_path("/postgres");
    connect(&admin).await
}

/// A session in the database `url` names, shown in `pg_stat_activity` as
/// `faber-db (pid N)` (unless the URL names an application itself), so
/// that a DBA sees which run holds it.
pub async fn connect(url: &Url) -> Result<PgConnection, sqlx::Error> {
    PgConnection::connect_with(&options(url)?).await
}

/// A session of the host's own in the database `url` names, its search
/// path `pg_catalog` only, set at login (no round trip of its own, and
/// above any default the database or a role sets): a function or operator
/// someone left in the database's schemas, named like a built-in and taking
/// types it matches better, is then never a candidate for the host's
/// statements, which name the project's tables in full.
pub async fn connect_hosts_own(url: &Url) -> Result<PgConnection, sqlx::Error> {
    let options = options(url)?.options([("search_path", "pg_catalog,pg_temp")]);
    PgConnection::connect_with(&options).await
}

fn options(url: &Url) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(super::driver_url(url).as_str())?;
    if options.get_application_name().is_some() {
        return Ok(options);
    }
    Ok(options.application_name(&format!("faber-db (pid {})", std::process::id())))
}

/// PostgreSQL's `invalid_catalog_name`: the database named does not exist.
pub const NO_SUCH_DATABASE: &str = "3D000";

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

/// Drops the database and its owner role, which held nothing elsewhere.
pub async fn drop_database(conn: &mut PgConnection, name: &str) -> Result<(), SqlError> {
    let statement = format!(
        "DROP DATABASE IF EXISTS {}",
        quote(Provider::Postgresql, name)
    );
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(&mut *conn)
        .await?;
    let owner = format!(
        "DROP ROLE IF EXISTS {}",
        quote(
            Provider::Postgresql,
            &super::handler_session::owner_account(name)
        )
    );
    sqlx::raw_sql(AssertSqlSafe(owner)).execute(conn).await?;
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
        "TIMESTAMPTZ" | "TIMESTAMP" if row.try_get_raw(index)?.format() == PgValueFormat::Text => {
            let text = row
                .try_get_raw(index)?
                .as_str()
                .map_err(sqlx::Error::Decode)?;
            Value::Text(timestamp_text_rfc3339(text).ok_or_else(|| {
                sqlx::Error::Protocol(format!("unreadable {type_name} value {text:?}"))
            })?)
        }
        "TIMESTAMPTZ" => Value::Text(super::rfc3339(row.try_get(index)?)),
        "TIMESTAMP" => Value::Text(super::rfc3339_naive(row.try_get(index)?)),
        _ => Value::Text(row.try_get(index).map_err(|_| unsupported(&type_name))?),
    })
}

/// A timestamp as a simple query returns it (`2026-11-24 10:06:02.33+00`,
/// DateStyle ISO), as RFC 3339 in UTC. sqlx's own text decoding fails on
/// a time of whole seconds with an offset (`…10:06:02+00`), which Prisma's
/// millisecond times often are.
fn timestamp_text_rfc3339(text: &str) -> Option<String> {
    use time::macros::format_description;
    let split = text.rfind(['+', '-']).filter(|&at| at > 10);
    let (local, offset) = match split {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    };
    let local = time::PrimitiveDateTime::parse(
        local,
        format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]"
        ),
    )
    .ok()?;
    let offset = match offset {
        None => time::UtcOffset::UTC,
        Some(offset) => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let mut parts = offset[1..].split(':').map(str::parse::<i8>);
            let hours = parts.next()?.ok()?;
            let minutes = parts.next().transpose().ok()?.unwrap_or(0);
            let seconds = parts.next().transpose().ok()?.unwrap_or(0);
            time::UtcOffset::from_hms(sign * hours, sign * minutes, sign * seconds).ok()?
        }
    };
    Some(super::rfc3339(
        local.assume_offset(offset).to_offset(time::UtcOffset::UTC),
    ))
}

fn unsupported(type_name: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!(
        "column type {type_name} cannot be returned to a handler; cast it to text in the query"
    ))
}

/// Bookkeeping of transient roles need not wait for the WAL to reach the
/// disk: a role lost in a crash is harmless, and one left behind is swept.
pub(super) const NO_FLUSH: &str = "SET LOCAL synchronous_commit = off";

/// A login role that may connect to database `name` and create in it, and
/// nothing else: no attribute beyond LOGIN, no membership, one connection,
/// a password that stops working at `expires` (seconds since the epoch).
/// `admin` is a session in `name`: roles and database grants belong to the
/// whole server, so the role and all its grants are made there, in one
/// transaction that leaves nothing behind if any part is refused. The
/// database's `owner` role is made too, where it is not yet, and lends the
/// role what it owns for the call.
pub async fn create_account(
    admin: &mut super::Database,
    account: &str,
    password: &str,
    name: &str,
    expires: u64,
    owner: &str,
) -> Result<(), SqlError> {
    let create = format!(
        "{}; {}; {}",
        new_role(account, password, name, expires, Grants::Write)?,
        owner_role(owner, name)?,
        lend_objects(account, owner)
    );
    admin.execute(&create, &[]).await.map(drop)
}

/// The database's owner role, made where it is not yet: `NOLOGIN`, no
/// attribute, member of no role, the use of database `name` only. The
/// connection's user becomes a member, so that it (and Prisma's CLI with
/// the same URL) may alter and drop what the role owns.
fn owner_role(owner: &str, name: &str) -> Result<String, SqlError> {
    let role = quote(Provider::Postgresql, owner);
    let literal = owner.replace('\'', "''");
    Ok(format!(
        "DO $owner$ BEGIN \
           IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{literal}') THEN \
             CREATE ROLE {role} NOLOGIN NOINHERIT; \
           END IF; END $owner$; \
         GRANT {role} TO CURRENT_USER; {}",
        database_grants(owner, name, Grants::Write)?
    ))
}

/// The statements that make `account` and give it `grants` in database
/// `name`, as one transaction for a session in that database.
fn new_role(
    account: &str,
    password: &str,
    name: &str,
    expires: u64,
    grants: Grants,
) -> Result<String, SqlError> {
    Ok(format!(
        "{}; {}",
        login_role(account, password, expires, 1),
        database_grants(account, name, grants)?
    ))
}

/// The statements that make `account`, granted nothing yet. The
/// connection's user becomes a member so that it may take over what the
/// role creates (REASSIGN OWNED) without being a superuser.
fn login_role(account: &str, password: &str, expires: u64, connections: usize) -> String {
    let role = quote(Provider::Postgresql, account);
    format!(
        "{NO_FLUSH}; \
         CREATE ROLE {role} {} NOINHERIT; \
         GRANT {role} TO CURRENT_USER",
        login_clause(password, expires, connections)
    )
}

/// `LOGIN` with nothing else: no attribute, `connections` sessions at
/// once, a password (stored as its SCRAM verifier) that stops working at
/// `expires`.
fn login_clause(password: &str, expires: u64, connections: usize) -> String {
    let verifier = super::credentials::scram_sha256_verifier(password);
    let expires = super::rfc3339(
        time::OffsetDateTime::from_unix_timestamp(expires as i64)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    );
    format!(
        "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS \
         CONNECTION LIMIT {connections} PASSWORD '{verifier}' VALID UNTIL '{expires}'"
    )
}

/// A login role that may connect to database `name` and read, insert,
/// update and delete the rows of `table` (named in full): a 0.4.0 handler's
/// session while it keeps its tracking table, which the database keeps from
/// changing anything else. It creates nothing, so it owns nothing. The
/// table's own sequences (a `SERIAL` id, as Drizzle's) may be drawn from,
/// or no row could be inserted.
pub async fn create_row_keeper(
    admin: &mut super::Database,
    account: &str,
    password: &str,
    name: &str,
    expires: u64,
    table: &str,
) -> Result<(), SqlError> {
    let mut create = new_role(account, password, name, expires, Grants::Rows(table))?;
    let sequences = admin
        .query(OWNED_SEQUENCES, &[Value::Text(table.to_owned())])
        .await?;
    for sequence in super::first_texts(sequences) {
        create.push_str(&format!(
            "; GRANT USAGE ON SEQUENCE {sequence} TO {}",
            quote(Provider::Postgresql, account)
        ));
    }
    admin.execute(&create, &[]).await.map(drop)
}

/// The sequences a table's columns own (`SERIAL`, identity), each named in
/// full and quoted by the server; `$1` is the table, named in full.
const OWNED_SEQUENCES: &str = "SELECT format('%I.%I', n.nspname, s.relname) \
     FROM pg_depend d JOIN pg_class s ON s.oid = d.objid \
     JOIN pg_namespace n ON n.oid = s.relnamespace \
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass \
       AND d.refobjid = to_regclass($1) AND s.relkind = 'S' AND d.deptype IN ('a', 'i')";

/// A login role that can read database `name` and change nothing anywhere:
/// SELECT on the tables of its schemas, and nothing else. Granted in the
/// database (its ACLs gain an entry until the role is removed), because
/// the server-wide `pg_read_all_data` would also read the shared catalogs:
/// every role's password hash in `pg_authid`. Refused (and removed) when it
/// could still create something there: CREATE on the database or on a
/// schema held by PUBLIC (the `public` schema before PostgreSQL 15).
/// `admin` is a session in `name`; made in one transaction on it.
pub async fn create_reading_account(
    admin: &mut PgConnection,
    account: &str,
    password: &str,
    name: &str,
    expires: u64,
) -> Result<(), SqlError> {
    let create = new_role(account, password, name, expires, Grants::Read)?;
    let statement = format!("{create}; {}", refuse_if_it_may_create(account));
    refused_where_it_may_create(admin, statement, name).await
}

/// A login role that reads nothing until [`grant_reading`] grants it a
/// database: the reading role a `status` run shares across the databases
/// of one server, which `connections` sessions may use at once.
pub async fn create_shared_reader(
    conn: &mut PgConnection,
    account: &str,
    password: &str,
    expires: u64,
    connections: usize,
) -> Result<(), SqlError> {
    let create = login_role(account, password, expires, connections);
    sqlx::raw_sql(AssertSqlSafe(create)).execute(conn).await?;
    Ok(())
}

/// Grants an existing role the reading of database `name`, as
/// [`create_reading_account`] grants it and refused as it is; `admin` is a
/// session in `name`. Undone by [`revoke_reading`].
pub async fn grant_reading(
    admin: &mut PgConnection,
    account: &str,
    name: &str,
) -> Result<(), SqlError> {
    let statement = format!(
        "{NO_FLUSH}; {}; {}",
        database_grants(account, name, Grants::Read)?,
        refuse_if_it_may_create(account)
    );
    refused_where_it_may_create(admin, statement, name).await
}

/// Revokes what [`grant_reading`] granted in database `name`, on
/// `admin`, a session in it: `DROP OWNED` would also revoke the role's use
/// of every other database, which other readings may be about to log in to.
pub async fn revoke_reading(
    admin: &mut PgConnection,
    account: &str,
    name: &str,
) -> Result<(), SqlError> {
    let revoke = format!(
        "{NO_FLUSH}; REVOKE CONNECT ON DATABASE {} FROM {}; {}",
        quote(Provider::Postgresql, name),
        quote(Provider::Postgresql, account),
        in_each_schema(
            account,
            &[
                "REVOKE SELECT ON ALL TABLES IN SCHEMA %I FROM %I",
                "REVOKE USAGE ON SCHEMA %I FROM %I",
            ],
        )?
    );
    sqlx::raw_sql(AssertSqlSafe(revoke)).execute(admin).await?;
    Ok(())
}

/// Fails the transaction it ends when `account` could create something in
/// the session's database: CREATE on it or on one of its schemas, held
/// through PUBLIC (the `public` schema before PostgreSQL 15).
fn refuse_if_it_may_create(account: &str) -> String {
    let literal = account.replace('\'', "''");
    format!(
        "DO $check$ BEGIN \
           IF has_database_privilege('{literal}', current_database(), 'CREATE') \
             OR EXISTS (SELECT 1 FROM pg_namespace WHERE has_schema_privilege('{literal}', oid, 'CREATE')) \
           THEN RAISE EXCEPTION USING ERRCODE = '{MAY_CREATE}', MESSAGE = 'a role without privileges could create'; \
           END IF; END $check$"
    )
}

/// Runs a reading grant that ends in [`refuse_if_it_may_create`], as one
/// transaction: a refusal leaves nothing of it.
async fn refused_where_it_may_create(
    admin: &mut PgConnection,
    statement: String,
    name: &str,
) -> Result<(), SqlError> {
    match sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(admin)
        .await
        .map_err(SqlError::from)
    {
        Err(err) if err.code.as_deref() == Some(MAY_CREATE) => Err(SqlError {
            code: err.code,
            message: format!(
                "a role without privileges could still write in database {name}: PUBLIC holds CREATE on it or one of its schemas"
            ),
            denied: true,
        }),
        outcome => outcome.map(|_| ()),
    }
}

/// The SQLSTATE of [`create_reading_account`]'s refusal (a class of its own).
pub const MAY_CREATE: &str = "FDB01";

/// Hands the role, for the call, what the database's owner role owns and
/// what the connection's user owns in this database's own schemas
/// (schemas, tables, views, sequences, types, routines; not what an
/// extension owns): a migration alters and drops what earlier migrations
/// created, and PostgreSQL lets only an owner do that. Nothing outside the
/// database moves; [`remove_account`] (or the sweep, after a killed run)
/// passes it all to the owner role with REASSIGN OWNED, so the user's
/// objects join the role's. The user's SECURITY DEFINER routines stay with
/// it: they may rely on its privileges, which the owner role lacks.
fn lend_objects(account: &str, owner: &str) -> String {
    let literal = account.replace('\'', "''");
    format!(
        "REASSIGN OWNED BY {} TO {}; \
         DO $lend$ DECLARE r record; me oid := (SELECT oid FROM pg_roles WHERE rolname = current_user); \
         BEGIN \
           FOR r IN SELECT n.nspname FROM pg_namespace n WHERE n.nspowner = me \
             AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' LOOP \
             EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, '{literal}'); \
           END LOOP; \
           FOR r IN SELECT c.oid::regclass AS object, c.relkind FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relowner = me AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') \
             AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
               AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e')) LOOP \
             EXECUTE format('ALTER %s %s OWNER TO %I', CASE r.relkind WHEN 'v' THEN 'VIEW' \
               WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' \
               WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.object, '{literal}'); \
           END LOOP; \
           FOR r IN SELECT t.oid::regtype AS object, t.typtype FROM pg_type t \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typowner = me AND t.typtype IN ('e', 'd', 'r') \
             AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass \
               AND d.objid = t.oid AND d.deptype = 'e') LOOP \
             EXECUTE format('ALTER %s %s OWNER TO %I', CASE r.typtype WHEN 'd' THEN 'DOMAIN' \
               ELSE 'TYPE' END, r.object, '{literal}'); \
           END LOOP; \
           FOR r IN SELECT p.oid::regprocedure AS object FROM pg_proc p \
             JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE p.proowner = me AND NOT p.prosecdef AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass \
               AND d.objid = p.oid AND d.deptype = 'e') LOOP \
             EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.object, '{literal}'); \
           END LOOP; \
         END $lend$",
        quote(Provider::Postgresql, owner),
        quote(Provider::Postgresql, account)
    )
}

/// Lets an existing account connect to database `name` and create in it;
/// `admin` is a session in that database.
pub async fn grant_database(
    admin: &mut super::Database,
    account: &str,
    name: &str,
) -> Result<(), SqlError> {
    let grants = format!(
        "{NO_FLUSH}; {}",
        database_grants(account, name, Grants::Write)?
    );
    admin.execute(&grants, &[]).await.map(drop)
}

/// The grants that let `account` use database `name`, for a session in it:
/// connecting, schemas, and in every schema already there (a resumed
/// database's tracking table included) tables and sequences.
fn database_grants(account: &str, name: &str, access: Grants) -> Result<String, SqlError> {
    let role = quote(Provider::Postgresql, account);
    let (database, per_schema): (&str, &[&str]) = match access {
        Grants::Write => (
            "CONNECT, CREATE, TEMPORARY",
            &[
                "GRANT USAGE, CREATE ON SCHEMA %I TO %I",
                "GRANT ALL ON ALL TABLES IN SCHEMA %I TO %I",
                "GRANT ALL ON ALL SEQUENCES IN SCHEMA %I TO %I",
            ],
        ),
        Grants::Read => (
            "CONNECT",
            &[
                "GRANT USAGE ON SCHEMA %I TO %I",
                "GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I",
            ],
        ),
        Grants::Rows(_) => ("CONNECT", &["GRANT USAGE ON SCHEMA %I TO %I"]),
    };
    let rows = match access {
        Grants::Rows(table) => {
            format!("; GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        }
        Grants::Write | Grants::Read => String::new(),
    };
    Ok(format!(
        "GRANT {database} ON DATABASE {} TO {role}; {}{rows}",
        quote(Provider::Postgresql, name),
        in_each_schema(account, per_schema)?
    ))
}

/// A block that runs `statements` (`format` patterns taking a schema and
/// the role) for `account` in each of the session's database's own schemas.
fn in_each_schema(account: &str, statements: &[&str]) -> Result<String, SqlError> {
    // The role's name goes into the block as a string literal; `format(%I)`
    // quotes it again for each statement.
    let literal = account.replace('\'', "''");
    if literal.contains('$') {
        return Err(SqlError::new(format!(
            "the account name {account:?} contains `$`, which faber-db does not grant to"
        )));
    }
    let statements: String = statements
        .iter()
        .map(|statement| format!("EXECUTE format('{statement}', schema_name, '{literal}'); "))
        .collect();
    Ok(format!(
        "DO $each$ DECLARE schema_name text; BEGIN \
           FOR schema_name IN SELECT nspname FROM pg_namespace \
             WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP \
             {statements}\
           END LOOP; END $each$"
    ))
}

/// What [`database_grants`] gives: the use of a database, reading it, or
/// reading it and keeping the rows of one table (named in full).
#[derive(Clone, Copy)]
enum Grants<'a> {
    Rows(&'a str),
    Write,
    Read,
}

/// Ends the role's sessions, revokes its grants (DROP OWNED covers the
/// database's own grant too) and drops it, in one transaction. Given `admin`
/// (a session in the database, which is kept) and the database's `owner`
/// role, what the role owns there passes to the owner role first; without
/// them, on `conn`, the role's database is gone or it owned nothing.
pub async fn remove_account(
    conn: &mut PgConnection,
    admin: Option<&mut super::Database>,
    account: &str,
    owner: Option<&str>,
) -> Result<(), SqlError> {
    let role = quote(Provider::Postgresql, account);
    let literal = account.replace('\'', "''");
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{literal}'"
    );
    let (session, handed_over): (&mut PgConnection, _) = match (admin, owner) {
        (Some(super::Database::Postgres(admin)), Some(owner)) => (admin, hand_over(account, owner)),
        (Some(super::Database::Postgres(admin)), None) => (admin, String::new()),
        _ => (conn, String::new()),
    };
    let statement =
        format!("{terminate}; {NO_FLUSH}; {handed_over} DROP OWNED BY {role}; DROP ROLE {role}");
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(session)
        .await?;
    Ok(())
}

/// The statement that passes what `account` owns in the session's
/// database to the database's `owner` role: a SECURITY DEFINER routine the
/// handler made then runs with the owner role's privileges, which reach no
/// further than the database.
fn hand_over(account: &str, owner: &str) -> String {
    format!(
        "REASSIGN OWNED BY {} TO {};",
        quote(Provider::Postgresql, account),
        quote(Provider::Postgresql, owner)
    )
}

/// Drops the expired roles of faber-db's naming. A role that still owns
/// objects in a database (its run was killed mid-call) has them passed to
/// that database's owner role first.
pub async fn sweep_accounts(
    conn: &mut PgConnection,
    url: &Url,
    expired: &dyn Fn(&str) -> bool,
) -> Result<(), SqlError> {
    // A plain query (no prepared statement): this runs on every init.
    let select = format!(
        "SELECT rolname::text FROM pg_roles WHERE rolname LIKE '{}%'",
        super::handler_session::ACCOUNT_PREFIX.replace('_', "\\_")
    );
    let roles = sqlx::raw_sql(AssertSqlSafe(select))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<Vec<_>, _>>()?;
    for role in roles.iter().filter(|role| expired(role)) {
        let databases: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT d.datname::text FROM pg_shdepend s \
             JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.refobjid \
             WHERE r.rolname = $1 AND d.datname <> current_database()",
        )
        .bind(role)
        .fetch_all(&mut *conn)
        .await?;
        for database in databases {
            let mut other_url = url.clone();
            other_url.set_path(&format!("/{database}"));
            if let Ok(other) = connect(&other_url).await {
                let mut other = Polite::new(other);
                // The owner role is made here if the run was killed before.
                let owner = super::handler_session::owner_account(&database);
                if let Ok(made) = owner_role(&owner, &database) {
                    // A handler's database: resolved in `pg_catalog` only,
                    // as the host's sessions there always are.
                    let statement = format!(
                        "SET search_path = pg_catalog, pg_temp; {NO_FLUSH}; {made}; {} DROP OWNED BY {}",
                        hand_over(role, &owner),
                        quote(Provider::Postgresql, role)
                    );
                    let _ = sqlx::raw_sql(AssertSqlSafe(statement))
                        .execute(&mut *other)
                        .await;
                }
            }
        }
        remove_account(conn, None, role, None).await?;
    }
    Ok(())
}

/// What makes a session more than a user of one database: role attributes
/// and memberships (predefined roles included).
pub async fn account_privileges(conn: &mut PgConnection) -> Result<Vec<String>, SqlError> {
    let privileges = sqlx::query_scalar::<_, Option<String>>(
        "SELECT unnest(ARRAY[ \
            CASE WHEN rolsuper THEN 'SUPERUSER' END, \
            CASE WHEN rolcreaterole THEN 'CREATEROLE' END, \
            CASE WHEN rolcreatedb THEN 'CREATEDB' END, \
            CASE WHEN rolreplication THEN 'REPLICATION' END, \
            CASE WHEN rolbypassrls THEN 'BYPASSRLS' END]) \
         FROM pg_roles WHERE rolname = current_user \
         UNION ALL \
         SELECT 'member of ' || g.rolname FROM pg_auth_members m \
         JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member \
         WHERE u.rolname = current_user",
    )
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().flatten().collect())?;
    Ok(privileges)
}

#[cfg(test)]
mod tests {
    use super::timestamp_text_rfc3339 as rfc3339;

    #[test]
    fn timestamps_in_text_become_rfc3339_in_utc() {
        assert_eq!(
            rfc3339("2026-11-24 10:06:02.33+00").as_deref(),
            Some("2026-11-24T10:06:02.33Z")
        );
        assert_eq!(
            rfc3339("2026-11-24 10:06:02+00").as_deref(),
            Some("2026-11-24T10:06:02Z")
        );
        assert_eq!(
            rfc3339("2026-11-24 15:36:02.5+05:30").as_deref(),
            Some("2026-11-24T10:06:02.5Z")
        );
        assert_eq!(
            rfc3339("2026-11-24 02:06:02-08").as_deref(),
            Some("2026-11-24T10:06:02Z")
        );
        assert_eq!(
            rfc3339("2026-11-24 10:06:02").as_deref(),
            Some("2026-11-24T10:06:02Z")
        );
        assert_eq!(rfc3339("infinity"), None);
    }
}
