//! What a handler says is checked before the host believes or repeats it:
//! its name and contract version, the work it reports, the text it prints;
//! what it leaves in the folder and the log is bounded; a bundled handler's
//! name is not taken silently; where least privilege cannot be had, a
//! third-party handler is refused.

use std::path::{Path, PathBuf};

use serde_json::json;

use faber_db::db::handler_session::owner_account;

use crate::support::servers::server_query;
use crate::support::{Project, Run, Server, Target, component, hostile_project, tree, unique};

/// The hostile fixture, patched in place to claim `name` and contract
/// version `wit` in its `info` (see its NAME_SLOT and WIT_SLOT).
fn impostor(dir: &Path, name: &str, wit: &str) -> PathBuf {
    let mut bytes = std::fs::read(component("hostile-handler")).unwrap();
    patch(
        &mut bytes,
        "hostile-handler#########################################",
        name,
    );
    patch(&mut bytes, "0.2.0#####", wit);
    let path = dir.join(format!(
        "impostor-{}.wasm",
        crate::support::sha256_hex(name.as_bytes())
    ));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn patch(bytes: &mut [u8], slot: &str, value: &str) {
    assert!(value.len() <= slot.len());
    let at = bytes
        .windows(slot.len())
        .position(|window| window == slot.as_bytes())
        .expect("the slot is in the component");
    let padded = format!("{value:#<width$}", width = slot.len());
    bytes[at..at + slot.len()].copy_from_slice(padded.as_bytes());
}

fn add(project: &Project, path: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["handler", "add", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    project.run(&args, &[])
}

fn lock_file(project: &Project) -> Option<String> {
    std::fs::read_to_string(
        project
            .path()
            .join(".fractary/plugins/faber-db/handlers.lock"),
    )
    .ok()
}

#[test]
fn a_name_or_contract_version_that_lies_is_refused_at_add_and_at_load() {
    let project = Project::new("sqlite");
    let outside = project.path().parent().unwrap().to_path_buf();
    let before = tree(&outside);
    let dir = tempfile::tempdir().unwrap();
    for (name, wit, why) in [
        ("../../escaped", "0.2.0", "not kebab-case"),
        ("Hostile_Handler", "0.2.0", "not kebab-case"),
        ("hostile-handler", "0.1.0", "claims contract faber:db@0.1.0"),
    ] {
        let run = add(&project, &impostor(dir.path(), name, wit), &[]);
        assert_eq!(run.code, 1, "{name}: {}", run.stdout);
        assert!(
            run.json()["cause"].as_str().unwrap().contains(why),
            "{}",
            run.stdout
        );
    }
    // Nothing was installed or pinned, inside the project or beside it.
    assert_eq!(tree(&outside), before);
    assert_eq!(lock_file(&project), None);

    // A file dropped into the project's folder is checked at every load.
    let handlers = project.path().join(".fractary/plugins/faber-db/handlers");
    std::fs::create_dir_all(&handlers).unwrap();
    std::fs::copy(
        impostor(dir.path(), "hostile-handler", "0.1.0"),
        handlers.join("hostile-handler.wasm"),
    )
    .unwrap();
    project.update_config(|config| config["database"]["migration_tool"] = json!("hostile-handler"));
    let target = Target::new(Server::Sqlite, &unique("lie__fdb"), project.path());
    let run = project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", &target.url())],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.json()["step"]["number"], 12);
    assert!(!target.exists(), "nothing was created");
    assert_eq!(lock_file(&project), None, "nothing was pinned");
}

#[test]
fn a_bundled_handlers_name_is_taken_only_on_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let fake = impostor(dir.path(), "handler-db-prisma", "0.2.0");
    let short = impostor(dir.path(), "prisma", "0.2.0");

    let project = Project::new("sqlite");
    for path in [&fake, &short] {
        let run = add(&project, path, &[]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(
            run.stdout.contains("takes the name of a bundled handler"),
            "{}",
            run.stdout
        );
    }
    assert_eq!(lock_file(&project), None);
    assert!(
        !project
            .path()
            .join(".fractary/plugins/faber-db/handlers")
            .exists()
    );

    // Dropped into the folder without a pin, it is refused before it runs.
    let handlers = project.path().join(".fractary/plugins/faber-db/handlers");
    std::fs::create_dir_all(&handlers).unwrap();
    std::fs::copy(&fake, handlers.join("handler-db-prisma.wasm")).unwrap();
    let target = Target::new(Server::Sqlite, &unique("takeover__fdb"), project.path());
    let run = project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", &target.url())],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.json()["error"]
            .as_str()
            .unwrap()
            .contains("takes the name of a bundled handler")
    );
    assert!(!target.exists());
    std::fs::remove_file(handlers.join("handler-db-prisma.wasm")).unwrap();

    // With --replace-bundled it is added, and the output says what it replaces.
    let run = add(&project, &fake, &["--replace-bundled"]);
    let added = run.assert_success();
    assert!(added["result"]["replaces_bundled"].is_string(), "{added}");
    assert!(lock_file(&project).unwrap().contains("handler-db-prisma"));
}

#[test]
fn handler_text_reaches_the_terminal_without_escape_sequences() {
    let project = hostile_project("sqlite", json!({}));
    let info = project.run(&["handler", "info", "hostile-handler"], &[]);
    assert_eq!(info.code, 0, "{}", info.stderr);
    assert!(
        !info.stdout.contains('\x1b') && !info.stdout.contains('\u{202e}'),
        "{:?}",
        info.stdout
    );

    std::fs::create_dir_all(project.migrations()).unwrap();
    std::fs::write(project.migrations().join("attack.sql"), "SELECT 1").unwrap();
    let target = Target::new(Server::Sqlite, &unique("attack__fdb"), project.path());
    for json in [false, true] {
        target.drop_database();
        let mut args = vec!["init", "dev"];
        if json {
            args.push("--json");
        }
        let run = project.run(&args, &[("DEV_DATABASE_URL", &target.url())]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        for output in [&run.stdout, &run.stderr] {
            assert!(
                !output.contains('\x1b') && !output.contains('\r'),
                "{output:?}"
            );
        }
        assert!(
            run.stdout.contains("all good, nothing to see"),
            "the step is shown, cleaned"
        );
    }
}

/// A run that must fail at step 13 and leave nothing behind.
fn assert_refused(project: &Project, behaviour: &str, why: &str) {
    let target = Target::new(
        Server::Sqlite,
        &unique(&format!("{behaviour}__fdb")),
        project.path(),
    );
    let run = project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", &target.url())],
    );
    assert_eq!(run.code, 1, "{behaviour}: {}", run.stdout);
    let report = run.json();
    assert_eq!(report["step"]["number"], 13, "{report}");
    assert!(report.to_string().contains(why), "{behaviour}: {report}");
    assert!(!target.exists(), "{behaviour}: the database is gone");
    assert!(
        !project.migrations().exists(),
        "{behaviour}: the folder this run made is gone"
    );
}

#[test]
fn work_a_handler_reports_but_did_not_do_is_refused() {
    let project = hostile_project("sqlite", json!({}));
    assert_refused(&project, "lie-applied", "has no row for it");
    assert_refused(&project, "lie-files", "is not a plain name");
    assert!(!project.path().parent().unwrap().join("outside").exists());
}

#[test]
fn a_handler_cannot_fill_the_folder_or_the_log() {
    let project = hostile_project("sqlite", json!({}));
    // Stopped while it writes, not after: the cap holds during the call.
    assert_refused(
        &project,
        "flood-files",
        "wrote more than 64 MiB into its folder",
    );

    let target = Target::new(Server::Sqlite, &unique("flood-log__fdb"), project.path());
    let run = project.run(
        &["init", "dev", "--json"],
        &[("DEV_DATABASE_URL", &target.url())],
    );
    run.assert_success();
    assert!(
        run.stderr.len() < 1 << 20,
        "{} bytes of log",
        run.stderr.len()
    );
    assert!(run.stderr.contains("the rest is dropped"));
}

/// A login on the server that may create databases but not accounts.
struct Unprivileged {
    server: Server,
    user: String,
}

impl Unprivileged {
    fn new(server: Server) -> Unprivileged {
        let user = unique("fdb_nouser");
        match server {
            Server::Postgres => {
                server_query(server, &format!("CREATE ROLE {user} LOGIN CREATEDB"));
            }
            _ => {
                server_query(server, &format!("CREATE USER '{user}'@'%'"));
                server_query(
                    server,
                    &format!("GRANT ALL ON `attack\\_\\_%`.* TO '{user}'@'%'"),
                );
            }
        }
        Unprivileged { server, user }
    }

    fn url(&self, database: &str) -> String {
        match self.server {
            Server::Postgres => format!("postgresql://{}@127.0.0.1:5432/{database}", self.user),
            _ => format!("mysql://{}@127.0.0.1:3306/{database}", self.user),
        }
    }
}

impl Drop for Unprivileged {
    fn drop(&mut self) {
        match self.server {
            Server::Postgres => {
                server_query(self.server, &format!("DROP ROLE IF EXISTS {}", self.user));
            }
            _ => {
                server_query(
                    self.server,
                    &format!("DROP USER IF EXISTS '{}'@'%'", self.user),
                );
            }
        }
    }
}

#[test]
fn without_the_privilege_to_confine_a_third_party_handler_is_refused() {
    for server in [Server::Postgres, Server::Mysql] {
        let login = Unprivileged::new(server);
        let project = hostile_project(server.provider(), json!({}));
        std::fs::create_dir_all(project.migrations()).unwrap();
        std::fs::write(project.migrations().join("attack.sql"), "SELECT 1").unwrap();
        let target = Target::new(server, &unique("attack__nouser"), project.path());
        let run = project.run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &login.url(&target.name))],
        );
        assert_eq!(run.code, 1, "{server:?}: {}", run.stdout);
        let report = run.json();
        let missing = if server == Server::Postgres {
            "CREATEROLE"
        } else {
            "CREATE USER"
        };
        assert!(
            report["cause"].as_str().unwrap().contains(missing),
            "{report}"
        );
        let help = report["recovery"]["suggestions"].to_string();
        assert!(
            help.contains("handler_privileges") && help.contains("Grant it"),
            "{help}"
        );
        assert!(!target.exists(), "{server:?}: nothing is left");

        // Opting in runs it with the connection's privileges, and says so.
        project.update_config(|config| {
            config["environments"]["dev"]["handler_privileges"] = json!("connection")
        });
        let run = project.run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &login.url(&target.name))],
        );
        let report = run.assert_success();
        assert_eq!(
            report["result"]["handler_session"]["kind"],
            "connection-privileges"
        );
        assert!(!report["result"]["warnings"].as_array().unwrap().is_empty());
        let log: serde_json::Value =
            serde_json::from_str(project.operation_log().lines().last().unwrap()).unwrap();
        assert_eq!(log["unconfined_handler"], true);
        target.drop_database();

        // A bundled handler falls back to the connection's privileges, with a warning.
        let bundled = Project::new(server.provider());
        let target = Target::new(server, &unique("attack__bundled"), bundled.path());
        let run = bundled.run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &login.url(&target.name))],
        );
        let report = run.assert_success();
        assert_eq!(
            report["result"]["handler_session"]["kind"],
            "connection-privileges"
        );
        assert!(
            report["result"]["warnings"][0]
                .as_str()
                .unwrap()
                .contains("may not create accounts")
        );
    }
}

