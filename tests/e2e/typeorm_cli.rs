//! TypeORM's own CLI judges what handler-db-typeorm leaves: a migration
//! written by the real `typeorm migration:generate`, hand-written ones (a
//! data migration with bound parameters), applied by faber-db to one
//! database and by `typeorm migration:run` to a twin; the catalogs and the
//! `migrations` rows must be the same, and each tool must find the other's
//! database fully migrated. `bash tests/run.sh` installs TypeORM and its
//! drivers into target/typeorm-node.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{Project, Server, Target, failure_text, node, node_install, unique};

fn typeorm_node() -> PathBuf {
    node_install(
        "FABER_DB_TYPEORM_NODE",
        "typeorm-node",
        "typeorm/cli.js",
        "TypeORM",
    )
}

/// A TypeORM project: its packages, its data source, a `migrations` folder.
fn typeorm_project() -> Project {
    let project = Project::empty();
    let node_modules = typeorm_node().join("node_modules");
    std::os::unix::fs::symlink(node_modules, project.path().join("node_modules")).unwrap();
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/typeorm/data-source.js"),
        project.path().join("data-source.js"),
    )
    .unwrap();
    std::fs::write(
        project.path().join("package.json"),
        r#"{ "dependencies": { "typeorm": "1.1.4" },
  "scripts": { "migrate": "typeorm migration:run -d data-source.js" } }"#,
    )
    .unwrap();
    std::fs::create_dir(project.path().join("migrations")).unwrap();
    project
}

fn driver(server: Server) -> &'static str {
    match server {
        Server::Postgres => "postgres",
        Server::Mysql => "mysql",
        Server::Sqlite => "better-sqlite3",
    }
}

/// TypeORM's CLI with `args`, on `target`; what it printed, and whether it
/// succeeded.
fn typeorm(project: &Project, target: &Target, args: &[&str]) -> (bool, String) {
    let where_ = match target.server {
        Server::Sqlite => target.file().display().to_string(),
        _ => target.url(),
    };
    let mut command = vec!["node_modules/typeorm/cli.js"];
    command.extend(args);
    command.extend(["-d", "data-source.js"]);
    node(
        project,
        &command,
        &[
            ("TYPEORM_TYPE", driver(target.server)),
            ("TYPEORM_URL", &where_),
        ],
    )
}

fn typeorm_ok(project: &Project, target: &Target, args: &[&str]) -> String {
    let (ok, printed) = typeorm(project, target, args);
    assert!(ok, "typeorm {args:?}:\n{printed}");
    printed
}

/// TypeORM's rows, as `migration:show` reads them.
fn rows(target: &Target) -> Vec<String> {
    target.query("SELECT id, timestamp, name FROM migrations ORDER BY id")
}

fn faber_db(project: &Project, target: &Target, args: &[&str]) -> (i32, Value) {
    let run = project.run(args, &[("DEV_DATABASE_URL", &target.url())]);
    (run.code, run.json())
}

/// A hand-written data migration: two users, one through a bound parameter.
fn write_seed(project: &Project, server: Server) {
    let marker = match server {
        Server::Postgres => "$1",
        _ => "?",
    };
    std::fs::write(
        project.path().join("migrations/1800000000000-SeedUsers.js"),
        format!(
            "module.exports = class SeedUsers1800000000000 {{\n\
             \x20   async up(queryRunner) {{\n\
             \x20       console.log(\"seeding users\");\n\
             \x20       const inserted = await queryRunner.query(\"INSERT INTO users (name) VALUES ('ada')\");\n\
             \x20       const updated = await queryRunner.query(\"UPDATE users SET active = false WHERE name = 'ada'\");\n\
             \x20       const brief = (r) => r !== null && typeof r === \"object\" && !Array.isArray(r) ? [r.affectedRows, r.insertId] : r;\n\
             \x20       const shapes = JSON.stringify([brief(inserted), brief(updated)]);\n\
             \x20       const name = [\"grace\"].map((n) => n.toUpperCase())[0];\n\
             \x20       await queryRunner.query(\"INSERT INTO users (name, active) VALUES ({marker}, {})\", [name]);\n\
             \x20       await queryRunner.query(\"INSERT INTO users (name) VALUES ({marker})\", [shapes]);\n\
             \x20   }}\n\
             \x20   async down(queryRunner) {{\n\
             \x20       await queryRunner.query(\"DELETE FROM users\");\n\
             \x20   }}\n\
             }};\n",
            if server == Server::Postgres { "false" } else { "0" }
        ),
    )
    .unwrap();
}

