//! `faber-db migrate`, `resolve` and `generate-migration` against real
//! servers, judged by the databases' own catalogs and tracking rows.

use std::process::Stdio;

use serde_json::Value;

use crate::support::{BIN, Project, Server, Target, component, unique};

/// A project initialized on `server`, for environment `env` (its variable
/// is set to the target's URL in every run).
pub struct Migrating {
    pub project: Project,
    pub target: Target,
    pub variable: &'static str,
    pub env: &'static str,
    /// Appended to the target's URL, e.g. `?schema=app`.
    pub query: String,
}

impl Migrating {
    pub fn new(server: Server, env: &'static str) -> Migrating {
        Migrating::with_query(server, env, "")
    }

    pub fn with_query(server: Server, env: &'static str, query: &str) -> Migrating {
        let project = Project::new(server.provider());
        let target = Target::new(server, &unique("fdb_mig"), project.path());
        let variable = match env {
            "production" => "PROD_DATABASE_URL",
            "staging" => "STAGING_DATABASE_URL",
            _ => "DEV_DATABASE_URL",
        };
        let migrating = Migrating {
            project,
            target,
            variable,
            env,
            query: query.to_owned(),
        };
        migrating
            .run(&["init", env, "--json", "--approve"])
            .assert_success();
        migrating
    }

    pub fn url(&self) -> String {
        format!("{}{}", self.target.url(), self.query)
    }

    pub fn run(&self, args: &[&str]) -> crate::support::Run {
        let url = self.url();
        self.project.run(args, &[(self.variable, url.as_str())])
    }

    pub fn migrate(&self, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["migrate", self.env, "--json"];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        (run.code, run.json())
    }

    /// Writes `<name>/migration.sql` into the migrations folder.
    pub fn write(&self, name: &str, sql: &str) {
        self.project.write_migration(name, sql);
    }

    /// `migration_name|finished|rolled back|applied_steps_count|has logs`, oldest first.
    pub fn rows(&self) -> Vec<String> {
        self.target.query(
            "SELECT migration_name, \
             CASE WHEN finished_at IS NULL THEN 'unfinished' ELSE 'finished' END, \
             CASE WHEN rolled_back_at IS NULL THEN '-' ELSE 'rolled-back' END, \
             applied_steps_count, \
             CASE WHEN logs IS NULL OR logs = '' THEN 'no-logs' ELSE 'logs' END \
             FROM _prisma_migrations ORDER BY started_at, migration_name",
        )
    }

    /// Whether Prisma's lock is held on the database, by anyone: its
    /// advisory lock in this PostgreSQL database, its named lock on the
    /// MySQL server (named locks are server-wide), the SQLite file's write
    /// lock (another connection's write is refused while it lasts).
    pub fn lock_held(&self) -> bool {
        let held = match self.target.server {
            Server::Postgres => {
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                 WHERE l.locktype = 'advisory' AND l.objid = 72707369 AND l.granted \
                 AND d.datname = current_database()"
            }
            Server::Mysql => "SELECT IS_USED_LOCK('prisma_migrate') IS NOT NULL",
            Server::Sqlite => {
                let probe = self
                    .target
                    .client()
                    .arg("BEGIN IMMEDIATE; ROLLBACK;")
                    .stderr(Stdio::null())
                    .status()
                    .unwrap();
                return !probe.success();
            }
        };
        self.target.query(held) == ["1"]
    }

