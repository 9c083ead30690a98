//! Prisma's own CLI judges what handler-db-prisma left: `prisma migrate
//! status` must call the database up to date.
//!
//! Prisma 6.19 runs its schema engine as WebAssembly through a driver adapter
//! (`engine: "js"` in prisma.config.ts), so nothing is downloaded; that engine
//! covers PostgreSQL and SQLite (not MySQL). `bash tests/run.sh` installs it
//! into target/prisma-node, with the 7.x PostgreSQL adapter (6.x cannot read
//! the catalog's `name` columns, so its `migrate deploy` always fails).

use std::path::PathBuf;
use std::process::Command;

use crate::support::{Project, Server, Target, node_install, unique};

fn prisma_node() -> PathBuf {
    node_install(
        "FABER_DB_PRISMA_NODE",
        "prisma-node",
        "prisma/build/index.js",
        "Prisma",
    )
}

/// The PostgreSQL adapter splits a migration on every `;` (a dollar-quoted
/// body breaks, and the statements before a failure stay committed); Prisma's
/// own engine sends the script whole, and so does this subclass.
const WHOLE_SCRIPTS: &str = "class WholeScripts extends PrismaPg {
  async connect() {
    const adapter: any = await super.connect();
    adapter.executeScript = async (script: string) => {
      try { await adapter.client.query(script); } catch (e) { adapter.onError(e); }
    };
    return adapter;
  }
}";

/// Prisma's CLI set up in `project` for `target` (its URL followed by
/// `query`): schema, config with the driver adapter, and its node_modules.
pub fn configure_prisma(project: &Project, target: &Target, query: &str) {
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
            format!("{}{query}", target.url()),
            format!(
                "import {{ PrismaPg }} from \"@prisma/adapter-pg\";\n{WHOLE_SCRIPTS}\nconst adapter = () => new WholeScripts({{ connectionString: \"{}\"{} }}{});",
                target.url(),
                // The adapter's sessions need the schema as their search
                // path, as Prisma's own engine sets it from `?schema=`.
                query
                    .strip_prefix("?schema=")
                    .map(|schema| format!(", options: \"-c search_path={schema}\""))
                    .unwrap_or_default(),
                query
                    .strip_prefix("?schema=")
                    .map(|schema| format!(", {{ schema: \"{schema}\" }}"))
                    .unwrap_or_default()
            ),
        ),
    };
    std::fs::create_dir_all(project.path().join("prisma")).unwrap();
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
    if !link.exists() {
        std::os::unix::fs::symlink(node.join("node_modules"), link).unwrap();
    }
}

/// Prisma's CLI in `project` (set up by [`configure_prisma`]), to spawn.
pub fn prisma_command(project: &Project, args: &[&str]) -> Command {
    let mut command = Command::new("node");
    command
        .arg(prisma_node().join("node_modules/prisma/build/index.js"))
        .args(args)
        .current_dir(project.path())
        .env("CHECKPOINT_DISABLE", "1")
        .env("PRISMA_HIDE_UPDATE_MESSAGE", "1")
        .env("PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING", "1");
    command
}

/// Runs Prisma's CLI in `project`; returns whether it succeeded and its
/// stdout and stderr together.
pub fn prisma(project: &Project, args: &[&str]) -> (bool, String) {
    let output = prisma_command(project, args).output().unwrap();
    (
        output.status.success(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

pub fn assert_prisma_up_to_date(project: &Project) {
    let (ok, output) = prisma(project, &["migrate", "status"]);
    assert!(
        ok && output.contains("Database schema is up to date!"),
        "prisma migrate status:\n{output}"
    );
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
    configure_prisma(&project, &target, "");
    assert_prisma_up_to_date(&project);
}

#[test]
fn prisma_calls_a_sqlite_database_up_to_date() {
    migrate_status(Server::Sqlite);
}

#[test]
fn prisma_calls_a_postgresql_database_up_to_date() {
    migrate_status(Server::Postgres);
}