#[test]
fn accounts_left_by_a_killed_run_are_removed_later_and_no_others() {
    let expired = "fdb_h_1000000000_deadbeef";
    let current = "fdb_h_9999999999_cafecafe";
    let foreign = "fdb_hx_1000000000_deadbeef";
    // PostgreSQL: the expired role still owns a table in a database.
    let leftover = Target::new(Server::Postgres, &unique("fdb_leftover"), Path::new("."));
    for role in [current, foreign] {
        server_query(Server::Postgres, &format!("DROP ROLE IF EXISTS {role}"));
        server_query(Server::Postgres, &format!("CREATE ROLE {role} LOGIN"));
    }
    server_query(
        Server::Postgres,
        &format!("CREATE DATABASE {}", leftover.name),
    );
    // In one transaction: any other test's run may sweep the expired role
    // the moment it exists, and must then find it owning its table.
    leftover.query(&format!(
        "DROP ROLE IF EXISTS {expired}; CREATE ROLE {expired} LOGIN; \
         GRANT CREATE ON SCHEMA public TO {expired}; \
         SET ROLE {expired}; CREATE TABLE orphan (x INTEGER); RESET ROLE"
    ));
    for user in [expired, current, foreign] {
        server_query(Server::Mysql, &format!("DROP USER IF EXISTS '{user}'@'%'"));
        server_query(Server::Mysql, &format!("CREATE USER '{user}'@'%'"));
    }

    for server in [Server::Postgres, Server::Mysql] {
        let project = Project::new(server.provider());
        let target = Target::new(server, &unique("fdb_sweep"), project.path());
        project
            .run(
                &["init", "dev", "--json"],
                &[("DEV_DATABASE_URL", &target.url())],
            )
            .assert_success();
    }

    let roles = |names: &str| {
        server_query(
            Server::Postgres,
            &format!("SELECT rolname FROM pg_roles WHERE rolname IN ({names}) ORDER BY 1"),
        )
    };
    let users = |names: &str| {
        server_query(
            Server::Mysql,
            &format!("SELECT user FROM mysql.user WHERE user IN ({names}) ORDER BY 1"),
        )
    };
    let names = format!("'{expired}', '{current}', '{foreign}'");
    assert_eq!(roles(&names), [current, foreign]);
    assert_eq!(users(&names), [current, foreign]);
    // What the expired role owned passed to the database's owner role.
    assert_eq!(
        leftover.query("SELECT tableowner FROM pg_tables WHERE tablename = 'orphan'"),
        [owner_account(&leftover.name)]
    );
    for role in [current, foreign] {
        server_query(Server::Postgres, &format!("DROP ROLE {role}"));
        server_query(Server::Mysql, &format!("DROP USER '{role}'@'%'"));
    }
}

