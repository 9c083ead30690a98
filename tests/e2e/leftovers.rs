//! Nothing a handler leaves in its database runs later with anyone else's
//! privileges. The handler's session is confined while it runs, but what it
//! leaves runs for whoever comes next: a trigger, rule or policy on the
//! tracking table for Prisma's own deploy on the project's (often
//! superuser) URL, a function or operator named like a built-in for every
//! caller of the built-in, a view or a definer routine with its owner's
//! rights. So the host reads the catalog after every handler call that
//! writes, refuses (and removes) what would run for others, and hands what
//! the handler made to a per-database owner role (on MySQL, an account)
//! that can do nothing outside its database.
//!
//! Every test here runs on the README's superuser/root connection, with the
//! hostile migrator (a component built only against `wit/`, which runs what
//! the test plants in its folder and swallows every error) or the bundled
//! Prisma handler, and reads the servers' catalogs and the disk afterwards.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::migrate::Migrating;
use crate::prisma_cli::{configure_prisma, prisma};
use crate::support::servers::{accounts, server_query, try_query};
use crate::support::{Project, Run, Server, Target, hostile_migrator_project, sha256_hex, unique};

/// The hostile migrator's tracking table.
const TRACKING: &str = "hostile_migrations";

/// The role (PostgreSQL) or account (MySQL) faber-db makes to own what
/// handlers create in `database`: named from a hash of the database's name.
fn owner_of(database: &str) -> String {
    format!("fdb_o_{}", &sha256_hex(database.as_bytes())[..16])
}

/// A test's server database and its owner role or account, removed when
/// the test ends, also when it fails (faber-db removes an owner only with a
/// database it drops itself). Quiet: a second panic would abort the run.
struct Owned {
    server: Server,
    database: String,
}

impl Owned {
    fn new(target: &Target) -> Owned {
        Owned {
            server: target.server,
            database: target.name.clone(),
        }
    }

    fn owner(&self) -> String {
        owner_of(&self.database)
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        let (server, owner) = (self.server, self.owner());
        let quietly = |sql: &str| try_query(server, None, None, sql);
        match server {
            Server::Postgres => {
                let _ = quietly(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.database
                ));
                let _ = quietly(&format!("DROP ROLE IF EXISTS \"{owner}\""));
            }
            Server::Mysql => {
                let _ = quietly(&format!("DROP DATABASE IF EXISTS `{}`", self.database));
                let hosts = quietly(&format!(
                    "SELECT host FROM mysql.user WHERE user = '{owner}'"
                ));
                for host in hosts.unwrap_or_default() {
                    let _ = quietly(&format!("DROP USER IF EXISTS '{owner}'@'{host}'"));
                }
            }
            Server::Sqlite => {}
        }
    }
}

/// A folder the database server may write to, where a command planted in
/// the database would leave `pwned` if it ever ran with a superuser's
/// privileges.
struct Tripwire(tempfile::TempDir);

impl Tripwire {
    fn new() -> Tripwire {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        Tripwire(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.path().join("pwned")
    }

    fn assert_untouched(&self, when: &str) {
        assert!(
            !self.file().exists(),
            "{when}: a command planted in the database ran"
        );
    }
}

/// A project on the hostile migrator and its database (created by the
/// test's `init`), both removed when the test ends.
struct Planted {
    project: Project,
    target: Target,
    owned: Owned,
}

impl Planted {
    fn new(server: Server) -> Planted {
        let project = hostile_migrator_project(server.provider());
        let target = Target::new(server, &unique("fdb_leftover"), project.path());
        let owned = Owned::new(&target);
        Planted {
            project,
            target,
            owned,
        }
    }

    fn owner(&self) -> String {
        self.owned.owner()
    }

    /// Leaves `statements` in the folder's `file` (`attack-init.sql` or
    /// `attack-migrate.sql`), for the migrator to run.
    fn plant(&self, file: &str, statements: &[String]) {
        let folder = self.project.migrations();
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(file), statements.join("\n-- next\n")).unwrap();
    }

    fn run(&self, args: &[&str]) -> Run {
        self.project
            .run(args, &[("DEV_DATABASE_URL", &self.target.url())])
    }

    fn init(&self) -> Run {
        self.run(&["init", "dev", "--json"])
    }

    fn migrate(&self) -> Run {
        self.run(&["migrate", "dev", "--json", "--approve"])
    }
}

