//! sequelize-cli judges what handler-db-sequelize leaves: a migration
//! written by the real `sequelize-cli model:generate`, hand-written ones on
//! `queryInterface` (a table with keys, an enum, defaults and indexes, a
//! data migration), applied by faber-db to one database and by
//! `sequelize-cli db:migrate` to a twin; the catalogs, the rows and the
//! `SequelizeMeta` rows must be the same, and each tool must find the
//! other's database fully migrated. `bash tests/run.sh` installs
//! sequelize-cli, Sequelize and their drivers into target/sequelize-node.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{Project, Server, Target, failure_text, node, node_install, unique};

fn sequelize_node() -> PathBuf {
    node_install(
        "FABER_DB_SEQUELIZE_NODE",
        "sequelize-node",
        "sequelize-cli/lib/sequelize",
        "sequelize-cli",
    )
}

fn dialect(server: Server) -> &'static str {
    match server {
        Server::Postgres => "postgres",
        Server::Mysql => "mysql",
        Server::Sqlite => "sqlite",
    }
}

/// A Sequelize project as `sequelize-cli init` and a `.sequelizerc` leave
/// it: its packages, `config/database.json` (the URL in a variable), the
/// migrations in `db/migrations` and `models`.
fn sequelize_project(server: Server) -> Project {
    let project = Project::empty();
    let node_modules = sequelize_node().join("node_modules");
    std::os::unix::fs::symlink(node_modules, project.path().join("node_modules")).unwrap();
    let files = [
        (
            "package.json",
            r#"{ "dependencies": { "sequelize": "6.37.8" }, "devDependencies": { "sequelize-cli": "6.6.5" } }"#
                .to_owned(),
        ),
        (
            ".sequelizerc",
            "const path = require('path');\n\nmodule.exports = {\n  'config': path.resolve('config', 'database.json'),\n  'migrations-path': path.resolve('db', 'migrations'),\n};\n"
                .to_owned(),
        ),
        (
            "config/database.json",
            format!(
                r#"{{ "development": {{ "use_env_variable": "DEV_DATABASE_URL", "dialect": "{}" }} }}"#,
                dialect(server)
            ),
        ),
    ];
    for (name, text) in files {
        let path = project.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    // `model:generate` writes a model beside its migration.
    for folder in ["db/migrations", "models"] {
        std::fs::create_dir_all(project.path().join(folder)).unwrap();
    }
    project
}

/// sequelize-cli with `args`, on `target` (given as `--url`, as sequelize
/// takes it); what it printed, and whether it succeeded.
fn sequelize(project: &Project, target: &Target, args: &[&str]) -> (bool, String) {
    let url = match target.server {
        Server::Sqlite => format!("sqlite://{}", target.file().display()),
        _ => target.url(),
    };
    let mut command = vec!["node_modules/sequelize-cli/lib/sequelize"];
    command.extend(args);
    command.extend(["--url", &url]);
    node(project, &command, &[])
}

fn sequelize_ok(project: &Project, target: &Target, args: &[&str]) -> String {
    let (ok, printed) = sequelize(project, target, args);
    assert!(ok, "sequelize-cli {args:?}:\n{printed}");
    printed
}

/// sequelize-cli's rows, as `db:migrate:status` reads them.
fn rows(target: &Target) -> Vec<String> {
    let quoted = match target.server {
        Server::Mysql => "`SequelizeMeta`",
        _ => "\"SequelizeMeta\"",
    };
    target.query(&format!("SELECT name FROM {quoted} ORDER BY name"))
}

fn faber_db(project: &Project, target: &Target, args: &[&str]) -> (i32, Value) {
    let run = project.run(args, &[("DEV_DATABASE_URL", &target.url())]);
    (run.code, run.json())
}

fn write_migration(project: &Project, file: &str, up: &str) {
    std::fs::write(
        project.path().join("db/migrations").join(file),
        format!(
            "'use strict';\n\n/** @type {{import('sequelize-cli').Migration}} */\nmodule.exports = {{\n  async up (queryInterface, Sequelize) {{\n{up}\n  }},\n\n  async down (queryInterface, Sequelize) {{\n  }}\n}};\n"
        ),
    )
    .unwrap();
}

/// The migration file names, `after` the generated one's timestamp.
fn later(generated: &str, step: u64, name: &str) -> String {
    let stamp: u64 = generated[..14].parse().unwrap();
    format!("{}-{name}.js", stamp + step)
}

/// A table with a foreign key, an enum, defaults and indexes, then the
/// calls that alter a table (on SQLite Sequelize rebuilds the table for
/// them, reading it back as it goes), one of them only if `describeTable`
/// does not show its column yet.
fn write_posts(project: &Project, file: &str) {
    write_migration(
        project,
        file,
        "    await queryInterface.createTable('Posts', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      userId: { type: Sequelize.INTEGER, references: { model: 'Users', key: 'id' }, onUpdate: 'CASCADE', onDelete: 'SET NULL' },
      title: { type: Sequelize.STRING(200), allowNull: false },
      slug: Sequelize.STRING,
      status: { type: Sequelize.ENUM('draft', 'published'), defaultValue: 'draft' },
      price: { type: Sequelize.DECIMAL(10, 2), defaultValue: 0 },
      views: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
      draft: { type: Sequelize.BOOLEAN, defaultValue: true },
      createdAt: { type: Sequelize.DATE, allowNull: false, defaultValue: Sequelize.literal('CURRENT_TIMESTAMP') },
    });
    await queryInterface.addIndex('Posts', ['userId', 'createdAt']);
    await queryInterface.addIndex('Posts', { fields: ['title'], unique: true, name: 'posts_title_unique' });
    const columns = await queryInterface.describeTable('Posts');
    if (!columns.summary && (await queryInterface.tableExists('Posts'))) {
      await queryInterface.addColumn('Posts', 'summary', { type: Sequelize.TEXT });
    }
    await queryInterface.changeColumn('Posts', 'title', { type: Sequelize.STRING(300), allowNull: false });
    await queryInterface.renameColumn('Posts', 'views', 'reads');
    await queryInterface.addConstraint('Posts', { fields: ['slug'], type: 'unique', name: 'posts_slug_uk' });
    await queryInterface.removeColumn('Posts', 'draft');",
    );
}