/// A hand-written migration on the schema builder: tables with keys,
/// defaults, a unique column and indexes, and on PostgreSQL and MySQL the
/// calls that alter a table (on SQLite TypeORM rebuilds the table for
/// those, which handler-db-typeorm refuses).
fn write_schema_builder(project: &Project, server: Server) {
    let alter = match server {
        Server::Sqlite => "",
        _ => {
            "await queryRunner.addColumn(\"posts\", new TableColumn({ name: \"summary\", type: \"text\", isNullable: true }));
        await queryRunner.createTable(new Table({ name: \"tags\", columns: [
            { name: \"id\", type: \"integer\", isPrimary: true, isGenerated: true, generationStrategy: \"increment\" },
            { name: \"post_id\", type: \"int\" },
        ] }));
        await queryRunner.createForeignKey(\"tags\", new TableForeignKey({ columnNames: [\"post_id\"], referencedTableName: \"posts\", referencedColumnNames: [\"id\"] }));
        await queryRunner.dropColumn(\"posts\", \"views\");"
        }
    };
    std::fs::write(
        project.path().join("migrations/1900000000000-Posts.js"),
        format!(
            "const {{ Table, TableColumn, TableIndex, TableForeignKey }} = require(\"typeorm\");

module.exports = class Posts1900000000000 {{
    async up(queryRunner) {{
        await queryRunner.createTable(new Table({{ name: \"posts\", columns: [
            {{ name: \"id\", type: \"integer\", isPrimary: true, isGenerated: true, generationStrategy: \"increment\" }},
            {{ name: \"slug\", type: \"varchar\", length: \"120\", isUnique: true }},
            {{ name: \"title\", type: \"varchar\", length: \"200\" }},
            {{ name: \"user_id\", type: \"int\", isNullable: true }},
            {{ name: \"views\", type: \"int\", default: 0 }},
        ], foreignKeys: [{{ columnNames: [\"user_id\"], referencedTableName: \"users\", referencedColumnNames: [\"id\"], onDelete: \"CASCADE\" }}],
           indices: [{{ columnNames: [\"user_id\"] }}] }}), true);
        await queryRunner.createIndex(\"posts\", new TableIndex({{ name: \"IDX_posts_title\", columnNames: [\"title\"], isUnique: true }}));
        {alter}
    }}
}};
"
        ),
    )
    .unwrap();
}

fn typeorm_and_faber_db_take_turns(server: Server) {
    let project = typeorm_project();
    // TypeORM's generator diffs the entities against an empty database.
    let empty = Target::new(server, &unique("fdb_to_gen"), project.path());
    empty.create_as_faber_db_does();
    typeorm_ok(
        &project,
        &empty,
        &[
            "migration:generate",
            "-o",
            "-t",
            "1700000000000",
            "migrations/CreateUsers",
        ],
    );
    write_seed(&project, server);
    write_schema_builder(&project, server);

    // `config init` finds TypeORM in package.json and reads the data source
    // its script names (whose driver comes from a variable here).
    let (code, report) = faber_db(
        &project,
        &empty,
        &[
            "config",
            "init",
            "--provider",
            server.provider(),
            "--yes",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["result"]["migration_tool"], "typeorm", "{report}");
    assert_eq!(
        report["result"]["migrations_directory"], "migrations",
        "{report}"
    );
    assert_eq!(
        report["result"]["typeorm_project"]["read_from"],
        serde_json::json!(["package.json", "data-source.js"]),
        "{report}"
    );

    // faber-db first: init, then migrate; TypeORM then has nothing to do.
    let faber_first = Target::new(server, &unique("fdb_to_faber"), project.path());
    let (code, report) = faber_db(&project, &faber_first, &["init", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = faber_db(
        &project,
        &faber_first,
        &["migrate", "dev", "--dry-run", "--json"],
    );
    assert_eq!(code, 0, "{report}");
    let plan = report["result"]["plan"].to_string();
    assert!(
        plan.contains("INSERT INTO users (name, active)"),
        "{report}"
    );
    let (code, report) = faber_db(&project, &faber_first, &["migrate", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"],
        serde_json::json!([
            "CreateUsers1700000000000",
            "SeedUsers1800000000000",
            "Posts1900000000000"
        ]),
        "{report}"
    );
    let shown = typeorm_ok(&project, &faber_first, &["migration:show"]);
    assert!(shown.contains("[X] 1 CreateUsers1700000000000"), "{shown}");
    assert!(shown.contains("[X] 2 SeedUsers1800000000000"), "{shown}");
    assert!(shown.contains("[X] 3 Posts1900000000000"), "{shown}");
    let said = typeorm_ok(&project, &faber_first, &["migration:run"]);
    assert!(said.contains("No migrations are pending"), "{said}");
    let users = faber_first.query("SELECT name FROM users ORDER BY id");
    assert_eq!(users[..2], ["ada", "GRACE"]);

    // A twin, all TypeORM's: the same catalog, the same rows.
    let twin = Target::new(server, &unique("fdb_to_twin"), project.path());
    twin.create_as_faber_db_does();
    typeorm_ok(&project, &twin, &["migration:run"]);
    // What `queryRunner.query` answered, as the seed migration wrote it down.
    assert_eq!(users, twin.query("SELECT name FROM users ORDER BY id"));
    assert_eq!(rows(&faber_first), rows(&twin));
    assert_eq!(faber_first.catalog(), twin.catalog());

    // TypeORM first, then a migration faber-db writes: faber-db sees
    // TypeORM's rows as applied and applies only its own.
    let generated =
        project.generate_migration("add_email", "ALTER TABLE users ADD email varchar(200);\n");
    let written = generated["result"]["path"].as_str().unwrap().to_owned();
    assert!(written.ends_with("-add_email.js"), "{written}");
    let (_, report) = faber_db(&project, &twin, &["status", "dev", "--json"]);
    let dev = &report["result"]["environments"][0];
    assert_eq!(
        dev["migrations"]["SeedUsers1800000000000"], "applied",
        "{report}"
    );
    assert_eq!(dev["state"], "pending", "{report}");
    let (code, report) = faber_db(&project, &twin, &["migrate", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    let shown = typeorm_ok(&project, &twin, &["migration:show"]);
    assert!(shown.contains("[X] 4 AddEmail"), "{shown}");
    typeorm_ok(&project, &faber_first, &["migration:run"]);
    assert_eq!(rows(&faber_first), rows(&twin));
    assert_eq!(faber_first.catalog(), twin.catalog());
}

#[test]
fn typeorm_and_faber_db_take_turns_on_postgresql() {
    typeorm_and_faber_db_take_turns(Server::Postgres);
}

#[test]
fn typeorm_and_faber_db_take_turns_on_mysql() {
    typeorm_and_faber_db_take_turns(Server::Mysql);
}

#[test]
fn typeorm_and_faber_db_take_turns_on_sqlite() {
    typeorm_and_faber_db_take_turns(Server::Sqlite);
}

fn write_migration(project: &Project, file: &str, class: &str, up: &str) {
    std::fs::write(
        project.path().join("migrations").join(file),
        format!(
            "module.exports = class {class} {{\n    async up(queryRunner) {{\n        {up}\n    }}\n}};\n"
        ),
    )
    .unwrap();
}

/// TypeORM runs a whole run in one transaction: a migration that fails
/// takes the run's earlier ones with it, under TypeORM and faber-db alike.
#[test]
fn a_failing_migration_rolls_the_run_back_as_typeorm_does() {
    let server = Server::Postgres;
    let project = typeorm_project();
    write_migration(
        &project,
        "1700000000000-Users.js",
        "Users1700000000000",
        "await queryRunner.query(`CREATE TABLE users (id integer PRIMARY KEY)`);",
    );
    write_migration(
        &project,
        "1700000000001-Broken.js",
        "Broken1700000000001",
        "await queryRunner.query(`INSERT INTO no_such_table VALUES (1)`);",
    );
    let faber = Target::new(server, &unique("fdb_to_fail"), project.path());
    let (code, report) = faber_db(
        &project,
        &faber,
        &[
            "config",
            "init",
            "--migration-tool",
            "typeorm",
            "--provider",
            "postgresql",
            "--yes",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(faber_db(&project, &faber, &["init", "dev", "--json"]).0, 0);
    let (code, report) = faber_db(&project, &faber, &["migrate", "dev", "--json"]);
    assert_ne!(code, 0, "{report}");
    let error = failure_text(&report);
    assert!(error.contains("Broken1700000000001"), "{report}");
    assert!(error.contains("no_such_table"), "{report}");

    let twin = Target::new(server, &unique("fdb_to_failtwin"), project.path());
    twin.create_as_faber_db_does();
    let (ok, printed) = typeorm(&project, &twin, &["migration:run"]);
    assert!(!ok, "{printed}");
    assert_eq!(rows(&faber), rows(&twin));
    assert!(rows(&faber).is_empty());
    assert_eq!(faber.catalog(), twin.catalog());
}

/// What Node.js would give a migration, the sandbox does not: each reach
/// is refused by name, a loop that never ends is stopped, and the database
/// keeps none of it.
#[test]
fn a_typeorm_migration_reaches_nothing_outside_the_sandbox() {
    let project = typeorm_project();
    let target = Target::new(Server::Sqlite, &unique("fdb_to_box"), project.path());
    let (code, report) = faber_db(
        &project,
        &target,
        &[
            "config",
            "init",
            "--migration-tool",
            "typeorm",
            "--provider",
            "sqlite",
            "--yes",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{report}");
    write_migration(
        &project,
        "1700000000000-Users.js",
        "Users1700000000000",
        "await queryRunner.query(`CREATE TABLE users (id integer PRIMARY KEY)`);",
    );
    assert_eq!(faber_db(&project, &target, &["init", "dev", "--json"]).0, 0);
    let reaches = [
        (
            "Files",
            "require(\"fs\").readFileSync(\"/etc/passwd\");",
            "require(\"fs\") is not available",
        ),
        (
            "Secrets",
            "await queryRunner.query(process.env.DATABASE_URL);",
            "process.env is not available",
        ),
        (
            "Network",
            "await fetch(\"http://169.254.169.254/latest/meta-data/\");",
            "fetch is not available",
        ),
        ("Forever", "while (true) {}", "RuntimeLimit"),
        (
            "Builder",
            "await queryRunner.renameColumn(\"users\", \"id\", \"key\");",
            "queryRunner.renameColumn",
        ),
        // A failure nothing awaited still fails the run, as its unhandled
        // rejection ends Node.js before the commit.
        (
            "Unawaited",
            "queryRunner.query(`INSERT INTO no_such_table VALUES (1)`);",
            "no_such_table",
        ),
    ];
    for (index, (name, up, refusal)) in reaches.iter().enumerate() {
        let class = format!("{name}170000000010{index}");
        let file = format!("170000000010{index}-{name}.js");
        write_migration(&project, &file, &class, up);
        let (code, report) = faber_db(&project, &target, &["migrate", "dev", "--json"]);
        assert_ne!(code, 0, "{report}");
        let error = failure_text(&report);
        assert!(error.contains(&class), "{report}");
        assert!(error.contains(refusal), "{name}: {report}");
        std::fs::remove_file(project.path().join("migrations").join(&file)).unwrap();
    }
    // The run that the refusals stopped applied nothing: not even Users.
    assert!(
        target
            .query("SELECT name FROM sqlite_master WHERE name = 'users'")
            .is_empty()
    );
    let (code, report) = faber_db(&project, &target, &["migrate", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        target.query("SELECT name FROM migrations"),
        ["Users1700000000000"]
    );
}
