//! faber-db and Prisma's own CLI on one database, in either order: each
//! reads what the other wrote as its own (PostgreSQL and SQLite, the
//! providers Prisma's WebAssembly engine covers offline), and runs of both
//! against one database apply each migration once.

use crate::migrate::Migrating;
use crate::prisma_cli::{assert_prisma_up_to_date, configure_prisma, prisma, prisma_command};
use crate::support::Server;

const TABLES: [(&str, &str); 3] = [
    (
        "20990101000000_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
    ),
    (
        "20990102000000_posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));\n",
    ),
    (
        "20990103000000_index",
        "CREATE INDEX posts_user_idx ON posts(user_id);\n",
    ),
];

fn with_folder(server: Server) -> Migrating {
    let m = Migrating::new(server, "dev");
    for (name, sql) in TABLES {
        m.write(name, sql);
    }
    configure_prisma(&m.project, &m.target, "");
    m
}

fn prisma_calls_faber_dbs_work_up_to_date(server: Server) {
    let m = with_folder(server);
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["result"]["applied"].as_array().unwrap().len(), 3);
    assert_prisma_up_to_date(&m.project);
}

#[test]
fn prisma_calls_a_postgresql_database_migrated_by_faber_db_up_to_date() {
    prisma_calls_faber_dbs_work_up_to_date(Server::Postgres);
}

#[test]
fn prisma_calls_a_sqlite_database_migrated_by_faber_db_up_to_date() {
    prisma_calls_faber_dbs_work_up_to_date(Server::Sqlite);
}

#[test]
fn prismas_schema_parameter_places_tracking_and_migrations_in_that_schema() {
    let m = Migrating::with_query(Server::Postgres, "dev", "?schema=app");
    for (name, sql) in TABLES {
        m.write(name, sql);
    }
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    let placed = m.target.query(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_name IN ('_prisma_migrations', 'users', 'posts') ORDER BY 1",
    );
    assert_eq!(placed, ["app._prisma_migrations", "app.posts", "app.users"]);
    configure_prisma(&m.project, &m.target, "?schema=app");
    assert_prisma_up_to_date(&m.project);
}

fn faber_db_calls_prismas_work_up_to_date(server: Server) {
    let m = with_folder(server);
    let (ok, output) = prisma(&m.project, &["migrate", "deploy"]);
    assert!(ok, "prisma migrate deploy:\n{output}");
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"],
        serde_json::json!([]),
        "{report}"
    );
    assert_eq!(
        report["result"]["pending"],
        serde_json::json!([]),
        "{report}"
    );
    assert_eq!(
        report["result"]["modified"],
        serde_json::json!([]),
        "{report}"
    );
    assert!(
        report["message"].as_str().unwrap().contains("up to date"),
        "{report}"
    );
}

#[test]
fn faber_db_calls_a_sqlite_database_deployed_by_prisma_up_to_date() {
    faber_db_calls_prismas_work_up_to_date(Server::Sqlite);
}

#[test]
fn faber_db_calls_a_postgresql_database_deployed_by_prisma_up_to_date() {
    faber_db_calls_prismas_work_up_to_date(Server::Postgres);
}

fn a_failure_is_the_same_failure_to_both(server: Server) {
    let m = with_folder(server);
    m.write("20990104000000_broken", "SELECT * FROM no_such_table;\n");
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["result"]["failed"], "20990104000000_broken");
    let (ok, output) = prisma(&m.project, &["migrate", "status"]);
    assert!(!ok, "{output}");
    assert!(
        output.contains("20990104000000_broken") && output.contains("failed"),
        "{output}"
    );
    let (ok, output) = prisma(&m.project, &["migrate", "deploy"]);
    assert!(
        !ok && output.contains("P3009"),
        "prisma refuses to deploy after it:\n{output}"
    );

    // And the other way round: Prisma's failure stops faber-db.
    let other = with_folder(server);
    other.write("20990104000000_broken", "SELECT * FROM no_such_table;\n");
    let (ok, output) = prisma(&other.project, &["migrate", "deploy"]);
    assert!(!ok, "{output}");
    let (code, report) = other.migrate(&[]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("20990104000000_broken failed earlier"),
        "{report}"
    );
}

#[test]
fn a_failure_on_postgresql_is_the_same_failure_to_both() {
    a_failure_is_the_same_failure_to_both(Server::Postgres);
}

#[test]
fn a_failure_on_sqlite_is_the_same_failure_to_both() {
    a_failure_is_the_same_failure_to_both(Server::Sqlite);
}