/// `run` failed on what the handler left, naming each of `objects` in its
/// error or cause (at `step`, for `init`); returns the report.
fn assert_refused(run: &Run, step: Option<u64>, objects: &[&str]) -> Value {
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    if let Some(step) = step {
        assert_eq!(report["step"]["number"], step, "{report}");
    }
    let said = format!("{} {}", report["error"], report["cause"]);
    for object in objects {
        assert!(said.contains(object), "{object} is not named: {report}");
    }
    report
}

/// Whether `report`'s `result.handler_objects` lists an object of `kind`
/// called `name`, however it is qualified (a schema, a routine's
/// arguments, a trigger's table).
fn lists(report: &Value, kind: &str, name: &str) -> bool {
    let objects = report["result"]["handler_objects"].as_array();
    objects.into_iter().flatten().any(|object| {
        let listed = object["name"].as_str().unwrap_or_default();
        let bare = listed.split([' ', '(']).next().unwrap_or_default();
        let bare = bare
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .trim_matches('"');
        object["kind"] == kind && bare == name
    })
}

// What the tests plant. Each is spelled so that no word of it says what it
// does (the host must judge the catalog, not the text), and each would run
// with the privileges of whoever touches it next.

/// A PL/pgSQL function that makes the server run `touch <tripwire>` when a
/// role allowed to run programs (a superuser) calls it.
fn pg_payload(tripwire: &Path) -> String {
    format!(
        "CREATE FUNCTION hostile_run() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN \
         EXECUTE format('%s (SELECT 1) TO %s %L', chr(67) || chr(79) || chr(80) || chr(89), \
         chr(80) || 'ROGRAM', 'touch {}'); RETURN 1; END $$",
        tripwire.display()
    )
}

/// A trigger, a rule and a policy on the tracking table, each calling the
/// payload: Prisma's deploy, or anyone writing there, would run it.
fn pg_on_tracking() -> Vec<String> {
    vec![
        "CREATE FUNCTION hostile_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         PERFORM hostile_run(); RETURN NEW; END $$"
            .into(),
        format!(
            "CREATE TRIGGER hostile_on_insert BEFORE INSERT OR UPDATE ON {TRACKING} \
             FOR EACH ROW EXECUTE FUNCTION hostile_trigger()"
        ),
        format!("CREATE RULE hostile_rule AS ON DELETE TO {TRACKING} DO ALSO SELECT hostile_run()"),
        format!("CREATE POLICY hostile_policy ON {TRACKING} USING (hostile_run() = 1)"),
    ]
}

/// A function and an operator named like built-ins, for built-in argument
/// types: `lower(x::varchar)` and `varchar = varchar` anywhere in the
/// database would pick them over `pg_catalog`'s, and run the payload.
fn pg_shadowing() -> Vec<String> {
    vec![
        "CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE plpgsql AS $$ BEGIN \
         PERFORM hostile_run(); RETURN pg_catalog.lower($1::text); END $$"
            .into(),
        "CREATE FUNCTION hostile_eq(varchar, varchar) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN \
         PERFORM hostile_run(); RETURN $1::text OPERATOR(pg_catalog.=) $2::text; END $$"
            .into(),
        "CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = hostile_eq)"
            .into(),
    ]
}

/// Tables whose column default and generated column call the payload: any
/// later insert runs it.
fn pg_defaults() -> Vec<String> {
    vec![
        "CREATE TABLE hostile_defaults (id integer, planted integer DEFAULT hostile_run())".into(),
        "CREATE FUNCTION hostile_gen(integer) RETURNS integer IMMUTABLE LANGUAGE plpgsql AS $$ \
         BEGIN PERFORM hostile_run(); RETURN $1; END $$"
            .into(),
        "CREATE TABLE hostile_generated (id integer, \
         planted integer GENERATED ALWAYS AS (hostile_gen(id)) STORED)"
            .into(),
    ]
}

/// A view reading every role's password hash with its owner's rights,
/// open to everyone: harmless only while its owner cannot read them.
fn pg_password_view() -> Vec<String> {
    vec![
        "CREATE VIEW hostile_roles AS SELECT rolname, rolpassword FROM pg_catalog.pg_authid".into(),
        "GRANT SELECT ON hostile_roles TO PUBLIC".into(),
    ]
}

/// A table for loot and a trigger on the tracking table filling it (with
/// the account it runs as, on MySQL).
fn loot_trigger(server: Server) -> Vec<String> {
    let trigger = match server {
        Server::Sqlite => format!(
            "CREATE TRIGGER hostile_on_insert AFTER INSERT ON {TRACKING} \
             BEGIN INSERT INTO hostile_loot VALUES (NEW.name); END"
        ),
        _ => format!(
            "CREATE TRIGGER hostile_on_insert BEFORE INSERT ON {TRACKING} \
             FOR EACH ROW INSERT INTO hostile_loot VALUES (CURRENT_USER())"
        ),
    };
    vec!["CREATE TABLE hostile_loot (who TEXT)".into(), trigger]
}