#[test]
fn a_project_may_name_its_own_unprivileged_account_for_handlers() {
    for server in [Server::Postgres, Server::Mysql] {
        let account = unique("fdb_app");
        let privileged = unique("fdb_app_admin");
        let url = |user: &str| match server {
            Server::Postgres => format!("postgresql://{user}@127.0.0.1:5432/ignored"),
            _ => format!("mysql://{user}@127.0.0.1:3306/ignored"),
        };
        match server {
            Server::Postgres => {
                server_query(server, &format!("CREATE ROLE {account} LOGIN"));
                server_query(
                    server,
                    &format!("CREATE ROLE {privileged} LOGIN CREATEROLE"),
                );
            }
            _ => {
                server_query(server, &format!("CREATE USER '{account}'@'%'"));
                server_query(server, &format!("CREATE USER '{privileged}'@'%'"));
                server_query(
                    server,
                    &format!("GRANT CREATE USER ON *.* TO '{privileged}'@'%'"),
                );
            }
        }
        let project = hostile_project(server.provider(), json!({}));
        project.update_config(|config| {
            config["environments"]["dev"]["handler_connection_string_env"] =
                json!("DEV_HANDLER_URL")
        });
        std::fs::create_dir_all(project.migrations()).unwrap();
        std::fs::write(
            project.migrations().join("attack.sql"),
            "CREATE TABLE own (x INTEGER)",
        )
        .unwrap();

        let target = Target::new(server, &unique("attack__project"), project.path());
        let run = project.run(
            &["init", "dev", "--json"],
            &[
                ("DEV_DATABASE_URL", &target.url()),
                ("DEV_HANDLER_URL", &url(&account)),
            ],
        );
        let report = run.assert_success();
        let session = &report["result"]["handler_session"];
        assert_eq!(session["kind"], "project-account", "{report}");
        assert_eq!(session["account"], account.as_str());
        assert_eq!(target.query("SELECT COUNT(*) FROM own"), ["0"]);
        target.drop_database();

        // An account with a server-wide privilege confines nothing: refused.
        let run = project.run(
            &["init", "dev", "--json"],
            &[
                ("DEV_DATABASE_URL", &target.url()),
                ("DEV_HANDLER_URL", &url(&privileged)),
            ],
        );
        assert_eq!(run.code, 1, "{}", run.stdout);
        let report = run.json();
        assert!(
            report["error"]
                .as_str()
                .unwrap()
                .contains("is not confined"),
            "{report}"
        );
        assert!(
            report["cause"].as_str().unwrap().contains("CREATE"),
            "{report}"
        );
        assert!(!target.exists());

        for user in [&account, &privileged] {
            match server {
                Server::Postgres => {
                    // What the account was granted goes with it.
                    server_query(server, &format!("DROP OWNED BY {user}; DROP ROLE {user}"));
                }
                _ => {
                    server_query(server, &format!("DROP USER '{user}'@'%'"));
                }
            }
        }
    }
}