/// A project with twelve migrations that each take a moment, so that runs
/// overlap, set up for Prisma's CLI too; and their names.
fn slow_folder(server: Server) -> (Migrating, Vec<String>) {
    let m = Migrating::new(server, "dev");
    let names: Vec<String> = (0..12).map(|i| format!("2099010100{i:04}_step")).collect();
    for (i, name) in names.iter().enumerate() {
        let sql = match server {
            Server::Postgres => {
                format!("CREATE TABLE step_{i} (id INTEGER);\nSELECT pg_sleep(0.2);\n")
            }
            // A third of a second of counting; together longer than
            // Prisma's CLI takes to start.
            _ => format!(
                "CREATE TABLE step_{i} AS SELECT count(*) AS n FROM (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1500000) SELECT x FROM n);\n"
            ),
        };
        m.write(name, &sql);
    }
    configure_prisma(&m.project, &m.target, "");
    // Prisma's deploy keeps its PostgreSQL lock about 10 s longer than its
    // work (its engine's lock timer holds the process open).
    m.project
        .update_config(|config| config["migrations"]["lock_timeout_seconds"] = 60.into());
    (m, names)
}

/// `count` `faber-db migrate` runs, started at once.
fn start_runs(m: &Migrating, count: usize) -> Vec<std::process::Child> {
    (0..count)
        .map(|_| {
            m.project
                .command(&["migrate", "dev", "--json"])
                .env(m.variable, m.url())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect()
}

/// How many migrations the runs applied between them; each succeeded,
/// under `lock`.
fn applied_by(runs: Vec<std::process::Child>, lock: &str) -> usize {
    runs.into_iter()
        .map(|run| {
            let output = run.wait_with_output().unwrap();
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(report["status"], "success", "{report}");
            assert_eq!(report["result"]["lock"], lock);
            report["result"]["applied"].as_array().unwrap().len()
        })
        .sum()
}

/// What `prisma migrate deploy` said, and how many of `names` it applied.
fn deployed(deploy: std::process::Child, names: &[String]) -> (bool, String, usize) {
    let deploy = deploy.wait_with_output().unwrap();
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&deploy.stdout),
        String::from_utf8_lossy(&deploy.stderr)
    );
    let applied = match deploy.status.success() {
        true => names
            .iter()
            .filter(|name| said.contains(name.as_str()))
            .count(),
        false => 0,
    };
    (deploy.status.success(), said, applied)
}

/// Each of `names` has one finished row and its table, no row is left
/// unfinished, and Prisma's CLI calls the database up to date.
fn assert_each_applied_once(m: &Migrating, names: &[String]) {
    for name in names {
        let rows = m.target.query(&format!(
            "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '{name}' AND finished_at IS NOT NULL"
        ));
        assert_eq!(rows, ["1"], "{name} recorded exactly once");
    }
    let unfinished = m
        .target
        .query("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NULL");
    assert_eq!(unfinished, ["0"], "{:?}", m.rows());
    let steps = m
        .tables()
        .iter()
        .filter(|table| table.starts_with("step_"))
        .count();
    assert_eq!(steps, names.len());
    assert_prisma_up_to_date(&m.project);
}

