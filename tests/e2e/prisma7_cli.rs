//! Prisma 7.10's own CLI judges faber-db on projects laid out as `prisma
//! init` lays them out today, and faber-db judges Prisma 7's work: `prisma
//! migrate status` calls the database up to date after `faber-db init` and
//! `faber-db migrate`, and faber-db calls it up to date after `prisma
//! migrate deploy`.
//!
//! Prisma 7 spawns its native schema engine, which is downloaded at install
//! and cannot be here; `tests/prisma7/schema-engine.mjs` stands in for it,
//! running the same engine's WebAssembly build shipped in the `prisma`
//! package. `bash tests/run.sh` installs Prisma 7 into target/prisma7-node.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Project, Server, Target, node_install, unique};

fn prisma7_node() -> PathBuf {
    node_install(
        "FABER_DB_PRISMA7_NODE",
        "prisma7-node",
        "prisma/build/index.js",
        "Prisma 7",
    )
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where a project keeps its Prisma schema and migrations.
struct Layout {
    schema: &'static str,
    migrations: &'static str,
}

/// `prisma init`'s layout.
const PRISMA_INIT: Layout = Layout {
    schema: "prisma/schema.prisma",
    migrations: "prisma/migrations",
};

/// A config naming a schema and migrations folder of its own.
const ELSEWHERE: Layout = Layout {
    schema: "db/schema.prisma",
    migrations: "db/migrations",
};

/// A Prisma 7 project as `prisma init` writes it (its config at the root,
/// loading `.env` through dotenv; the URL only in the config), with
/// `DATABASE_URL` in `.env`, Prisma 7 installed, and faber-db's
/// configuration adopted from it by `config init`.
fn prisma7_project(server: Server, layout: &Layout) -> (Project, Target) {
    let project = Project::empty();
    let target = Target::new(server, &unique("fdb_p7"), project.path());
    let (provider, url) = match server {
        Server::Sqlite => ("sqlite", format!("file:./{}.db", target.name)),
        _ => ("postgresql", target.url()),
    };
    let write = |path: &str, text: String| {
        let path = project.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "prisma.config.ts",
        format!(
            "import \"dotenv/config\";\nimport {{ defineConfig }} from \"prisma/config\";\n\n\
             export default defineConfig({{\n  schema: \"{}\",\n  migrations: {{\n    path: \"{}\",\n  }},\n  \
             datasource: {{\n    url: process.env[\"DATABASE_URL\"],\n  }},\n}});\n",
            layout.schema, layout.migrations
        ),
    );
    write(
        layout.schema,
        format!(
            "generator client {{\n  provider = \"prisma-client\"\n  output   = \"../generated/prisma\"\n}}\n\n\
             datasource db {{\n  provider = \"{provider}\"\n}}\n"
        ),
    );
    write(".env", format!("DATABASE_URL=\"{url}\"\n"));
    std::os::unix::fs::symlink(
        prisma7_node().join("node_modules"),
        project.path().join("node_modules"),
    )
    .unwrap();
    let adopted = project
        .run(&["config", "init", "--yes", "--json"], &[])
        .assert_success();
    let found = &adopted["result"]["prisma_project"];
    assert_eq!(found["provider"], provider, "{adopted}");
    assert_eq!(
        found["migrations_directory"], layout.migrations,
        "{adopted}"
    );
    assert_eq!(found["url_variable"], "DATABASE_URL", "{adopted}");
    assert_eq!(found["major_version"], 7, "{adopted}");
    (project, target)
}

/// Prisma 7's CLI in `project`, through the stand-in engine.
fn prisma7(project: &Path, args: &[&str]) -> (bool, String) {
    let node = prisma7_node();
    let output = Command::new("node")
        .arg(node.join("node_modules/prisma/build/index.js"))
        .args(args)
        .current_dir(project)
        .env(
            "PRISMA_SCHEMA_ENGINE_BINARY",
            repository().join("tests/prisma7/schema-engine.mjs"),
        )
        .env("FABER_DB_PRISMA7_NODE", &node)
        .env("CHECKPOINT_DISABLE", "1")
        .env("PRISMA_HIDE_UPDATE_MESSAGE", "1")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// Prisma 7 can exit 0 with no output when its engine dies: only its words
/// count.
fn assert_prisma7_up_to_date(project: &Path) {
    let (ok, output) = prisma7(project, &["migrate", "status"]);
    assert!(
        ok && output.contains("Database schema is up to date!"),
        "prisma migrate status:\n{output}"
    );
}

/// A migration with a dollar-quoted body on PostgreSQL (sent whole, as
/// Prisma's engine sends it), plain tables on SQLite.
/// Writes `20990101000000_users`, a table (and on PostgreSQL, a `DO`
/// block), into the layout's migrations folder.
fn write_users_migration(project: &Project, layout: &Layout, server: Server) {
    let sql = match server {
        Server::Postgres => {
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n\
             DO $$ BEGIN INSERT INTO users VALUES (1, 'a@example.com'); END $$;\n"
        }
        _ => "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
    };
    let migration = project
        .path()
        .join(layout.migrations)
        .join("20990101000000_users/migration.sql");
    std::fs::create_dir_all(migration.parent().unwrap()).unwrap();
    std::fs::write(&migration, sql).unwrap();
}

fn prisma7_calls_faber_dbs_work_up_to_date(server: Server, layout: &Layout) {
    let (project, target) = prisma7_project(server, layout);
    project
        .run(&["init", "dev", "--json"], &[])
        .assert_success();
    if server == Server::Sqlite {
        // Relative to the config's folder, where Prisma 7 and the app look.
        let file = format!("{}.db", target.name);
        let schema_dir = Path::new(layout.schema).parent().unwrap();
        assert!(project.path().join(&file).is_file());
        assert!(!project.path().join(schema_dir).join(&file).exists());
    }
    assert_prisma7_up_to_date(project.path());

    write_users_migration(&project, layout, server);
    let migrated = project
        .run(&["migrate", "dev", "--json"], &[])
        .assert_success();
    assert_eq!(
        migrated["result"]["applied"],
        serde_json::json!(["20990101000000_users"])
    );
    assert_prisma7_up_to_date(project.path());
}

#[test]
fn prisma7_calls_a_postgresql_database_faber_db_set_up_up_to_date() {
    prisma7_calls_faber_dbs_work_up_to_date(Server::Postgres, &PRISMA_INIT);
}

#[test]
fn prisma7_calls_a_sqlite_database_faber_db_set_up_up_to_date() {
    prisma7_calls_faber_dbs_work_up_to_date(Server::Sqlite, &PRISMA_INIT);
}

#[test]
fn prisma7_calls_a_postgresql_database_of_a_config_naming_its_folders_up_to_date() {
    prisma7_calls_faber_dbs_work_up_to_date(Server::Postgres, &ELSEWHERE);
}

#[test]
fn prisma7_calls_a_sqlite_database_of_a_config_naming_its_folders_up_to_date() {
    prisma7_calls_faber_dbs_work_up_to_date(Server::Sqlite, &ELSEWHERE);
}

fn faber_db_calls_prisma7s_work_up_to_date(server: Server) {
    let (project, target) = prisma7_project(server, &PRISMA_INIT);
    write_users_migration(&project, &PRISMA_INIT, server);
    let (ok, output) = prisma7(project.path(), &["migrate", "deploy"]);
    assert!(
        ok && output.contains("have been applied"),
        "prisma migrate deploy:\n{output}"
    );
    assert!(target.exists());
    if server == Server::Sqlite {
        // As Prisma's own engine writes them: milliseconds since the epoch.
        assert_eq!(
            target.query("SELECT DISTINCT typeof(started_at) FROM _prisma_migrations"),
            ["integer"]
        );
    }

    let status = project.run(&["status", "dev", "--json"], &[]);
    let report = status.json();
    assert_eq!(status.code, 0, "{report}");
    assert_eq!(
        report["result"]["environments"][0]["state"], "up-to-date",
        "{report}"
    );
    let migrated = project
        .run(&["migrate", "dev", "--json"], &[])
        .assert_success();
    assert_eq!(migrated["result"]["applied"], serde_json::json!([]));
    assert!(
        migrated["message"].as_str().unwrap().contains("up to date"),
        "{migrated}"
    );
}

#[test]
fn faber_db_calls_a_postgresql_database_prisma7_deployed_up_to_date() {
    faber_db_calls_prisma7s_work_up_to_date(Server::Postgres);
}

#[test]
fn faber_db_calls_a_sqlite_database_prisma7_deployed_up_to_date() {
    faber_db_calls_prisma7s_work_up_to_date(Server::Sqlite);
}
