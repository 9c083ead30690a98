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

    let (provider, url, adapter) = match server {
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
    std::os::unix::fs::symlink(
        node.join("node_modules"),
        project.path().join("node_modules"),
    )
    .unwrap();
    let output = Command::new("node")
        .arg(node.join("node_modules/prisma/build/index.js"))
        .args(["migrate", "status"])
        .current_dir(project.path())
        .env("CHECKPOINT_DISABLE", "1")
        .env("PRISMA_HIDE_UPDATE_MESSAGE", "1")
        .env("PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("Database schema is up to date!"),
        "prisma migrate status on {provider}:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn prisma_calls_a_sqlite_database_up_to_date() {
    migrate_status(Server::Sqlite);
}

#[test]
fn prisma_calls_a_postgresql_database_up_to_date() {
    migrate_status(Server::Postgres);
}