/// A view and (MySQL) a definer procedure, each running with its definer's
/// rights for whoever uses it.
fn definer_objects(server: Server) -> Vec<String> {
    let mut objects = vec![format!(
        "CREATE VIEW hostile_view AS SELECT name FROM {TRACKING}"
    )];
    if server == Server::Mysql {
        objects.push(
            "CREATE PROCEDURE hostile_proc() SQL SECURITY DEFINER \
             INSERT INTO hostile_loot VALUES (CURRENT_USER())"
                .into(),
        );
    }
    objects
}

/// `init` with `planted` in `attack-init.sql` fails at step 13, naming each
/// of `named`, and leaves no database, owner role or account, and no
/// command run.
fn init_is_refused(server: Server, planted: &[String], named: &[&str], tripwire: &Tripwire) {
    let p = Planted::new(server);
    p.plant("attack-init.sql", planted);
    let run = p.init();
    assert_refused(&run, Some(13), named);
    assert!(!p.target.exists(), "{server:?}: the database is gone");
    if server != Server::Sqlite {
        assert!(
            accounts(server, &p.owner()).is_empty(),
            "{server:?}: the owner {} went with the database",
            p.owner()
        );
    }
    tripwire.assert_untouched(&format!("{server:?} init"));
}

#[test]
fn a_handler_planting_code_in_init_fails_and_leaves_nothing_that_runs() {
    let tripwire = Tripwire::new();
    let everything: Vec<String> = std::iter::once(pg_payload(&tripwire.file()))
        .chain(pg_on_tracking())
        .chain(pg_shadowing())
        .chain(pg_defaults())
        .chain(pg_password_view())
        .collect();
    init_is_refused(
        Server::Postgres,
        &everything,
        &[
            "hostile_run",
            "hostile_trigger",
            "hostile_on_insert",
            "hostile_rule",
            "hostile_policy",
            "lower",
            "hostile_eq",
            "operator",
            "hostile_defaults",
            "hostile_gen",
            "hostile_generated",
            "hostile_roles",
        ],
        &tripwire,
    );
    // Nothing that runs code at all, only rights: refused on its own.
    init_is_refused(
        Server::Postgres,
        &pg_password_view(),
        &["hostile_roles"],
        &tripwire,
    );
    for server in [Server::Mysql, Server::Sqlite] {
        let planted = [loot_trigger(server), definer_objects(server)].concat();
        let named: &[&str] = match server {
            Server::Mysql => &["hostile_on_insert", "hostile_view", "hostile_proc"],
            _ => &["hostile_on_insert", "hostile_view"],
        };
        init_is_refused(server, &planted, named, &tripwire);
    }
}

/// Triggers, rules and policies on the tracking table, from the catalog.
fn attached_to_tracking(target: &Target) -> Vec<String> {
    let sql = match target.server {
        Server::Postgres => format!(
            "SELECT 'trigger ' || tgname FROM pg_trigger \
             WHERE tgrelid = '{TRACKING}'::regclass AND NOT tgisinternal \
             UNION ALL SELECT 'rule ' || rulename FROM pg_rules WHERE tablename = '{TRACKING}' \
             UNION ALL SELECT 'policy ' || policyname FROM pg_policies WHERE tablename = '{TRACKING}'"
        ),
        Server::Mysql => format!(
            "SELECT trigger_name FROM information_schema.triggers \
             WHERE trigger_schema = DATABASE() AND event_object_table = '{TRACKING}'"
        ),
        Server::Sqlite => format!(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '{TRACKING}'"
        ),
    };
    target.query(&sql)
}

/// Writes to the tracking table as the superuser/root, as Prisma's own CLI
/// or an administrator would: whatever is attached there would run now.
fn write_to_tracking(target: &Target) {
    for statement in [
        format!("INSERT INTO {TRACKING} (name, applied_at) VALUES ('by_hand', 'now')"),
        format!("UPDATE {TRACKING} SET applied_at = 'later' WHERE name = 'by_hand'"),
        format!("DELETE FROM {TRACKING} WHERE name = 'by_hand'"),
    ] {
        target.query(&statement);
    }
}

/// What the loot table holds, if the refused run left it (it is a plain
/// table, which a run may keep).
fn loot(target: &Target) -> Vec<String> {
    let listed = match target.server {
        Server::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'hostile_loot'"
        }
        _ => {
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = 'hostile_loot'"
        }
    };
    if target.query(listed).is_empty() {
        return Vec::new();
    }
    target.query("SELECT who FROM hostile_loot")
}