    /// Holds Prisma's lock from another session, as `prisma migrate deploy`
    /// would, until the returned process is killed (on a server, for at most
    /// six seconds), and returns once it is held.
    pub fn hold_lock(&self) -> std::process::Child {
        let mut client = self.target.client();
        client.stdin(Stdio::piped()).stdout(Stdio::null());
        let mut holder = match self.target.server {
            Server::Postgres => client
                .args(["-c", "SELECT pg_advisory_lock(72707369), pg_sleep(6)"])
                .spawn()
                .unwrap(),
            Server::Mysql => client
                .args(["-e", "SELECT GET_LOCK('prisma_migrate', 10), SLEEP(6)"])
                .spawn()
                .unwrap(),
            Server::Sqlite => {
                // Prisma's native engine: exclusive locking mode, which
                // keeps the lock; the client keeps its session open while
                // its input is. It waits for the file (`.timeout`): the
                // probe of `lock_held` takes it for an instant, and a holder
                // that met it would give up at once and never hold it.
                let mut sqlite3 = client.spawn().unwrap();
                use std::io::Write;
                sqlite3
                    .stdin
                    .as_mut()
                    .unwrap()
                    .write_all(
                        b".timeout 10000\nPRAGMA locking_mode=EXCLUSIVE;\nBEGIN EXCLUSIVE;\nCOMMIT;\n",
                    )
                    .unwrap();
                sqlite3
            }
        };
        self.wait_for_lock("the lock holder");
        assert!(holder.try_wait().unwrap().is_none(), "the lock holder quit");
        holder
    }

    /// Returns once [`Migrating::lock_held`], which `holder` is to take
    /// within a minute.
    pub fn wait_for_lock(&self, holder: &str) {
        let since = std::time::Instant::now();
        while !self.lock_held() {
            assert!(
                since.elapsed().as_secs() < 60,
                "{holder} never took the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    pub fn tables(&self) -> Vec<String> {
        let sql = match self.target.server {
            Server::Postgres => {
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            }
            Server::Mysql => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1"
            }
            Server::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
            }
        };
        self.target.query(sql)
    }
}

/// Tables, an enum, a foreign key and an index; a destructive change; a
/// broken migration whose first statement would succeed.
fn realistic_folder(server: Server) -> [(&'static str, String); 4] {
    let (users, posts) = match server {
        Server::Postgres => (
            "CREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN');\n\
             CREATE TABLE \"User\" (\"id\" SERIAL PRIMARY KEY, \"email\" TEXT NOT NULL, \"role\" \"Role\" NOT NULL DEFAULT 'USER');\n\
             CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");\n",
            "CREATE TABLE \"Post\" (\"id\" SERIAL PRIMARY KEY, \"title\" TEXT, \"authorId\" INTEGER NOT NULL);\n\
             ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(\"id\");\n\
             CREATE INDEX \"Post_authorId_idx\" ON \"Post\"(\"authorId\");\n",
        ),
        Server::Mysql => (
            "CREATE TABLE `User` (`id` INTEGER NOT NULL AUTO_INCREMENT, `email` VARCHAR(191) NOT NULL, \
             `role` ENUM('USER', 'ADMIN') NOT NULL DEFAULT 'USER', UNIQUE INDEX `User_email_key`(`email`), PRIMARY KEY (`id`));\n",
            "CREATE TABLE `Post` (`id` INTEGER NOT NULL AUTO_INCREMENT, `title` VARCHAR(191) NULL, `authorId` INTEGER NOT NULL, \
             INDEX `Post_authorId_idx`(`authorId`), PRIMARY KEY (`id`));\n\
             ALTER TABLE `Post` ADD CONSTRAINT `Post_authorId_fkey` FOREIGN KEY (`authorId`) REFERENCES `User`(`id`);\n",
        ),
        Server::Sqlite => (
            "CREATE TABLE \"User\" (\"id\" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, \"email\" TEXT NOT NULL, \
             \"role\" TEXT NOT NULL DEFAULT 'USER' CHECK (\"role\" IN ('USER', 'ADMIN')));\n\
             CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");\n",
            "CREATE TABLE \"Post\" (\"id\" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, \"title\" TEXT, \"authorId\" INTEGER NOT NULL, \
             CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\" (\"id\"));\n\
             CREATE INDEX \"Post_authorId_idx\" ON \"Post\"(\"authorId\");\n",
        ),
    };
    let drop = if server == Server::Mysql {
        "ALTER TABLE `Post` DROP COLUMN `title`;\n"
    } else {
        "ALTER TABLE \"Post\" DROP COLUMN \"title\";\n"
    };
    [
        ("20990101000000_users", users.to_owned()),
        ("20990102000000_posts", posts.to_owned()),
        ("20990103000000_drop_title", drop.to_owned()),
        (
            "20990104000000_broken",
            "CREATE TABLE half_done (id INTEGER);\nSELECT * FROM no_such_table;\n".to_owned(),
        ),
    ]
}

