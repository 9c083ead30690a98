//! What a handler left in its database, read from the database's own
//! catalog after its session ends.
//!
//! A handler's account is confined while it runs, but what it leaves runs
//! later, for whoever touches it: a trigger or rule on the tracking table
//! fires for Prisma's own deploy (on the project's, often superuser, URL), a
//! function named like a built-in is picked over it by a later caller, a
//! view reads with its owner's rights. So the host lists the database's
//! objects before the handler's first call and after its last one, and
//! refuses by kind and place, never by what a statement's text says:
//!
//! - `init` leaves the tracking table (with its indexes, constraints and
//!   sequences) and plain tables; any routine, trigger, rule, policy, view,
//!   operator, cast, type, extension, or a default or generated expression
//!   calling a routine of the database's own, made by the call, is refused.
//! - Every command: nothing attached to the tracking table (trigger, rule,
//!   policy, a default calling such a routine), and on PostgreSQL no
//!   function or operator outside `pg_catalog` that a call written for a
//!   built-in one could reach instead (same name and arity, or enough
//!   arguments for a variadic built-in; built-in argument types), whoever
//!   made it.
//!
//! What is refused and was made by the call is removed; the rest is named.
//! Everything here runs on the host's own session, whose search path is
//! `pg_catalog` only ([`super::Server::open`]): nothing the handler planted
//! is a candidate for these queries.

use std::collections::HashSet;

use serde::Serialize;

use super::{ConnectionString, Database, SqlError, Value};
use crate::names::quote;
use crate::provider::Provider;

/// One object the handler created, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandlerObject {
    /// `table`, `index`, `trigger`, `function`, `view`, …
    pub kind: String,
    pub name: String,
}

/// The objects of a database before the handler's first call.
#[derive(Debug, Default)]
pub struct Snapshot(HashSet<String>);

/// What a command expects the handler to leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `init`: the tracking table and plain tables, nothing that runs.
    Initialized,
    /// Any other command: the migrations' own objects, anything.
    Migrated,
}

/// The outcome of a check: what the call created, and what is refused.
#[derive(Debug, Default)]
pub struct Leftovers {
    pub created: Vec<HandlerObject>,
    pub refused: Vec<Refused>,
}

/// An object that must not stay.
#[derive(Debug, Clone)]
pub struct Refused {
    pub object: HandlerObject,
    /// Why: what it could do, for the report.
    pub reason: &'static str,
    /// Made by this run's handler (and so removed), not found there.
    pub created: bool,
    /// The statement that removes it.
    pub drop: String,
}

/// One object as the catalog query reads it.
struct Object {
    key: String,
    kind: String,
    name: String,
    /// On the tracking table: it runs for whoever writes or reads there.
    on_tracking: bool,
    /// Reachable by a call meant for a built-in routine or operator.
    shadows: bool,
    drop: Option<String>,
}

impl Object {
    /// Kinds that hold data only: nothing in them runs.
    fn is_data(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "table" | "index" | "sequence" | "foreign table"
        )
    }
}

/// The database's objects now, to tell later which the handler made.
pub async fn snapshot(database: &mut Database) -> Result<Snapshot, SqlError> {
    let objects = objects(database, "").await?;
    Ok(Snapshot(
        objects.into_iter().map(|object| object.key).collect(),
    ))
}

/// What the handler left since `before`, judged for `expect`; `table` is
/// the tracking table, in `target`'s home schema.
pub async fn check(
    database: &mut Database,
    target: &ConnectionString,
    table: &str,
    before: &Snapshot,
    expect: Expect,
) -> Result<Leftovers, SqlError> {
    let tracking = match database.provider() {
        Provider::Postgresql => target.qualify(table),
        Provider::Mysql | Provider::Sqlite => table.to_owned(),
    };
    let mut leftovers = Leftovers::default();
    for object in objects(database, &tracking).await? {
        let created = !before.0.contains(&object.key);
        let reason = if object.on_tracking {
            Some("attached to the tracking table, it runs for whoever writes to it")
        } else if object.shadows {
            Some("named like a built-in, it runs for callers of the built-in one")
        } else if created && expect == Expect::Initialized && !object.is_data() {
            Some("init creates the tracking table only; this would run code")
        } else {
            None
        };
        let shown = HandlerObject {
            kind: object.kind,
            name: object.name,
        };
        if let (Some(reason), Some(drop)) = (reason, object.drop) {
            leftovers.refused.push(Refused {
                object: shown.clone(),
                reason,
                created,
                drop,
            });
        }
        if created {
            leftovers.created.push(shown);
        }
    }
    Ok(leftovers)
}

