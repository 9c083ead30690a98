//! Drizzle's own tools judge what handler-db-drizzle leaves: migrations
//! written by the real drizzle-kit, applied by faber-db, then by Drizzle's
//! migrator (which must find nothing to do), and the other way round; the
//! tracking rows must be those Drizzle writes when it applies the same
//! folder to a twin database. `bash tests/run.sh` installs drizzle-orm,
//! drizzle-kit and their drivers into target/drizzle-node.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{Project, Server, Target, node, node_install, unique};

fn drizzle_node() -> PathBuf {
    node_install(
        "FABER_DB_DRIZZLE_NODE",
        "drizzle-node",
        "drizzle-kit/bin.cjs",
        "drizzle-kit",
    )
}

/// The application's schema, first one table, then a second with an index.
fn schema(server: Server, with_posts: bool) -> String {
    let (core, table, id, int) = match server {
        Server::Postgres => (
            "pg-core",
            "pgTable",
            "serial(\"id\").primaryKey()",
            "integer",
        ),
        // drizzle-kit writes `serial` as `serial AUTO_INCREMENT`, which
        // MariaDB refuses; an auto-incremented int is what works on both.
        Server::Mysql => (
            "mysql-core",
            "mysqlTable",
            "int(\"id\").autoincrement().primaryKey()",
            "int",
        ),
        Server::Sqlite => (
            "sqlite-core",
            "sqliteTable",
            "integer(\"id\").primaryKey()",
            "integer",
        ),
    };
    let mut text = format!(
        "import {{ {table}, serial, text, {int}, index }} from \"drizzle-orm/{core}\";\n\
         export const users = {table}(\"users\", {{ id: {id}, name: text(\"name\").notNull() }});\n"
    );
    if server != Server::Postgres {
        text = text.replace("serial, ", "");
    }
    if with_posts {
        text.push_str(&format!(
            "export const posts = {table}(\"posts\", {{ id: {id}, userId: {int}(\"user_id\") }}, \
             (t) => [index(\"posts_user_idx\").on(t.userId)]);\n"
        ));
    }
    text
}

/// A Drizzle project: `drizzle.config.ts`, the schema, Drizzle's packages
/// and its migrator script.
fn drizzle_project(server: Server) -> Project {
    let project = Project::empty();
    let node_modules = drizzle_node().join("node_modules");
    std::os::unix::fs::symlink(node_modules, project.path().join("node_modules")).unwrap();
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/drizzle/migrate.mjs"),
        project.path().join("migrate.mjs"),
    )
    .unwrap();
    std::fs::write(
        project.path().join("drizzle.config.ts"),
        format!(
            "import {{ defineConfig }} from \"drizzle-kit\";\n\
             export default defineConfig({{\n  dialect: \"{}\",\n  schema: \"./schema.ts\",\n  \
             out: \"./drizzle\",\n  dbCredentials: {{ url: process.env.APP_DATABASE_URL! }},\n}});\n",
            server.provider()
        ),
    )
    .unwrap();
    project
}

/// `drizzle-kit generate` for the schema given, in the project.
fn generate(project: &Project, server: Server, with_posts: bool, name: &str) {
    std::fs::write(project.path().join("schema.ts"), schema(server, with_posts)).unwrap();
    node_ok(
        project,
        &[
            "node_modules/drizzle-kit/bin.cjs",
            "generate",
            "--name",
            name,
        ],
    );
}

fn node_ok(project: &Project, args: &[&str]) -> String {
    let (ok, printed) = node(project, args, &[]);
    assert!(ok, "node {args:?}:\n{printed}");
    printed
}

/// Drizzle's migrator applies the project's folder to `target`.
fn drizzle_migrates(project: &Project, target: &Target) {
    node_ok(
        project,
        &[
            "migrate.mjs",
            target.server.provider(),
            &target.url(),
            "./drizzle",
        ],
    );
}

/// Drizzle's rows, as its migrator reads them.
fn rows(target: &Target) -> Vec<String> {
    let table = match target.server {
        Server::Postgres => "drizzle.__drizzle_migrations",
        _ => "__drizzle_migrations",
    };
    target.query(&format!(
        "SELECT id, hash, created_at FROM {table} ORDER BY created_at"
    ))
}