/// The most memory any finished child of this test process used, in MiB
/// (each test runs in a process of its own).
fn children_peak_rss_mib() -> i64 {
    // SAFETY: getrusage fills the struct it is given and nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    usage.ru_maxrss / 1024
}

#[test]
fn statement_and_result_caps_hold_without_the_host_buffering_past_them() {
    for server in [Server::Postgres, Server::Mysql, Server::Sqlite] {
        let project = hostile_project(server.provider(), json!({}));
        // A 17 MiB statement; 200 rows of 1 MiB each.
        for behaviour in ["huge-statement", "huge-result"] {
            let target = Target::new(
                server,
                &unique(&format!("{behaviour}__fdb")),
                project.path(),
            );
            let run = project.run(
                &["init", "dev", "--json"],
                &[("DEV_DATABASE_URL", &target.url())],
            );
            let report = run.assert_success();
            assert_eq!(
                report["result"]["handler_sql"]["refused"], 1,
                "{server:?} {behaviour}: {report}"
            );
            // The handler carried on after the refusal, on a usable session.
            assert_eq!(target.query("SELECT COUNT(*) FROM hostile"), ["0"]);
        }
    }
    // Reading all 200 MiB before refusing would have taken the host far past
    // this; stopping at the 32 MiB cap keeps it near its usual size.
    let peak = children_peak_rss_mib();
    assert!(peak < 160, "a faber-db process peaked at {peak} MiB");
}