/// faber-db's runs start while `prisma migrate deploy` holds Prisma's
/// advisory lock, wait for it, and together they apply each migration once.
#[test]
fn concurrent_runs_and_prismas_deploy_on_postgresql_apply_each_migration_once() {
    let (m, names) = slow_folder(Server::Postgres);
    let deploy = prisma_command(&m.project, &["migrate", "deploy"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    m.wait_for_lock("prisma migrate deploy");
    let applied = applied_by(start_runs(&m, 4), "pg_advisory_lock(72707369)");
    let (success, said, prisma_applied) = deployed(deploy, &names);
    assert!(success, "prisma migrate deploy:\n{said}");
    assert_eq!(
        applied + prisma_applied,
        names.len(),
        "together they applied each migration once (Prisma: {said})"
    );
    assert_each_applied_once(&m, &names);
}

/// On SQLite faber-db's runs hold the file from before their first read to
/// their end, as Prisma's native engine holds it. A `prisma migrate deploy`
/// arriving meanwhile cannot write: it reads what they recorded once the
/// file is free, or gives up on the busy file (the WebAssembly engine's
/// driver adapter never waits on it) without writing. Either way each
/// migration is applied once. (That adapter takes no lock of its own, so a
/// run started during its deploy could find a migration of it half
/// recorded: see the README.)
#[test]
fn concurrent_runs_and_prismas_deploy_on_sqlite_apply_each_migration_once() {
    let (m, names) = slow_folder(Server::Sqlite);
    let runs = start_runs(&m, 4);
    m.wait_for_lock("a faber-db run");
    let deploy = prisma_command(&m.project, &["migrate", "deploy"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let applied = applied_by(runs, "PRAGMA locking_mode=EXCLUSIVE");
    let (success, said, prisma_applied) = deployed(deploy, &names);
    assert!(
        success || said.contains("SocketTimeout") || said.contains("locked"),
        "prisma migrate deploy failed otherwise than on the busy file:\n{said}"
    );
    assert_eq!(
        applied + prisma_applied,
        names.len(),
        "together they applied each migration once (Prisma: {said})"
    );
    assert_each_applied_once(&m, &names);
}

/// A schema as a project keeps it, its URL from the environment.
const SQLITE_SCHEMA: &str = "generator client {\n  provider   = \"prisma-client-js\"\n  engineType = \"client\"\n}\n\n\
     datasource db {\n  provider = \"sqlite\"\n  url      = env(\"DEV_DATABASE_URL\")\n}\n";

/// `file:./dev.db` names the file Prisma resolves it to: for Prisma 6,
/// relative to the directory of the schema its CLI finds (its CLI starts the
/// schema engine there), whichever way the project places the schema; for
/// Prisma 7 (its package installed, or its config's shape), relative to its
/// config file's folder.
#[test]
fn a_relative_sqlite_path_is_relative_to_prismas_schema() {
    // (layout, its files, where `file:./dev.db` lands)
    type Layout<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let layouts: [Layout; 8] = [
        (
            "default",
            &[("prisma/schema.prisma", SQLITE_SCHEMA)],
            "prisma",
        ),
        ("at the root", &[("schema.prisma", SQLITE_SCHEMA)], "."),
        (
            "named by package.json",
            &[
                (
                    "package.json",
                    r#"{"prisma": {"schema": "db/schema.prisma"}}"#,
                ),
                ("db/schema.prisma", SQLITE_SCHEMA),
            ],
            "db",
        ),
        (
            "named by prisma.config.ts",
            &[
                (
                    "prisma.config.ts",
                    "import { defineConfig } from \"prisma/config\";\nexport default defineConfig({ schema: \"config/schema.prisma\" });\n",
                ),
                ("config/schema.prisma", SQLITE_SCHEMA),
            ],
            "config",
        ),
        ("no schema yet", &[], "."),
        // Prisma 7 resolves it against its config file's folder.
        (
            "Prisma 7, as its `prisma init` writes it",
            &[
                (
                    "prisma.config.ts",
                    "import \"dotenv/config\";\nimport { defineConfig } from \"prisma/config\";\nexport default defineConfig({\n  schema: \"prisma/schema.prisma\",\n  migrations: { path: \"prisma/migrations\" },\n  datasource: { url: process.env[\"DATABASE_URL\"] },\n});\n",
                ),
                (
                    "prisma/schema.prisma",
                    "datasource db {\n  provider = \"sqlite\"\n}\n",
                ),
            ],
            ".",
        ),
        (
            "Prisma 7, by its installed package",
            &[
                (
                    "node_modules/prisma/package.json",
                    r#"{"name": "prisma", "version": "7.10.1"}"#,
                ),
                (
                    "prisma.config.ts",
                    "export default { schema: \"prisma/schema.prisma\" };\n",
                ),
                ("prisma/schema.prisma", SQLITE_SCHEMA),
            ],
            ".",
        ),
        (
            "Prisma 7, its config under .config",
            &[
                (
                    ".config/prisma7.ts",
                    "export default { schema: \"../prisma/schema.prisma\" };\n",
                ),
                ("prisma/schema.prisma", SQLITE_SCHEMA),
            ],
            ".config",
        ),
    ];
    for (layout, files, expected) in layouts {
        let project = crate::support::Project::new("sqlite");
        for (path, text) in files {
            let path = project.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        project
            .run(
                &["init", "dev", "--json"],
                &[("DEV_DATABASE_URL", "file:./dev.db")],
            )
            .assert_success();
        let databases: Vec<String> = crate::support::tree(project.path())
            .into_iter()
            .filter(|path| path.ends_with("dev.db"))
            .map(|path| {
                path.strip_prefix(project.path())
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        let expected = std::path::Path::new(expected).join("dev.db");
        assert_eq!(
            databases,
            [expected
                .strip_prefix(".")
                .unwrap_or(&expected)
                .display()
                .to_string()],
            "{layout}"
        );
    }
}

/// Prisma's own CLI, given the file the native engine would open for the
/// default layout's `file:./dev.db` (6.19's offline engine opens its
/// adapter's URL from the working directory), calls faber-db's work its own.
#[test]
fn prisma_calls_the_database_at_its_schemas_relative_path_up_to_date() {
    let m = with_folder(Server::Sqlite);
    let prisma_dir = m.project.path().join("prisma");
    std::fs::write(prisma_dir.join("schema.prisma"), SQLITE_SCHEMA).unwrap();
    std::fs::write(
        m.project.path().join("prisma.config.ts"),
        "import { defineConfig } from \"prisma/config\";\n\
         import { PrismaLibSQL } from \"@prisma/adapter-libsql\";\n\
         export default defineConfig({\n  experimental: { adapter: true },\n  engine: \"js\",\n  \
         schema: \"prisma/schema.prisma\",\n  migrations: { path: \"prisma/migrations\" },\n  \
         adapter: async () => new PrismaLibSQL({ url: \"file:./prisma/dev.db\" }),\n});\n",
    )
    .unwrap();
    for command in ["init", "migrate"] {
        m.project
            .run(
                &[command, "dev", "--json"],
                &[(m.variable, "file:./dev.db")],
            )
            .assert_success();
    }
    assert!(prisma_dir.join("dev.db").is_file());
    assert!(!m.project.path().join("dev.db").exists());
    let status = prisma_command(&m.project, &["migrate", "status"])
        .env(m.variable, "file:./dev.db")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success() && said.contains("Database schema is up to date!"),
        "{said}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
}