/// `migrate` of a new `migration` (a table named after it), with `planted`
/// in `attack-migrate.sql` (run on the handler's own session once the
/// migration is recorded): the database refuses it, since that session may
/// only keep the tracking table's rows, while the migration's own script,
/// which the host runs, creates its table.
fn migrate_is_stopped(p: &Planted, migration: &str, planted: &[String]) {
    let (_, table) = migration.split_once('_').unwrap();
    // IF NOT EXISTS: whether a refused run's migration stays applied is not
    // what is tested here.
    p.project.write_migration(
        migration,
        &format!("CREATE TABLE IF NOT EXISTS {table} (id INT);\n"),
    );
    p.plant("attack-migrate.sql", planted);
    let report = p.migrate().assert_success();
    let result = &report["result"];
    assert_eq!(result["handler_session"]["rows_of"], TRACKING, "{report}");
    let stopped = result["handler_sql"]["denied"].as_u64().unwrap()
        + result["handler_sql"]["refused"].as_u64().unwrap();
    assert!(
        stopped >= 1,
        "the database refused the handler's own statements: {report}"
    );
    assert_eq!(
        result["applied"],
        serde_json::json!([migration]),
        "{report}"
    );
    assert!(lists(&report, "table", table), "{report}");
}

/// On PostgreSQL a function and an operator shadowing built-ins are
/// refused on `migrate` too, whoever calls them later.
fn shadowing_is_refused_on_migrate(p: &Planted, tripwire: &Tripwire) {
    let planted: Vec<String> = std::iter::once(pg_payload(&tripwire.file()))
        .chain(pg_shadowing())
        .collect();
    migrate_is_stopped(p, "20260102000000_two", &planted);
    assert_eq!(
        p.target.query(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = 'public' AND p.proname = 'lower' \
             UNION ALL SELECT o.oid::regoperator::text FROM pg_operator o \
             JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE n.nspname = 'public' AND o.oprname = '='"
        ),
        Vec::<String>::new(),
        "the shadowing function and operator are gone"
    );
    // The superuser's calls reach the built-ins.
    assert_eq!(
        p.target
            .query("SELECT lower('X'::varchar), 'a'::varchar = 'a'::varchar"),
        ["x|t"]
    );
    tripwire.assert_untouched("a call of lower and =");
}

#[test]
fn a_handler_planting_code_during_migrate_is_stopped() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let tripwire = Tripwire::new();
        let p = Planted::new(server);
        p.init().assert_success();
        let planted: Vec<String> = match server {
            Server::Postgres => std::iter::once(pg_payload(&tripwire.file()))
                .chain(pg_on_tracking())
                .collect(),
            _ => loot_trigger(server),
        };
        migrate_is_stopped(&p, "20260101000000_one", &planted);

        assert_eq!(
            attached_to_tracking(&p.target),
            Vec::<String>::new(),
            "{server:?}"
        );
        write_to_tracking(&p.target);
        tripwire.assert_untouched(&format!("{server:?}: a write to the tracking table"));
        match server {
            Server::Postgres => shadowing_is_refused_on_migrate(&p, &tripwire),
            _ => assert_eq!(loot(&p.target), Vec::<String>::new(), "{server:?}"),
        }
    }
}

/// A handler that names one tracking table to `tracking-table-for` and
/// another to `read-state`, and asks for the host to write a migration's
/// rows (`bookkeeping`) hoping they land in the second, is refused before
/// anything is applied: the table of the handler's choosing keeps its rows.
#[test]
fn a_handler_cannot_steer_the_hosts_bookkeeping_into_another_table() {
    for server in [Server::Postgres, Server::Sqlite] {
        let p = Planted::new(server);
        p.init().assert_success();
        p.target
            .query("CREATE TABLE accounts (id INTEGER PRIMARY KEY, role VARCHAR(20))");
        p.target
            .query("INSERT INTO accounts (id, role) VALUES (1, 'user')");
        std::fs::write(
            p.project.migrations().join("attack-claimed-table"),
            "accounts",
        )
        .unwrap();
        p.project
            .write_migration("20260101000000_one", "CREATE TABLE one (id INTEGER);\n");
        let run = p.migrate();
        let report = assert_refused(&run, None, &["accounts"]);
        assert!(
            report["cause"]
                .as_str()
                .unwrap_or_default()
                .contains("tracking-table-for"),
            "{server:?}: {report}"
        );
        assert_eq!(
            p.target.query("SELECT role FROM accounts WHERE id = 1"),
            ["user"],
            "{server:?}"
        );
        let one = match server {
            Server::Sqlite => "SELECT count(*) FROM sqlite_master WHERE name = 'one'",
            _ => "SELECT count(*) FROM pg_tables WHERE tablename = 'one'",
        };
        assert_eq!(p.target.query(one), ["0"], "{server:?}");
    }
}