fn a_realistic_folder_is_applied(server: Server) {
    let m = Migrating::new(server, "dev");
    let baseline = m.project.migration_dirs()[0].clone();
    for (name, sql) in realistic_folder(server) {
        m.write(name, &sql);
    }

    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 1, "{report}");
    let result = &report["result"];
    assert_eq!(
        result["applied"],
        serde_json::json!([
            "20990101000000_users",
            "20990102000000_posts",
            "20990103000000_drop_title"
        ]),
        "{report}"
    );
    assert_eq!(result["failed"], "20990104000000_broken", "{report}");
    assert_eq!(result["pending"], serde_json::json!([]), "{report}");
    let lint = result["lint"].to_string();
    assert!(
        lint.contains("20990103000000_drop_title") && lint.contains("drops a column"),
        "{lint}"
    );
    assert!(
        report["recovery"]["suggestions"]
            .to_string()
            .contains("faber-db resolve dev --rolled-back 20990104000000_broken"),
        "{report}"
    );

    // The database's own state: every table, the foreign key, the index, the
    // dropped column gone.
    let tables = m.tables();
    for table in ["User", "Post", "_prisma_migrations"] {
        assert!(tables.contains(&table.to_owned()), "{table} in {tables:?}");
    }
    assert!(
        !m.target
            .columns("Post")
            .iter()
            .any(|c| c.starts_with("title|")),
        "{:?}",
        m.target.columns("Post")
    );
    let fk_and_index = match server {
        Server::Postgres => m.target.query(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' \
             UNION ALL SELECT indexname FROM pg_indexes WHERE indexname = 'Post_authorId_idx' \
             UNION ALL SELECT typname FROM pg_type WHERE typname = 'Role'",
        ),
        Server::Mysql => m.target.query(
            "SELECT constraint_name FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE() \
             UNION ALL SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = 'Post_authorId_idx' \
             UNION ALL SELECT column_type FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name = 'role'",
        ),
        Server::Sqlite => m.target.query(
            "SELECT 'fk' FROM pragma_foreign_key_list('Post') \
             UNION ALL SELECT name FROM sqlite_master WHERE name = 'Post_authorId_idx' \
             UNION ALL SELECT 'Role' FROM sqlite_master WHERE name = 'User' AND sql LIKE '%CHECK%'",
        ),
    };
    assert_eq!(fk_and_index.len(), 3, "{fk_and_index:?}");
    if server == Server::Postgres {
        // One transaction: the failed migration left nothing of its work.
        assert!(!tables.contains(&"half_done".to_owned()), "{tables:?}");
    }

    // Prisma's bookkeeping: the failed row keeps its error, unfinished, no step.
    assert_eq!(
        m.rows(),
        [
            format!("{baseline}|finished|-|1|no-logs"),
            "20990101000000_users|finished|-|1|no-logs".to_owned(),
            "20990102000000_posts|finished|-|1|no-logs".to_owned(),
            "20990103000000_drop_title|finished|-|1|no-logs".to_owned(),
            "20990104000000_broken|unfinished|-|0|logs".to_owned(),
        ]
    );
    let checksum = m.target.query(
        "SELECT checksum FROM _prisma_migrations WHERE migration_name = '20990101000000_users'",
    );
    assert_eq!(
        checksum,
        [crate::support::sha256_hex(
            realistic_folder(server)[0].1.as_bytes()
        )]
    );

    // Nothing more is applied until the failure is resolved.
    m.write(
        "20990105000000_after",
        "CREATE TABLE after_broken (id INTEGER);\n",
    );
    let (code, refused) = m.migrate(&[]);
    assert_eq!(code, 1, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("20990104000000_broken"),
        "{refused}"
    );
    assert_eq!(refused["result"]["applied"], serde_json::json!([]));
    assert!(!m.tables().contains(&"after_broken".to_owned()));

    // Resolved through the CLI, fixed, applied again.
    let resolved = m
        .run(&[
            "resolve",
            "dev",
            "--rolled-back",
            "20990104000000_broken",
            "--json",
        ])
        .assert_success();
    assert_eq!(resolved["result"]["resolved"]["resolution"], "rolled-back");
    m.write(
        "20990104000000_broken",
        "CREATE TABLE IF NOT EXISTS half_done (id INTEGER);\n",
    );
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["result"]["applied"],
        serde_json::json!(["20990104000000_broken", "20990105000000_after"])
    );
    let rows = m.rows();
    assert!(
        rows.contains(&"20990104000000_broken|unfinished|rolled-back|0|logs".to_owned()),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"20990104000000_broken|finished|-|1|no-logs".to_owned()),
        "{rows:?}"
    );

    // Up to date: a success that says so. An edited applied file is reported.
    m.write(
        "20990101000000_users",
        &format!("{}-- edited\n", realistic_folder(server)[0].1),
    );
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    assert!(
        report["message"].as_str().unwrap().contains("up to date"),
        "{report}"
    );
    assert_eq!(
        report["result"]["modified"],
        serde_json::json!(["20990101000000_users"])
    );
}