/// Removes the refused objects this run's handler made, each on its own
/// (one that is gone already with another is fine); returns what could not
/// be removed.
pub async fn remove(database: &mut Database, refused: &[Refused]) -> Vec<String> {
    let mut failed = Vec::new();
    for refused in refused.iter().filter(|refused| refused.created) {
        if let Err(err) = database.execute(&refused.drop, &[]).await {
            failed.push(format!(
                "{} {}: {}",
                refused.object.kind, refused.object.name, err.message
            ));
        }
    }
    failed
}

/// The database's objects; `tracking` names the tracking table (qualified,
/// on PostgreSQL).
async fn objects(database: &mut Database, tracking: &str) -> Result<Vec<Object>, SqlError> {
    match database.provider() {
        Provider::Postgresql => {
            let rows = database
                .query(POSTGRES_OBJECTS, &[Value::Text(tracking.into())])
                .await?;
            postgres_objects(rows)
        }
        Provider::Mysql => {
            let rows = database.query(MYSQL_OBJECTS, &[]).await?;
            Ok(named_objects(Provider::Mysql, rows, tracking))
        }
        Provider::Sqlite => {
            let rows = database.query(SQLITE_OBJECTS, &[]).await?;
            Ok(named_objects(Provider::Sqlite, rows, tracking))
        }
    }
}

/// Every object in the database's own schemas that is not an extension's,
/// with how to remove it. `$1` is the tracking table, qualified (empty for
/// a snapshot, which needs no tracking table).
/// Built-in objects are those below `FirstNormalObjectId` (16384).
const POSTGRES_OBJECTS: &str = "\
WITH own AS (SELECT oid FROM pg_namespace WHERE nspname <> 'information_schema' AND nspname !~ '^pg_'), \
tracking AS (SELECT oid FROM pg_class WHERE oid = to_regclass(NULLIF($1, ''))), \
extension AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e') \
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' \
    WHEN 'f' THEN 'foreign table' WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'c' THEN 'type' ELSE 'table' END, \
  'class:' || c.oid, c.oid::regclass::text, false, false, \
  CASE c.relkind WHEN 'v' THEN format('DROP VIEW IF EXISTS %s CASCADE', c.oid::regclass) \
    WHEN 'm' THEN format('DROP MATERIALIZED VIEW IF EXISTS %s CASCADE', c.oid::regclass) \
    WHEN 'c' THEN format('DROP TYPE IF EXISTS %s CASCADE', c.oid::regclass) END \
FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM own) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I', 'c') \
  AND NOT EXISTS (SELECT 1 FROM extension e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid) \
UNION ALL \
SELECT 'trigger', 'trigger:' || t.oid, format('%I on %s', t.tgname, t.tgrelid::regclass), \
  t.tgrelid IN (SELECT oid FROM tracking), false, format('DROP TRIGGER IF EXISTS %I ON %s', t.tgname, t.tgrelid::regclass) \
FROM pg_trigger t WHERE NOT t.tgisinternal \
UNION ALL \
SELECT 'rule', 'rule:' || r.oid, format('%I on %s', r.rulename, r.ev_class::regclass), \
  r.ev_class IN (SELECT oid FROM tracking), false, format('DROP RULE IF EXISTS %I ON %s', r.rulename, r.ev_class::regclass) \
FROM pg_rewrite r WHERE r.rulename <> '_RETURN' AND r.oid >= 16384 \
UNION ALL \
SELECT 'policy', 'policy:' || p.oid, format('%I on %s', p.polname, p.polrelid::regclass), \
  p.polrelid IN (SELECT oid FROM tracking), false, format('DROP POLICY IF EXISTS %I ON %s', p.polname, p.polrelid::regclass) \
FROM pg_policy p \
UNION ALL \
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, \
  'routine:' || p.oid, p.oid::regprocedure::text, false, \
  EXISTS (SELECT 1 FROM pg_proc b WHERE b.pronamespace = 'pg_catalog'::regnamespace \
    AND b.proname = p.proname \
    AND (b.pronargs = p.pronargs OR (b.provariadic <> 0 AND p.pronargs >= b.pronargs - 1))) \
    AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes) a WHERE a >= 16384), \
  format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure) \
FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM own) \
  AND NOT EXISTS (SELECT 1 FROM extension e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid) \
UNION ALL \
SELECT 'operator', 'operator:' || o.oid, o.oid::regoperator::text, false, \
  EXISTS (SELECT 1 FROM pg_operator b WHERE b.oprnamespace = 'pg_catalog'::regnamespace \
    AND b.oprname = o.oprname AND (b.oprleft = 0) = (o.oprleft = 0)) \
    AND o.oprleft < 16384 AND o.oprright < 16384, \
  format('DROP OPERATOR IF EXISTS %s CASCADE', o.oid::regoperator) \
FROM pg_operator o WHERE o.oprnamespace IN (SELECT oid FROM own) \
  AND NOT EXISTS (SELECT 1 FROM extension e WHERE e.classid = 'pg_operator'::regclass AND e.objid = o.oid) \
UNION ALL \
SELECT 'cast', 'cast:' || c.oid, format('%s AS %s', c.castsource::regtype, c.casttarget::regtype), false, false, \
  format('DROP CAST IF EXISTS (%s AS %s) CASCADE', c.castsource::regtype, c.casttarget::regtype) \
FROM pg_cast c WHERE c.oid >= 16384 \
  AND NOT EXISTS (SELECT 1 FROM extension e WHERE e.classid = 'pg_cast'::regclass AND e.objid = c.oid) \
UNION ALL \
SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, 'type:' || t.oid, t.oid::regtype::text, false, false, \
  format('DROP %s IF EXISTS %s CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype) \
FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM own) \
  AND (t.typtype IN ('d', 'e', 'r', 'p') OR (t.typtype = 'b' AND t.typcategory <> 'A')) \
  AND NOT EXISTS (SELECT 1 FROM extension e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid) \
UNION ALL \
SELECT 'extension', 'extension:' || x.oid, x.extname::text, false, false, \
  format('DROP EXTENSION IF EXISTS %I CASCADE', x.extname) \
FROM pg_extension x WHERE x.oid >= 16384 \
UNION ALL \
SELECT CASE a.attgenerated WHEN '' THEN 'column default' ELSE 'generated column' END, 'default:' || d.oid, \
  format('%s.%I', d.adrelid::regclass, a.attname), d.adrelid IN (SELECT oid FROM tracking), false, \
  format(CASE a.attgenerated WHEN '' THEN 'ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT' \
    ELSE 'ALTER TABLE %s ALTER COLUMN %I DROP EXPRESSION IF EXISTS' END, d.adrelid::regclass, a.attname) \
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
WHERE EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_attrdef'::regclass AND x.objid = d.oid \
  AND x.refclassid = 'pg_proc'::regclass AND x.refobjid >= 16384)";