/// A tracking table may name its schema on PostgreSQL (Drizzle's
/// `drizzle.__drizzle_migrations`), never one of the server's own: the
/// host's superuser grants the handler's session that table's rows, and
/// `pg_authid` holds every role's password.
#[test]
fn a_handler_cannot_name_a_system_table_as_its_tracking_table() {
    let p = Planted::new(Server::Postgres);
    p.init().assert_success();
    let acl = "SELECT coalesce(relacl::text, 'default') FROM pg_class \
               WHERE oid IN ('pg_catalog.pg_authid'::regclass, 'information_schema.sql_features'::regclass) \
               ORDER BY oid";
    let before = p.target.query(acl);
    p.project
        .write_migration("20260101000000_one", "CREATE TABLE one (id INTEGER);\n");
    for system in ["pg_catalog.pg_authid", "information_schema.sql_features"] {
        p.project
            .update_config(|config| config["migrations"]["table"] = system.into());
        let run = p.migrate();
        assert_eq!(run.code, 1, "{system}: {}\n{}", run.stdout, run.stderr);
        let report = run.json();
        assert!(
            report["cause"]
                .as_str()
                .unwrap_or_default()
                .contains("one of the server's own schemas"),
            "{system}: {report}"
        );
    }
    assert_eq!(
        p.target.query(acl),
        before,
        "a system table's grants changed"
    );
    assert_eq!(
        p.target
            .query("SELECT count(*) FROM pg_tables WHERE tablename = 'one'"),
        ["0"]
    );
}

/// Which roles own the relations and routines of the database's `public`
/// schema.
fn pg_owners(target: &Target) -> Vec<String> {
    target.query(
        "SELECT r.rolname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_roles r ON r.oid = c.relowner WHERE n.nspname = 'public' \
         UNION SELECT r.rolname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         JOIN pg_roles r ON r.oid = p.proowner WHERE n.nspname = 'public' ORDER BY 1",
    )
}

/// The owner role of a PostgreSQL database: it cannot log in, has no
/// attribute beyond a plain role's and is a member of no role, so what it
/// owns runs with no right outside the database.
fn assert_pg_owner_role(owner: &str) {
    assert_eq!(
        server_query(
            Server::Postgres,
            &format!(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls \
                 FROM pg_roles WHERE rolname = '{owner}'"
            )
        ),
        ["f|f|f|f|f|f"],
        "{owner}"
    );
    assert_eq!(
        server_query(
            Server::Postgres,
            &format!(
                "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member \
                 WHERE r.rolname = '{owner}'"
            )
        ),
        ["0"],
        "{owner} is a member of no role"
    );
}

/// A login role an application might use: it may connect to the database,
/// use its `public` schema and call `routine`, nothing more. Dropped when
/// the test ends.
struct Reader {
    name: String,
    database: String,
}

impl Reader {
    fn new(target: &Target, routine: &str) -> Reader {
        let name = unique("leftover_reader");
        server_query(Server::Postgres, &format!("CREATE ROLE {name} LOGIN"));
        let reader = Reader {
            name,
            database: target.name.clone(),
        };
        server_query(
            Server::Postgres,
            &format!(
                "GRANT CONNECT ON DATABASE \"{}\" TO {}",
                reader.database, reader.name
            ),
        );
        target.query(&format!(
            "GRANT USAGE ON SCHEMA public TO {0}; GRANT EXECUTE ON FUNCTION {routine} TO {0}",
            reader.name
        ));
        reader
    }

    fn query(&self, sql: &str) -> Result<Vec<String>, String> {
        try_query(
            Server::Postgres,
            Some(&self.database),
            Some(&self.name),
            sql,
        )
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let drop_owned = format!("DROP OWNED BY {}", self.name);
        let _ = try_query(Server::Postgres, Some(&self.database), None, &drop_owned);
        let _ = try_query(Server::Postgres, None, None, &drop_owned);
        let drop_role = format!("DROP ROLE IF EXISTS {}", self.name);
        let _ = try_query(Server::Postgres, None, None, &drop_role);
    }
}