#[test]
fn a_realistic_folder_on_postgresql() {
    a_realistic_folder_is_applied(Server::Postgres);
}

#[test]
fn a_realistic_folder_on_mariadb() {
    a_realistic_folder_is_applied(Server::Mysql);
}

#[test]
fn a_realistic_folder_on_sqlite() {
    a_realistic_folder_is_applied(Server::Sqlite);
}

/// On PostgreSQL a migration and its rows commit together: a failing one
/// leaves none of its statements and Prisma's failed row; one that cannot
/// run in a transaction block runs as Prisma runs it, and is recorded.
#[test]
fn a_postgres_migration_commits_with_its_rows_or_runs_as_prisma_runs_it() {
    let m = Migrating::new(Server::Postgres, "dev");
    m.write(
        "20990101000000_accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY);\n",
    );
    m.write(
        "20990102000000_account_index",
        "CREATE INDEX CONCURRENTLY account_id ON account (id);\n",
    );
    m.write(
        "20990103000000_broken",
        "CREATE TABLE invoice (id INTEGER);\nINSERT INTO plan (id) VALUES (1);\n",
    );
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        m.target.query("SELECT indexname FROM pg_indexes WHERE tablename = 'account' AND indexname = 'account_id'"),
        ["account_id"]
    );
    assert!(!m.tables().contains(&"invoice".to_owned()), "{report}");
    let rows = m.rows();
    for applied in ["20990101000000_accounts", "20990102000000_account_index"] {
        assert!(
            rows.contains(&format!("{applied}|finished|-|1|no-logs")),
            "{rows:?}"
        );
    }
    assert!(
        rows.contains(&"20990103000000_broken|unfinished|-|0|logs".to_owned()),
        "{rows:?}"
    );
}

