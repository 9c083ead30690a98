//! Prisma's own CLI judges what handler-db-prisma left: `prisma migrate
//! status` must call the database up to date.
//!
//! Prisma 6.19 runs its schema engine as WebAssembly through a driver adapter
//! (`engine: "js"` in prisma.config.ts), so nothing is downloaded; that engine
//! covers PostgreSQL and SQLite (not MySQL). `bash tests/run.sh` installs it
//! into target/prisma-node.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{Project, Server, Target, unique};

fn prisma_node() -> PathBuf {
    let dir = std::env::var_os("FABER_DB_PRISMA_NODE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/prisma-node"));
    assert!(
        dir.join("node_modules/prisma/build/index.js").is_file(),
        "Prisma is missing from {}: run `bash tests/run.sh`, which installs it",
        dir.display()
    );
    dir
}

fn migrate_status(server: Server) {
    let project = Project::new(server.provider());
    let target = Target::new(server, &unique("fdb_prisma"), project.path());
    project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &target.url())],
        )
        .assert_success();
    let (success, stdout) = run_migrate_status(&project, &target);
    assert!(
        success && stdout.contains("Database schema is up to date!"),
        "prisma migrate status on {}:\n{stdout}",
        server.provider()
    );
}

/// What Prisma's `migrate status` prints (stdout, then stderr) for
/// `target`, with the project's migrations folder.
pub fn migrate_status_of(project: &Project, target: &Target) -> String {
    run_migrate_status(project, target).1
}

fn run_migrate_status(project: &Project, target: &Target) -> (bool, String) {
    let (provider, url, adapter) = match target.server {
        Server::Sqlite => (
            "sqlite",
            format!("file:../{}.db", target.name),
            format!(
                "import {{ PrismaLibSQL }} from \"@prisma/adapter-libsql\";\nconst adapter = () => new PrismaLibSQL({{ url: \"file:./{}.db\" }});",
                target.name
            ),
        ),
        _ => (
            "postgresql",
            target.url(),
            format!(
                "import {{ PrismaPg }} from \"@prisma/adapter-pg\";\nconst adapter = () => new PrismaPg({{ connectionString: \"{}\" }});",
                target.url()
            ),
        ),
    };
    std::fs::write(
        project.path().join("prisma/schema.prisma"),
        format!(
            "generator client {{\n  provider   = \"prisma-client-js\"\n  engineType = \"client\"\n}}\n\n\
             datasource db {{\n  provider = \"{provider}\"\n  url      = \"{url}\"\n}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        project.path().join("prisma.config.ts"),
        format!(
            "import {{ defineConfig }} from \"prisma/config\";\n{adapter}\n\
             export default defineConfig({{\n  experimental: {{ adapter: true }},\n  engine: \"js\",\n  \
             schema: \"prisma/schema.prisma\",\n  migrations: {{ path: \"prisma/migrations\" }},\n  \
             adapter: async () => adapter(),\n}});\n"
        ),
    )
    .unwrap();
    let node = prisma_node();
    let link = project.path().join("node_modules");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink(node.join("node_modules"), link).unwrap();
    }
    let output = Command::new("node")
        .arg(node.join("node_modules/prisma/build/index.js"))
        .args(["migrate", "status"])
        .current_dir(project.path())
        .env("CHECKPOINT_DISABLE", "1")
        .env("PRISMA_HIDE_UPDATE_MESSAGE", "1")
        .env("PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING", "1")
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

#[test]
fn prisma_calls_a_sqlite_database_up_to_date() {
    migrate_status(Server::Sqlite);
}

#[test]
fn prisma_calls_a_postgresql_database_up_to_date() {
    migrate_status(Server::Postgres);
}