/// A migration's table, and a definer routine reading the server's
/// password hashes: with its owner's rights, which must not reach them.
const DEFINER_MIGRATION: &str = "CREATE TABLE widgets (id INTEGER PRIMARY KEY);\n\
CREATE FUNCTION read_authid() RETURNS bigint LANGUAGE sql SECURITY DEFINER \
AS 'SELECT count(*) FROM pg_catalog.pg_authid';\n";

#[test]
fn what_the_handler_creates_is_owned_by_the_databases_owner_role() {
    let p = Planted::new(Server::Postgres);
    let owner = p.owner();
    let init = p.init().assert_success();
    assert_eq!(init["result"]["handler_session"]["owner"], owner, "{init}");
    assert!(lists(&init, "table", TRACKING), "{init}");

    p.project
        .write_migration("20260101000000_definer", DEFINER_MIGRATION);
    let migrated = p.migrate().assert_success();
    assert_eq!(
        migrated["result"]["handler_session"]["owner"], owner,
        "{migrated}"
    );
    assert!(lists(&migrated, "table", "widgets"), "{migrated}");
    assert!(lists(&migrated, "function", "read_authid"), "{migrated}");

    // Everything the handler's accounts made, in both runs, is the owner
    // role's; the migration's definer routine stays one.
    assert_eq!(pg_owners(&p.target), [owner.as_str()]);
    assert_eq!(
        p.target
            .query("SELECT prosecdef FROM pg_proc WHERE proname = 'read_authid'"),
        ["t"]
    );
    assert_pg_owner_role(&owner);

    // An application's account reaches the hashes neither directly nor
    // through the definer routine, which runs as the owner role.
    let reader = Reader::new(&p.target, "read_authid()");
    assert_eq!(reader.query("SELECT 1"), Ok(vec!["1".to_owned()]));
    for sql in [
        "SELECT read_authid()",
        "SELECT count(*) FROM pg_catalog.pg_authid",
    ] {
        let refused = reader.query(sql).expect_err(sql);
        assert!(
            refused.contains("permission denied for table pg_authid"),
            "{sql}: {refused}"
        );
    }
}

/// A migration as an application ships it: a trigger filling an audit
/// table, a view, and a definer routine counting rows.
fn audited_migration(server: Server) -> &'static str {
    match server {
        Server::Postgres => {
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\n\
             CREATE TABLE audit (id INTEGER);\n\
             CREATE FUNCTION audit_t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             INSERT INTO audit VALUES (NEW.id); RETURN NEW; END $$;\n\
             CREATE TRIGGER t_audit BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION audit_t();\n\
             CREATE VIEW t_view AS SELECT id, n FROM t;\n\
             CREATE FUNCTION t_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER \
             AS 'SELECT count(*) FROM t';\n"
        }
        _ => {
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\n\
             CREATE TABLE audit (id INTEGER);\n\
             CREATE TRIGGER t_audit BEFORE INSERT ON t FOR EACH ROW INSERT INTO audit VALUES (NEW.id);\n\
             CREATE VIEW t_view AS SELECT id, n FROM t;\n\
             CREATE PROCEDURE t_count() SQL SECURITY DEFINER SELECT COUNT(*) FROM t;\n"
        }
    }
}

/// The MySQL owner account of `database`: it exists once, is locked
/// between runs, and holds privileges on that database only.
fn assert_mysql_owner_account(owner: &str, database: &str) {
    let found = accounts(Server::Mysql, owner);
    assert_eq!(found.len(), 1, "{found:?}");
    let (user, host) = found[0].split_once('@').unwrap();
    let account = format!("'{user}'@'{host}'");
    let created = server_query(Server::Mysql, &format!("SHOW CREATE USER {account}"));
    assert!(
        created.concat().contains("ACCOUNT LOCK"),
        "{account} is locked between runs"
    );
    for grant in server_query(Server::Mysql, &format!("SHOW GRANTS FOR {account}")) {
        // SHOW GRANTS escapes the name's `_` as `\_`.
        let plain = grant.replace('\\', "");
        assert!(
            plain.starts_with("GRANT USAGE ON *.*")
                || plain.contains(&format!("ON `{database}`.*")),
            "{account}: {grant}"
        );
    }
}