#[test]
fn a_dry_run_shows_the_plan_with_its_sql_changes_nothing_and_logs_that() {
    let m = Migrating::new(Server::Postgres, "dev");
    m.write(
        "20990101000000_t",
        "CREATE TABLE t (id INTEGER);\nDROP TABLE t;\n",
    );
    let before = m.rows();
    let (code, report) = m.migrate(&["--dry-run"]);
    assert_eq!(code, 0, "{report}");
    let plan = &report["result"]["plan"][0];
    assert_eq!(plan["name"], "20990101000000_t");
    assert!(plan["sql"].as_str().unwrap().contains("CREATE TABLE t"));
    assert_eq!(
        plan["flagged"][0]["reason"], "drops a table and its data",
        "{report}"
    );
    assert_eq!(
        report["result"]["pending"],
        serde_json::json!(["20990101000000_t"])
    );
    assert_eq!(m.rows(), before);
    assert!(!m.tables().contains(&"t".to_owned()));
    // The handler read through the session `status` uses, which the server
    // keeps from writing (`status::the_reading_session_can_change_nothing`).
    assert_eq!(
        report["result"]["handler_session"]["kind"], "read-only-account",
        "{report}"
    );
    assert_eq!(report["result"]["lock"], Value::Null);
    let log = m.project.operation_log();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["operation"], "migrate");
    assert_eq!(last["dry_run"], true, "{last}");
    assert_eq!(last["migrations"], serde_json::json!(["20990101000000_t"]));
}

/// Answers the approval prompt through a pseudo-terminal (util-linux `script`).
fn migrate_at_the_prompt(m: &Migrating, answer: &str) -> (i32, String) {
    let command = format!(
        "{BIN} migrate production --cwd {}",
        m.project.path().display()
    );
    crate::support::through_a_terminal(&command, &[(m.variable, m.url())], &m.project.cache, answer)
}

#[test]
fn a_protected_environment_shows_migrations_and_destructive_statements_before_asking() {
    let m = Migrating::new(Server::Postgres, "production");
    m.write("20990101000000_keep", "CREATE TABLE keep (id INTEGER);\n");
    m.write("20990102000000_wipe", "TRUNCATE keep;\n");
    let (code, screen) = migrate_at_the_prompt(&m, "2\n");
    assert!(
        screen.contains("PRODUCTION OPERATION REQUIRES APPROVAL"),
        "{screen}"
    );
    assert!(
        screen.contains("20990101000000_keep") && screen.contains("20990102000000_wipe"),
        "{screen}"
    );
    assert!(
        screen.contains("TRUNCATE keep") && screen.contains("deletes every row"),
        "{screen}"
    );
    assert_eq!(code, 3, "{screen}");
    assert!(!m.tables().contains(&"keep".to_owned()));

    let refused = m.run(&["migrate", "production", "--json"]);
    assert_eq!(
        refused.code, 1,
        "no terminal, no --approve: {}",
        refused.stdout
    );
    assert!(
        refused.json()["recovery"]
            .to_string()
            .contains("faber-db migrate production --approve")
    );

    let (code, screen) = migrate_at_the_prompt(&m, "1\n");
    assert_eq!(code, 0, "{screen}");
    assert!(m.tables().contains(&"keep".to_owned()));
}

#[test]
fn an_older_handler_is_not_asked_to_migrate() {
    let project = Project::with_config(&serde_json::json!({
        "database": {"provider": "sqlite", "migration_tool": "legacy-handler"},
        "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"}},
        "migrations": {"directory": "db"},
    }));
    let wasm = component("legacy-handler-v0-1-0");
    project
        .run(&["handler", "add", wasm.to_str().unwrap(), "--json"], &[])
        .assert_success();
    let url = "file:./legacy.db";
    project
        .run(&["init", "dev", "--json"], &[("DEV_DATABASE_URL", url)])
        .assert_success();
    let run = project.run(&["migrate", "dev", "--json"], &[("DEV_DATABASE_URL", url)]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = run.json();
    let text = report.to_string();
    assert!(
        text.contains("faber:db@0.3.0") && text.contains("faber:db@0.1.0"),
        "{report}"
    );
}