/// A data migration: rows with dates, a read, a bound update, and what
/// each call answered written down.
fn write_seed(project: &Project, file: &str) {
    write_migration(
        project,
        file,
        "    console.log('seeding users');
    const at = new Date('2024-01-02T03:04:05.678Z');
    const inserted = await queryInterface.bulkInsert('Users', [
      { name: 'ada', email: 'ada@example.com', createdAt: at, updatedAt: at },
      { name: \"o'neil\", email: 'oneil@example.com', createdAt: at, updatedAt: at },
    ], {});
    const found = await queryInterface.sequelize.query(
      'SELECT id, name FROM ' + queryInterface.quoteIdentifier('Users') + ' ORDER BY id',
      { type: Sequelize.QueryTypes.SELECT });
    const updated = await queryInterface.bulkUpdate('Users', { active: false }, { name: found[0].name });
    await queryInterface.bulkInsert('Users', [
      { name: JSON.stringify([Array.isArray(inserted), found.length, updated]), email: 'shapes', createdAt: at, updatedAt: at },
    ]);
    await queryInterface.sequelize.query(
      'DELETE FROM ' + queryInterface.quoteIdentifier('Users') + ' WHERE email = :email',
      { replacements: { email: 'nobody' } });",
    );
}

fn sequelize_and_faber_db_take_turns(server: Server) {
    let project = sequelize_project(server);
    sequelize_ok(
        &project,
        &Target::new(server, "unused", project.path()),
        &[
            "model:generate",
            "--name",
            "User",
            "--attributes",
            "name:string,email:string,active:boolean",
        ],
    );
    let generated = std::fs::read_dir(project.path().join("db/migrations"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .find(|name| name.ends_with("-create-user.js"))
        .expect("model:generate wrote a migration");
    let posts = later(&generated, 1, "posts");
    let seed = later(&generated, 2, "seed-users");
    write_posts(&project, &posts);
    write_seed(&project, &seed);

    // `config init` finds Sequelize in package.json, the folder in
    // .sequelizerc and the dialect and variable in the configuration.
    let (code, report) = faber_db(
        &project,
        &Target::new(server, "unused", project.path()),
        &["config", "init", "--yes", "--json"],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["result"]["migration_tool"], "sequelize", "{report}");
    assert_eq!(report["result"]["provider"], server.provider(), "{report}");
    assert_eq!(
        report["result"]["migrations_directory"], "db/migrations",
        "{report}"
    );
    assert_eq!(
        report["result"]["sequelize_project"]["read_from"],
        serde_json::json!(["package.json", ".sequelizerc", "config/database.json"]),
        "{report}"
    );

    // faber-db first: init, then migrate; sequelize-cli then has nothing
    // to do.
    let faber_first = Target::new(server, &unique("fdb_sq_faber"), project.path());
    let (code, report) = faber_db(&project, &faber_first, &["init", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = faber_db(
        &project,
        &faber_first,
        &["migrate", "dev", "--dry-run", "--json"],
    );
    assert_eq!(code, 0, "{report}");
    assert!(
        report["result"]["plan"]
            .to_string()
            .contains("CREATE TABLE IF NOT EXISTS"),
        "{report}"
    );
    let (code, report) = faber_db(&project, &faber_first, &["migrate", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"],
        serde_json::json!([generated, posts, seed]),
        "{report}"
    );
    let status = sequelize_ok(&project, &faber_first, &["db:migrate:status"]);
    for file in [&generated, &posts, &seed] {
        assert!(status.contains(&format!("up {file}")), "{status}");
    }
    let said = sequelize_ok(&project, &faber_first, &["db:migrate"]);
    assert!(
        said.contains("No migrations were executed, database schema was already up to date."),
        "{said}"
    );

    // A twin, all sequelize-cli's: the same catalog, the same rows.
    let twin = Target::new(server, &unique("fdb_sq_twin"), project.path());
    twin.create_as_faber_db_does();
    sequelize_ok(&project, &twin, &["db:migrate"]);
    let users = "SELECT id, name, email, active, createdAt FROM Users ORDER BY id";
    let users = match server {
        Server::Postgres => users
            .replace("Users", "\"Users\"")
            .replace("createdAt", "\"createdAt\""),
        _ => users.to_owned(),
    };
    assert_eq!(faber_first.query(&users), twin.query(&users));
    assert_eq!(rows(&faber_first), rows(&twin));
    assert_eq!(faber_first.catalog(), twin.catalog());

    // sequelize-cli first, then a migration faber-db writes: faber-db sees
    // sequelize-cli's rows as applied and applies only its own.
    let created = project.generate_migration(
        "add-nickname",
        &format!(
            "ALTER TABLE {} ADD nickname varchar(50);\n",
            if server == Server::Mysql {
                "`Users`"
            } else {
                "\"Users\""
            }
        ),
    );
    let written = created["result"]["path"].as_str().unwrap().to_owned();
    assert!(written.ends_with("-add-nickname.js"), "{written}");
    let (_, report) = faber_db(&project, &twin, &["status", "dev", "--json"]);
    let dev = &report["result"]["environments"][0];
    assert_eq!(dev["migrations"][&seed], "applied", "{report}");
    assert_eq!(dev["state"], "pending", "{report}");
    let (code, report) = faber_db(&project, &twin, &["migrate", "dev", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    let status = sequelize_ok(&project, &twin, &["db:migrate:status"]);
    assert!(!status.contains("down "), "{status}");
    sequelize_ok(&project, &faber_first, &["db:migrate"]);
    assert_eq!(rows(&faber_first), rows(&twin));
    assert_eq!(faber_first.catalog(), twin.catalog());

    // `resolve` writes and deletes sequelize-cli's row, as `db:migrate`
    // and `db:migrate:undo` do.
    let file = std::path::Path::new(&written)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (code, report) = faber_db(
        &project,
        &twin,
        &["resolve", "dev", "--rolled-back", &file, "--json"],
    );
    assert_eq!(code, 0, "{report}");
    let status = sequelize_ok(&project, &twin, &["db:migrate:status"]);
    assert!(status.contains(&format!("down {file}")), "{status}");
    let (code, report) = faber_db(
        &project,
        &twin,
        &["resolve", "dev", "--applied", &file, "--json"],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(rows(&faber_first), rows(&twin));
}

#[test]
fn sequelize_and_faber_db_take_turns_on_postgresql() {
    sequelize_and_faber_db_take_turns(Server::Postgres);
}

#[test]
fn sequelize_and_faber_db_take_turns_on_mysql() {
    sequelize_and_faber_db_take_turns(Server::Mysql);
}

#[test]
fn sequelize_and_faber_db_take_turns_on_sqlite() {
    sequelize_and_faber_db_take_turns(Server::Sqlite);
}

/// sequelize-cli runs each migration on its own, without a transaction: a
/// failure keeps the migrations before it and what the failing one did
/// before its error, under sequelize-cli and faber-db alike.
fn a_failing_migration_keeps_what_ran_before_it(server: Server) {
    let project = sequelize_project(server);
    write_migration(
        &project,
        "20240101000000-users.js",
        "    await queryInterface.createTable('Users', { id: { type: Sequelize.INTEGER, primaryKey: true } });",
    );
    write_migration(
        &project,
        "20240101000001-broken.js",
        "    await queryInterface.createTable('Tags', { id: Sequelize.INTEGER });\n    await queryInterface.bulkInsert('NoSuchTable', [{ id: 1 }]);",
    );
    let faber = Target::new(server, &unique("fdb_sq_fail"), project.path());
    let (code, report) = faber_db(&project, &faber, &["config", "init", "--yes", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(faber_db(&project, &faber, &["init", "dev", "--json"]).0, 0);
    let (code, report) = faber_db(&project, &faber, &["migrate", "dev", "--json"]);
    assert_ne!(code, 0, "{report}");
    let error = failure_text(&report);
    assert!(error.contains("20240101000001-broken.js"), "{report}");
    assert!(error.contains("NoSuchTable"), "{report}");

    let twin = Target::new(server, &unique("fdb_sq_failtwin"), project.path());
    twin.create_as_faber_db_does();
    let (ok, printed) = sequelize(&project, &twin, &["db:migrate"]);
    assert!(!ok, "{printed}");
    assert_eq!(rows(&faber), ["20240101000000-users.js"]);
    assert_eq!(rows(&faber), rows(&twin));
    assert_eq!(faber.catalog(), twin.catalog());
}

#[test]
fn a_failing_migration_keeps_what_ran_before_it_on_postgresql() {
    a_failing_migration_keeps_what_ran_before_it(Server::Postgres);
}

#[test]
fn a_failing_migration_keeps_what_ran_before_it_on_mysql() {
    a_failing_migration_keeps_what_ran_before_it(Server::Mysql);
}

#[test]
fn a_failing_migration_keeps_what_ran_before_it_on_sqlite() {
    a_failing_migration_keeps_what_ran_before_it(Server::Sqlite);
}

/// What Node.js would give a migration, the sandbox does not: each reach
/// is refused by name, a loop that never ends is stopped, and the database
/// keeps only the migrations before it.
#[test]
fn a_sequelize_migration_reaches_nothing_outside_the_sandbox() {
    let server = Server::Sqlite;
    let project = sequelize_project(server);
    let target = Target::new(server, &unique("fdb_sq_box"), project.path());
    let (code, report) = faber_db(&project, &target, &["config", "init", "--yes", "--json"]);
    assert_eq!(code, 0, "{report}");
    write_migration(
        &project,
        "20240101000000-users.js",
        "    await queryInterface.createTable('Users', { id: { type: Sequelize.INTEGER, primaryKey: true } });",
    );
    assert_eq!(faber_db(&project, &target, &["init", "dev", "--json"]).0, 0);
    let reaches = [
        (
            "files",
            "    require('fs').readFileSync('/etc/passwd');",
            "require(\"fs\") is not available",
        ),
        (
            "secrets",
            "    await queryInterface.sequelize.query(process.env.DEV_DATABASE_URL);",
            "process.env is not available",
        ),
        (
            "network",
            "    await fetch('http://169.254.169.254/latest/meta-data/');",
            "fetch is not available",
        ),
        ("forever", "    while (true) {}", "RuntimeLimit"),
        (
            "rebuild",
            "    await queryInterface.removeConstraint('Users', 'users_pk');",
            "queryInterface.removeConstraint on SQLite",
        ),
        (
            "connection",
            "    new Sequelize('sqlite::memory:');",
            "new Sequelize",
        ),
    ];
    for (index, (name, up, refusal)) in reaches.iter().enumerate() {
        let file = format!("2024010100001{index}-{name}.js");
        write_migration(&project, &file, up);
        let (code, report) = faber_db(&project, &target, &["migrate", "dev", "--json"]);
        assert_ne!(code, 0, "{report}");
        let error = failure_text(&report);
        assert!(error.contains(&file), "{report}");
        assert!(error.contains(refusal), "{name}: {report}");
        std::fs::remove_file(project.path().join("db/migrations").join(&file)).unwrap();
    }
    // Each run applied the migration before the refused one, as
    // sequelize-cli would have.
    assert_eq!(rows(&target), ["20240101000000-users.js"]);
}