/// After `faber-db migrate`, the trigger, view and definer routine work for
/// the superuser/root, and belong to the database's owner.
fn a_legitimate_migration_keeps_working(server: Server) {
    let m = Migrating::new(server, "dev");
    let owned = Owned::new(&m.target);
    let owner = owned.owner();
    m.write("20990101000000_audited", audited_migration(server));
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    let routine = match server {
        Server::Postgres => "function",
        _ => "procedure",
    };
    for (kind, name) in [
        ("table", "t"),
        ("table", "audit"),
        ("trigger", "t_audit"),
        ("view", "t_view"),
        (routine, "t_count"),
    ] {
        assert!(lists(&report, kind, name), "{kind} {name}: {report}");
    }

    m.target.query("INSERT INTO t (id, n) VALUES (1, 2)");
    assert_eq!(
        m.target.query("SELECT COUNT(*) FROM audit"),
        ["1"],
        "{server:?}"
    );
    assert_eq!(
        m.target.query("SELECT COUNT(*) FROM t_view"),
        ["1"],
        "{server:?}"
    );
    let session = &report["result"]["handler_session"];
    match server {
        Server::Postgres => {
            assert_eq!(m.target.query("SELECT t_count()"), ["1"]);
            assert_eq!(
                m.target
                    .query("SELECT prosecdef FROM pg_proc WHERE proname = 't_count'"),
                ["t"]
            );
            assert_eq!(session["owner"], owner, "{report}");
            assert_eq!(pg_owners(&m.target), [owner.as_str()]);
            assert_pg_owner_role(&owner);
            prisma_alters_the_table_after_faber_db(&m);
        }
        _ => {
            assert_eq!(m.target.query("CALL t_count()"), ["1"]);
            // The migration ran as the database's owner account; the
            // handler's own session, kept to the tracking table's rows, as
            // an account of its own.
            assert_eq!(session["kind"], "database-account", "{report}");
            assert_eq!(session["owner"], owner, "{report}");
            assert_eq!(session["rows_of"], "_prisma_migrations", "{report}");
            let definers = m.target.query(
                "SELECT DEFINER FROM information_schema.triggers \
                 WHERE trigger_schema = DATABASE() AND trigger_name = 't_audit' \
                 UNION ALL SELECT DEFINER FROM information_schema.views \
                 WHERE table_schema = DATABASE() AND table_name = 't_view' \
                 UNION ALL SELECT CONCAT(DEFINER, ' ', SECURITY_TYPE) FROM information_schema.routines \
                 WHERE routine_schema = DATABASE() AND routine_name = 't_count'",
            );
            assert_eq!(definers.len(), 3, "{definers:?}");
            for definer in &definers {
                assert!(definer.starts_with(&format!("{owner}@")), "{definers:?}");
            }
            assert!(definers[2].ends_with(" DEFINER"), "{definers:?}");
            assert_mysql_owner_account(&owner, &m.target.name);
        }
    }
    // The migration's trigger, view and routine are the project's own: a
    // later run reads past them and goes on.
    m.write(
        "20990103000000_more",
        "CREATE TABLE more_rows (id INTEGER);\n",
    );
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"]
            .as_array()
            .unwrap()
            .last()
            .unwrap(),
        "20990103000000_more"
    );
}

/// Prisma's own CLI, on the project's URL, applies a later migration that
/// alters a table faber-db's handler made, and the trigger still fires.
fn prisma_alters_the_table_after_faber_db(m: &Migrating) {
    configure_prisma(&m.project, &m.target, "");
    m.write(
        "20990102000000_note",
        "ALTER TABLE t ADD COLUMN note TEXT;\n",
    );
    let (ok, output) = prisma(&m.project, &["migrate", "deploy"]);
    assert!(ok, "prisma migrate deploy:\n{output}");
    assert!(
        m.target.columns("t").iter().any(|c| c.starts_with("note|")),
        "{:?}",
        m.target.columns("t")
    );
    m.target
        .query("INSERT INTO t (id, n, note) VALUES (2, 3, 'after prisma')");
    assert_eq!(m.target.query("SELECT COUNT(*) FROM audit"), ["2"]);
}

#[test]
fn a_legitimate_migration_with_trigger_view_and_definer_keeps_working() {
    for server in [Server::Postgres, Server::Mysql] {
        a_legitimate_migration_keeps_working(server);
    }
}