/// A handler built for 0.4.0 writes its rows itself, apart from the
/// script: the host still runs its migrations and it still records them.
fn a_handler_built_for_0_4_0_still_migrates(server: Server) {
    let project = Project::with_config(&serde_json::json!({
        "database": {"provider": server.provider(), "migration_tool": "legacy-handler-v0-4-0"},
        "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"}},
        "migrations": {"directory": "db"},
    }));
    let wasm = component("legacy-handler-v0-4-0");
    project
        .run(&["handler", "add", wasm.to_str().unwrap(), "--json"], &[])
        .assert_success();
    let target = Target::new(server, &unique("fdblegacy"), project.path());
    let url = target.url();
    let env = [("DEV_DATABASE_URL", url.as_str())];
    project
        .run(&["init", "dev", "--json"], &env)
        .assert_success();
    std::fs::write(
        project.path().join("db/0002_items.sql"),
        "CREATE TABLE items (id INTEGER);\nINSERT INTO items VALUES (7);\n",
    )
    .unwrap();
    let report = project
        .run(&["migrate", "dev", "--json"], &env)
        .assert_success();
    assert_eq!(
        report["result"]["applied"],
        serde_json::json!(["0002_items"])
    );
    assert_eq!(target.query("SELECT id FROM items"), ["7"]);
    assert_eq!(
        target.query("SELECT name FROM legacy_migrations ORDER BY name"),
        ["0001_baseline", "0002_items"]
    );
}

#[test]
fn a_handler_built_for_0_4_0_still_migrates_on_sqlite() {
    a_handler_built_for_0_4_0_still_migrates(Server::Sqlite);
}

#[test]
fn a_handler_built_for_0_4_0_still_migrates_on_postgresql() {
    a_handler_built_for_0_4_0_still_migrates(Server::Postgres);
}

fn the_lock_wait_is_configurable_and_its_expiry_is_named(server: Server, lock: &str) {
    let m = Migrating::new(server, "dev");
    m.project.update_config(|config| {
        config["migrations"]["lock_timeout_seconds"] = serde_json::json!(1);
    });
    m.write("20990101000000_t", "CREATE TABLE t (id INTEGER);\n");
    let mut holder = m.hold_lock();
    let started = std::time::Instant::now();
    let (code, report) = m.migrate(&[]);
    let waited = started.elapsed();
    holder.kill().ok();
    holder.wait().ok();
    assert_eq!(code, 1, "{report}");
    let error = report["error"].as_str().unwrap();
    assert!(error.contains("Timed out after 1s"), "{report}");
    assert!(error.contains(lock), "{report}");
    let recovery = report["recovery"].to_string();
    assert!(recovery.contains("lock_timeout_seconds"), "{report}");
    if server == Server::Sqlite {
        assert!(
            recovery.contains("transaction open on the file"),
            "{report}"
        );
    }
    assert!(
        waited.as_secs_f64() < 5.0,
        "gave up after the configured wait: {waited:?}"
    );
    assert!(!m.tables().contains(&"t".to_owned()));
    // Once the lock is free (a server notices the holder's end only after
    // its statement), the same run goes through; with a longer wait, as
    // MySQL's named lock is the whole server's, other tests' too.
    m.project.update_config(|config| {
        config["migrations"]["lock_timeout_seconds"] = serde_json::json!(30);
    });
    let (code, report) = m.migrate(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["result"]["lock"], lock, "{report}");
    assert!(m.tables().contains(&"t".to_owned()));
}

#[test]
fn the_lock_wait_on_postgresql_is_configurable_and_its_expiry_is_named() {
    the_lock_wait_is_configurable_and_its_expiry_is_named(
        Server::Postgres,
        "pg_advisory_lock(72707369)",
    );
}

#[test]
fn the_lock_wait_on_mariadb_is_configurable_and_its_expiry_is_named() {
    the_lock_wait_is_configurable_and_its_expiry_is_named(
        Server::Mysql,
        "GET_LOCK('prisma_migrate')",
    );
}