fn postgres_objects(rows: super::Rows) -> Result<Vec<Object>, SqlError> {
    rows.rows
        .into_iter()
        .map(|row| match row.as_slice() {
            [
                Value::Text(kind),
                Value::Text(key),
                Value::Text(name),
                Value::Boolean(on_tracking),
                Value::Boolean(shadows),
                drop,
            ] => Ok(Object {
                key: key.clone(),
                kind: kind.clone(),
                name: name.clone(),
                on_tracking: *on_tracking,
                shadows: *shadows,
                drop: match drop {
                    Value::Text(drop) => Some(drop.clone()),
                    _ => None,
                },
            }),
            other => Err(SqlError::new(format!(
                "unexpected row in the catalog's objects: {other:?}"
            ))),
        })
        .collect()
}

/// Kind, name and (for a trigger) table of every object in the database.
const MYSQL_OBJECTS: &str = "\
SELECT CAST(IF(table_type = 'VIEW', 'view', 'table') AS CHAR), CAST(table_name AS CHAR), CAST('' AS CHAR) \
FROM information_schema.tables WHERE table_schema = DATABASE() \
UNION ALL SELECT CAST('trigger' AS CHAR), CAST(trigger_name AS CHAR), CAST(event_object_table AS CHAR) \
FROM information_schema.triggers WHERE trigger_schema = DATABASE() \
UNION ALL SELECT CAST(LOWER(routine_type) AS CHAR), CAST(routine_name AS CHAR), CAST('' AS CHAR) \
FROM information_schema.routines WHERE routine_schema = DATABASE() \
UNION ALL SELECT CAST('event' AS CHAR), CAST(event_name AS CHAR), CAST('' AS CHAR) \
FROM information_schema.events WHERE event_schema = DATABASE()";

/// Kind, name and table of every object in the file but SQLite's own.
const SQLITE_OBJECTS: &str = "SELECT type, name, tbl_name FROM sqlite_master \
WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

/// Objects of a provider whose catalog names them (MySQL, SQLite): the
/// statement that removes each is built here, its name quoted.
fn named_objects(provider: Provider, rows: super::Rows, table: &str) -> Vec<Object> {
    rows.rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [Value::Text(kind), Value::Text(name), Value::Text(on)] => {
                let drop = match kind.as_str() {
                    "trigger" | "view" | "procedure" | "function" | "event" => Some(format!(
                        "DROP {} IF EXISTS {}",
                        kind.to_uppercase(),
                        quote(provider, name)
                    )),
                    _ => None,
                };
                let on_tracking = kind == "trigger" && on == table;
                Some(Object {
                    key: format!("{kind}:{name}"),
                    kind: kind.clone(),
                    name: if on_tracking {
                        format!("{name} on {on}")
                    } else {
                        name.clone()
                    },
                    on_tracking,
                    shadows: false,
                    drop,
                })
            }
            _ => None,
        })
        .collect()
}