/// Functions and an operator made in the database outside faber-db (by
/// hand, or a tool run before it), each named like a built-in that the
/// host's own statements call (granting a reading account, lending
/// objects, comparing names) and taking argument types those calls match
/// better than the built-in's: on a session that could see them, the
/// superuser would run the payload.
fn pg_host_bait() -> Vec<String> {
    let payload = "BEGIN PERFORM hostile_run(); RETURN true; END";
    vec![
        format!(
            "CREATE FUNCTION public.has_database_privilege(text, name, text) RETURNS boolean \
             LANGUAGE plpgsql AS $${payload}$$"
        ),
        format!(
            "CREATE FUNCTION public.has_schema_privilege(text, oid, varchar) RETURNS boolean \
             LANGUAGE plpgsql AS $${payload}$$"
        ),
        "CREATE FUNCTION public.format(text, name, text) RETURNS text LANGUAGE plpgsql \
         AS $$ BEGIN PERFORM hostile_run(); RETURN pg_catalog.format($1, $2, $3); END $$"
            .into(),
        format!(
            "CREATE FUNCTION hostile_name_eq(name, varchar) RETURNS boolean LANGUAGE plpgsql \
             AS $${payload}$$"
        ),
        "CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = varchar, FUNCTION = hostile_name_eq)"
            .into(),
    ]
}

/// The host's own sessions in a database resolve names in `pg_catalog`
/// only: with functions and an operator someone else left there, named
/// like built-ins the host calls, `status` reads the database and
/// `migrate` refuses to go on (naming them, leaving them: faber-db did not
/// make them), and neither ever runs them.
#[test]
fn the_hosts_own_session_never_calls_a_shadowing_function() {
    let tripwire = Tripwire::new();
    let m = Migrating::new(Server::Postgres, "dev");
    let _owned = Owned::new(&m.target);
    // A schema of the connection's user, so that lending objects to the
    // handler's account formats a statement for it.
    m.target.query("CREATE SCHEMA app_data");
    let planted: Vec<String> = std::iter::once(pg_payload(&tripwire.file()))
        .chain(pg_host_bait())
        .collect();
    for statement in &planted {
        m.target.query(statement);
    }

    let status = m.run(&["status", "dev", "--json"]);
    assert_eq!(status.code, 0, "{}", status.stdout);
    tripwire.assert_untouched("status");

    m.write("20990101000000_t", "CREATE TABLE t (id INTEGER);\n");
    let run = m.run(&["migrate", "dev", "--json"]);
    let report = assert_refused(&run, None, &["public.format(text,name,text)", "operator"]);
    assert!(
        report["recovery"]["suggestions"]
            .to_string()
            .contains("DROP ROUTINE IF EXISTS public.format(text,name,text)"),
        "{report}"
    );
    tripwire.assert_untouched("migrate");
    assert_eq!(
        m.target.query(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = 'public' AND p.proname IN ('format', 'has_database_privilege')"
        ),
        ["2"],
        "what faber-db did not make stays"
    );
}

/// Files a handler writes are the handler's: every later run would apply
/// them as the project's own migrations. A baseline holding statements of
/// the handler's own fails `init` (its file and database removed), and a
/// migration made from the user's SQL that holds more is refused and
/// removed; made from exactly the user's SQL, it is kept.
#[test]
fn a_migration_a_handler_writes_holds_only_what_it_was_given() {
    let p = Planted::new(Server::Sqlite);
    let folder = p.project.migrations();
    let baseline = folder.join("00000000000000_baseline");
    p.plant(
        "baseline-template.sql",
        &["-- baseline\nCREATE TABLE hostile_seed AS SELECT 1 AS x;".into()],
    );
    let report = assert_refused(
        &p.init(),
        Some(13),
        &["00000000000000_baseline/migration.sql"],
    );
    assert!(
        report["cause"]
            .to_string()
            .contains("CREATE TABLE hostile_seed"),
        "{report}"
    );
    assert!(!baseline.exists(), "the baseline is gone");
    assert!(!p.target.exists(), "the database is gone");

    std::fs::write(folder.join("baseline-template.sql"), "-- nothing to run\n").unwrap();
    let report = p.init().assert_success();
    assert_eq!(
        report["result"]["handler_files"],
        serde_json::json!(["00000000000000_baseline/migration.sql"])
    );

    let sql = folder.join("given.sql");
    std::fs::write(&sql, "CREATE TABLE wanted (id INTEGER);\n").unwrap();
    let generate = |name: &str| {
        p.run(&[
            "generate-migration",
            name,
            "--sql",
            sql.to_str().unwrap(),
            "--json",
        ])
    };
    p.plant(
        "create-extra.sql",
        &["DROP TABLE hostile_migrations;".into()],
    );
    let refused = generate("sneaky");
    assert_refused(&refused, None, &["DROP TABLE hostile_migrations"]);
    assert!(
        !folder
            .join("20990101000000_sneaky")
            .join("migration.sql")
            .exists()
    );

    std::fs::remove_file(folder.join("create-extra.sql")).unwrap();
    generate("honest").assert_success();
    assert!(
        folder
            .join("20990101000000_honest")
            .join("migration.sql")
            .is_file()
    );
}