/// On SQLite the lock is the file's own: held by another connection (as
/// Prisma's engine holds it), faber-db waits for it, and gives up in time.
#[test]
fn the_lock_wait_on_sqlite_is_configurable_and_its_expiry_is_named() {
    the_lock_wait_is_configurable_and_its_expiry_is_named(
        Server::Sqlite,
        "PRAGMA locking_mode=EXCLUSIVE",
    );
}

/// A run holds a SQLite file from before its first read to its end, between
/// its migrations too, whatever the file's journal mode: no other
/// connection can write meanwhile.
fn a_run_holds_the_sqlite_file_to_its_end(journal: &str) {
    let m = Migrating::new(Server::Sqlite, "dev");
    assert_eq!(
        m.target.query(&format!("PRAGMA journal_mode={journal}")),
        [journal]
    );
    for i in 0..6 {
        m.write(
            &format!("2099010100{i:04}_count"),
            &format!(
                "CREATE TABLE count_{i} AS SELECT count(*) AS n FROM (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) SELECT x FROM n);\n"
            ),
        );
    }
    let mut run = m
        .project
        .command(&["migrate", "dev", "--json"])
        .env(m.variable, m.url())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Held twice in a row, 50 ms apart: the run's own connections take
    // the file for an instant before the run holds it to its end.
    loop {
        assert!(run.try_wait().unwrap().is_none(), "the run ended first");
        if m.lock_held() {
            std::thread::sleep(std::time::Duration::from_millis(50));
            if m.lock_held() {
                break;
            }
        }
    }
    let mut refused = 0;
    while m.lock_held() {
        refused += 1;
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Free again only once every migration is recorded.
    let finished = m
        .target
        .query("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL AND migration_name LIKE '%_count'");
    assert_eq!(finished, ["6"], "after {refused} refused writes");
    assert!(refused > 5, "{refused}");
    let output = run.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "success", "{report}");
    assert_eq!(report["result"]["lock"], "PRAGMA locking_mode=EXCLUSIVE");
}

#[test]
fn a_run_holds_a_sqlite_file_in_rollback_journal_mode_to_its_end() {
    a_run_holds_the_sqlite_file_to_its_end("delete");
}

#[test]
fn a_run_holds_a_sqlite_file_in_wal_mode_to_its_end() {
    a_run_holds_the_sqlite_file_to_its_end("wal");
}

#[test]
fn generate_migration_writes_prismas_layout_from_a_file_or_an_empty_body() {
    let project = Project::new("sqlite");
    let sql = project.path().join("change.sql");
    std::fs::write(&sql, "CREATE TABLE g (id INTEGER);\n").unwrap();
    let made = project
        .run(
            &[
                "generate-migration",
                "Add Users",
                "--sql",
                sql.to_str().unwrap(),
                "--json",
            ],
            &[],
        )
        .assert_success();
    let path = made["result"]["path"].as_str().unwrap().to_owned();
    let name = made["result"]["migration"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with("prisma/migrations/") && path.ends_with("_add_users/migration.sql"),
        "{made}"
    );
    assert_eq!(name.len(), "YYYYMMDDHHMMSS_add_users".len(), "{made}");
    assert_eq!(
        std::fs::read_to_string(project.path().join(&path)).unwrap(),
        "CREATE TABLE g (id INTEGER);\n"
    );
    assert!(
        project
            .path()
            .join("prisma/migrations/migration_lock.toml")
            .is_file()
    );

    let empty = project
        .run(&["generate-migration", "fill me", "--json"], &[])
        .assert_success();
    let path = empty["result"]["path"].as_str().unwrap();
    assert_eq!(
        std::fs::read_to_string(project.path().join(path)).unwrap(),
        "-- This is an empty migration.\n"
    );
    assert!(
        empty["next_steps"]
            .to_string()
            .contains("prisma migrate diff"),
        "{empty}"
    );
}