fn faber_db(project: &Project, target: &Target, args: &[&str]) -> (i32, Value) {
    let run = project.run(args, &[("APP_DATABASE_URL", &target.url())]);
    (run.code, run.json())
}

fn journal_tags(project: &Project) -> Vec<String> {
    let journal: Value = serde_json::from_str(
        &std::fs::read_to_string(project.path().join("drizzle/meta/_journal.json")).unwrap(),
    )
    .unwrap();
    journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["tag"].as_str().unwrap().to_owned())
        .collect()
}

fn drizzle_and_faber_db_take_turns(server: Server) {
    let project = drizzle_project(server);
    generate(&project, server, false, "users");

    // `config init` reads the Drizzle project.
    let (code, report) = faber_db(
        &project,
        &Target::new(server, "unused", project.path()),
        &["config", "init", "--yes", "--json"],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["result"]["migration_tool"], "drizzle", "{report}");
    assert_eq!(report["result"]["provider"], server.provider(), "{report}");
    assert_eq!(
        report["result"]["migrations_directory"], "drizzle",
        "{report}"
    );
    let config = project.config();
    assert_eq!(
        config["environments"]["dev"]["connection_string_env"], "APP_DATABASE_URL",
        "{config}"
    );

    // Drizzle first, on a database that then falls behind the folder.
    let drizzle_first = Target::new(server, &unique("fdb_dz_first"), project.path());
    drizzle_first.create_as_faber_db_does();
    drizzle_migrates(&project, &drizzle_first);

    generate(&project, server, true, "posts");
    project.generate_migration(
        "seed users",
        "INSERT INTO users (name) VALUES ('seeded');\n",
    );
    let tags = journal_tags(&project);
    assert_eq!(tags.len(), 3, "{tags:?}");
    assert!(tags[2].starts_with("0002_seed_users"), "{tags:?}");
    // drizzle-kit reads the snapshot faber-db carried forward: no change.
    let said = node_ok(&project, &["node_modules/drizzle-kit/bin.cjs", "generate"]);
    assert!(said.contains("No schema changes"), "{said}");
    assert_eq!(journal_tags(&project), tags);

    // faber-db first: init, then migrate; Drizzle's migrator then has
    // nothing left to do.
    let faber_first = Target::new(server, &unique("fdb_dz_faber"), project.path());
    let (code, report) = faber_db(&project, &faber_first, &["init", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = faber_db(&project, &faber_first, &["migrate", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"],
        serde_json::json!(tags),
        "{report}"
    );
    let recorded = rows(&faber_first);
    drizzle_migrates(&project, &faber_first);
    assert_eq!(rows(&faber_first), recorded, "Drizzle applied more");
    assert_eq!(faber_first.query("SELECT name FROM users"), ["seeded"]);

    // A twin database, all Drizzle's: the same rows, the same table.
    let twin = Target::new(server, &unique("fdb_dz_twin"), project.path());
    twin.create_as_faber_db_does();
    drizzle_migrates(&project, &twin);
    assert_eq!(rows(&faber_first), rows(&twin));
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    let tracking = match server {
        Server::Postgres => "drizzle.__drizzle_migrations",
        _ => "__drizzle_migrations",
    };
    assert_eq!(faber_first.columns(tracking), twin.columns(tracking));
    assert_eq!(faber_first.columns("posts"), twin.columns("posts"));

    // Drizzle first: faber-db sees its row as applied and applies the rest.
    let (_, report) = faber_db(&project, &drizzle_first, &["status", "dev", "--json"]);
    let dev = &report["result"]["environments"][0];
    let states: Vec<(&str, &str)> = vec![
        (&tags[0], "applied"),
        (&tags[1], "pending"),
        (&tags[2], "pending"),
    ];
    for (tag, state) in states {
        assert_eq!(dev["migrations"][tag], state, "{report}");
    }
    let (code, report) = faber_db(&project, &drizzle_first, &["migrate", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"],
        serde_json::json!(tags[1..]),
        "{report}"
    );
    assert_eq!(rows(&drizzle_first), rows(&twin));
    // The schema the folder's migrations make, replayed by the handler
    // on a scratch database, is the one Drizzle left: no drift.
    let (code, report) = faber_db(
        &project,
        &drizzle_first,
        &["status", "dev", "--drift", "--json"],
    );
    assert_eq!(code, 0, "{report}");
    let dev = &report["result"]["environments"][0];
    assert_eq!(dev["state"], "up-to-date", "{report}");
    assert_eq!(dev["drift"]["status"], "none", "{report}");
}

#[test]
fn drizzle_and_faber_db_take_turns_on_postgresql() {
    drizzle_and_faber_db_take_turns(Server::Postgres);
}

#[test]
fn drizzle_and_faber_db_take_turns_on_mysql() {
    drizzle_and_faber_db_take_turns(Server::Mysql);
}

#[test]
fn drizzle_and_faber_db_take_turns_on_sqlite() {
    drizzle_and_faber_db_take_turns(Server::Sqlite);
}

/// A migration merged from a branch after a later one was applied: Drizzle's
/// migrator would skip it for good, so `migrate` stops and names it;
/// `resolve --applied` records it on the session kept to the tracking
/// table's rows (drawing its `SERIAL` id), after which Drizzle's migrator
/// has nothing to do; `--rolled-back` takes back only the last migration.
#[test]
fn a_migration_older_than_the_last_applied_is_named_and_resolved_as_drizzle_reads_it() {
    let server = Server::Postgres;
    let project = drizzle_project(server);
    generate(&project, server, false, "users");
    generate(&project, server, true, "posts");
    let target = Target::new(server, &unique("fdb_dz_late"), project.path());
    let env = |args: &[&str]| faber_db(&project, &target, args);
    let (code, report) = faber_db(&project, &target, &["config", "init", "--yes", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(env(&["init", "dev", "--json"]).0, 0);
    let (code, report) = env(&["migrate", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");

    // Generated between the two, merged after both were applied.
    let journal_path = project.path().join("drizzle/meta/_journal.json");
    let mut journal: Value =
        serde_json::from_str(&std::fs::read_to_string(&journal_path).unwrap()).unwrap();
    let first_when = journal["entries"][0]["when"].as_i64().unwrap();
    journal["entries"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "idx": 2, "version": "7", "when": first_when + 1, "tag": "0002_late", "breakpoints": true
        }));
    std::fs::write(
        &journal_path,
        serde_json::to_string_pretty(&journal).unwrap(),
    )
    .unwrap();
    std::fs::write(
        project.path().join("drizzle/0002_late.sql"),
        "CREATE TABLE \"late\" (\"id\" integer);",
    )
    .unwrap();

    let (code, report) = env(&["migrate", "dev", "--json"]);
    assert_eq!(code, 1, "{report}");
    let cause = report["cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("0002_late was generated before 0001_posts"),
        "{report}"
    );
    assert_eq!(
        target.query("SELECT count(*) FROM pg_tables WHERE tablename = 'late'"),
        ["0"]
    );

    let (code, report) = env(&["resolve", "dev", "--applied", "0002_late", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(rows(&target).len(), 3);
    let recorded = rows(&target);
    drizzle_migrates(&project, &target);
    assert_eq!(rows(&target), recorded, "Drizzle applied more");
    let (code, report) = env(&["status", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");

    let (code, report) = env(&["resolve", "dev", "--rolled-back", "0000_users", "--json"]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report["cause"]
            .as_str()
            .unwrap_or_default()
            .contains("not the last applied migration"),
        "{report}"
    );
    let (code, report) = env(&["resolve", "dev", "--rolled-back", "0001_posts", "--json"]);
    assert_eq!(code, 0, "{report}");
    let (_, report) = env(&["status", "dev", "--json"]);
    let dev = &report["result"]["environments"][0];
    assert_eq!(dev["migrations"]["0001_posts"], "pending", "{report}");
    assert_eq!(dev["migrations"]["0002_late"], "applied", "{report}");
}
