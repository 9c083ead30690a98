//! Fleet environments: one environment that is many databases, one per
//! tenant, on real servers and SQLite files, judged by what each tenant
//! database holds afterwards.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::servers::server_query;
use crate::support::{Project, Run, Server, Target, assert_never_shown, unique};

const ITEMS: &str = "20261201000000_items";
const WIDGETS: &str = "20261202000000_widgets";

/// A project whose environment `prod` (protected) is a fleet, with two
/// migrations.
fn fleet_project(provider: &str, fleet: Value) -> Project {
    let project = Project::with_config(&json!({
        "database": {"provider": provider, "hosting": "local", "migration_tool": "prisma"},
        "environments": {"prod": {
            "connection_string_env": "PROD_DATABASE_URL",
            "require_approval": true,
            "fleet": fleet,
        }},
        "migrations": {"directory": "prisma/migrations"},
        "integration": {"logs_plugin": "fractary-logs"}
    }));
    project.write_migration(
        ITEMS,
        "CREATE TABLE items (id INTEGER PRIMARY KEY);\nINSERT INTO items (id) VALUES (1);\n",
    );
    project.write_migration(WIDGETS, "CREATE TABLE widgets (id INTEGER);\n");
    project
}

/// The tenant entries of a fleet report, by key.
fn tenants(report: &Value) -> std::collections::BTreeMap<String, Value> {
    report["result"]["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["tenant"].as_str().unwrap().to_owned(), entry.clone()))
        .collect()
}

/// Each tenant's tracking rows and `items` rows, read with the server's client.
fn assert_migrated_once(target: &Target) {
    let rows = target.query(&format!(
        "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND migration_name IN ('{ITEMS}', '{WIDGETS}') ORDER BY migration_name"
    ));
    assert_eq!(rows, [ITEMS, WIDGETS], "{}", target.name);
    assert_eq!(
        target.query("SELECT count(*) FROM items"),
        ["1"],
        "{}",
        target.name
    );
}

/// Runs `command`, sampling the sessions it holds open on the PostgreSQL
/// server (each names its process in `application_name`); returns the run
/// and the most sessions seen at once.
fn sampling_connections(mut command: std::process::Command) -> (Run, usize) {
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let sql = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'faber-db (pid {})'",
        child.id()
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut peak = 0;
    let run = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            let output = child.wait_with_output().unwrap();
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            Run::from(output)
        });
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            let open: usize = server_query(Server::Postgres, &sql)[0].parse().unwrap();
            peak = peak.max(open);
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        waiting.join().unwrap()
    });
    (run, peak)
}

/// A PostgreSQL database `<prefix>_<key>` for each of `keys`, created on
/// the server (and dropped when its `Target` is).
fn postgres_tenants(project: &Project, prefix: &str, keys: &[String]) -> Vec<Target> {
    keys.iter()
        .map(|key| {
            let target = Target::new(Server::Postgres, &format!("{prefix}_{key}"), project.path());
            server_query(
                Server::Postgres,
                &format!("CREATE DATABASE {}", target.name),
            );
            target
        })
        .collect()
}

#[test]
fn a_postgres_fleet_migrates_every_tenant_once_and_names_the_broken_and_the_unreachable() {
    const TENANTS: usize = 200;
    let prefix = unique("fdbfleet");
    let project = fleet_project(
        "postgresql",
        json!({
            "tenants": {"file": "tenants.txt"},
            "database": format!("{prefix}_{{tenant}}"),
            "servers": {"main": "FLEET_MAIN_URL", "down": "FLEET_DOWN_URL"}
        }),
    );
    let keys: Vec<String> = (0..TENANTS).map(|i| format!("t{i:03}")).collect();
    // The second migration fails on one tenant, after its first applied.
    project.write_migration(
        WIDGETS,
        "CREATE TABLE widgets (id INTEGER);\nDO $$ BEGIN IF current_database() LIKE '%_t007' THEN RAISE EXCEPTION 'broken tenant'; END IF; END $$;\n",
    );
    let mut list: String = keys.iter().map(|key| format!("{key} main\n")).collect();
    list.push_str("# a tenant whose server is down\nghost down\n");
    std::fs::write(project.path().join("tenants.txt"), list).unwrap();
    let targets = postgres_tenants(&project, &prefix, &keys);
    let password = "fleet-s3cret-pw";
    let main =
        Server::Postgres
            .base_url()
            .replacen("postgres@", &format!("postgres:{password}@"), 1);
    let env = [
        ("FLEET_MAIN_URL", main.as_str()),
        ("FLEET_DOWN_URL", "postgresql://postgres@127.0.0.1:1/x"),
    ];
    let args = [
        "migrate",
        "prod",
        "--approve",
        "--json",
        "--concurrency",
        "6",
    ];
    let mut command = project.command(&args);
    command.envs(env);
    let (first, peak) = sampling_connections(command);
    let report = first.json();
    assert_eq!(first.code, 1, "{}", first.stderr);
    let counts = &report["result"]["counts"];
    assert_eq!(counts["migrated"], TENANTS - 1, "{counts}");
    assert_eq!(counts["failed"], 1, "{counts}");
    assert_eq!(counts["unreachable"], 1, "{counts}");
    let limit = report["result"]["connection_limit"].as_u64().unwrap() as usize;
    assert_eq!(limit, 6 * 4);
    assert!(peak > 0, "no session of the run was seen");
    assert!(peak <= limit, "{peak} connections open, {limit} promised");
    let entries = tenants(&report);
    let broken = &entries["t007"];
    assert_eq!(broken["state"], "failed");
    assert_eq!(broken["failed_migration"], WIDGETS, "{broken}");
    assert!(
        broken["recovery"][0]
            .as_str()
            .unwrap()
            .contains("faber-db resolve prod --tenant t007 --rolled-back"),
        "{broken}"
    );
    assert_eq!(entries["ghost"]["state"], "unreachable");
    assert!(
        entries["ghost"]["error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:1"),
        "{}",
        entries["ghost"]
    );
    for (index, target) in targets.iter().enumerate() {
        if index != 7 {
            assert_migrated_once(target);
        }
    }
    assert_eq!(
        targets[7].query(
            "SELECT migration_name, finished_at IS NULL FROM _prisma_migrations ORDER BY migration_name"
        ),
        [format!("{ITEMS}|f"), format!("{WIDGETS}|t")]
    );

    // Again: the resume. Nothing is applied twice.
    let again = project.run(&args, &env);
    let report = again.json();
    assert_eq!(report["result"]["counts"]["up-to-date"], TENANTS - 1);
    assert_eq!(tenants(&report)["t007"]["state"], "failed");
    for target in targets.iter().filter(|t| t.name != targets[7].name) {
        assert_migrated_once(target);
    }

    let status = project.run(&["status", "prod", "--json"], &env);
    let fleet = &status.json()["result"]["environments"][0]["fleet"];
    assert_eq!(fleet["counts"]["up-to-date"], TENANTS - 1, "{fleet}");
    assert_eq!(fleet["counts"]["failed"], 1);
    assert_eq!(fleet["counts"]["unreachable"], 1);
    assert_eq!(fleet["applied"][WIDGETS], TENANTS - 1);
    assert_eq!(fleet["applied"][ITEMS], TENANTS);
    let problems: Vec<&str> = fleet["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(problems, ["ghost", "t007"]);
    assert_eq!(
        fleet["problems"][1]["detail"],
        format!("migration {WIDGETS} failed")
    );

    // The daily operations, in human output too, for the secrets scan.
    let mut list = std::fs::read_to_string(project.path().join("tenants.txt")).unwrap();
    list.push_str("t999 main\n");
    std::fs::write(project.path().join("tenants.txt"), list).unwrap();
    let new_tenant = project.run(&["init", "prod", "--tenant", "t999", "--approve"], &env);
    assert_eq!(
        new_tenant.code, 0,
        "{}\n{}",
        new_tenant.stdout, new_tenant.stderr
    );
    let added = Target::new(Server::Postgres, &format!("{prefix}_t999"), project.path());
    assert_migrated_once(&added);
    let resolve = [
        "resolve",
        "prod",
        "--tenant",
        "t007",
        "--rolled-back",
        WIDGETS,
        "--approve",
        "--output",
        "ndjson",
    ];
    let resolved = project.run(&resolve, &env);
    assert_eq!(resolved.code, 0, "{}", resolved.stdout);
    let dry_run = project.run(&["migrate", "prod", "--dry-run"], &env);
    let outputs = [first, again, status, new_tenant, resolved, dry_run]
        .into_iter()
        .enumerate()
        .flat_map(|(i, run)| {
            [
                (format!("run {i} stdout"), run.stdout),
                (format!("run {i} stderr"), run.stderr),
            ]
        })
        .collect::<Vec<_>>();
    assert_never_shown(password, &outputs, &[project.path()]);
}

#[test]
fn a_fleet_run_killed_mid_migration_leaves_nothing_half_recorded_and_the_rerun_applies_each_once() {
    const TENANTS: usize = 24;
    let prefix = unique("fdbkill");
    let project = fleet_project(
        "postgresql",
        json!({"tenants": {"databases_like": format!("{prefix}_%")}}),
    );
    // Slow enough that the kill lands inside a migration's script.
    project.write_migration(
        WIDGETS,
        "CREATE TABLE widgets (id INTEGER);\nINSERT INTO widgets VALUES (1);\nSELECT pg_sleep(0.3);\n",
    );
    let keys: Vec<String> = (0..TENANTS).map(|i| format!("t{i:02}")).collect();
    let targets = postgres_tenants(&project, &prefix, &keys);
    let url = Server::Postgres.base_url();
    let env = [("PROD_DATABASE_URL", url.as_str())];
    let args = [
        "migrate",
        "prod",
        "--approve",
        "--json",
        "--concurrency",
        "4",
    ];
    let mut command = project.command(&args);
    let mut child = command
        .envs(env)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let sessions = format!("application_name = 'faber-db (pid {})'", child.id());
    let sleeping = format!(
        "SELECT datname FROM pg_stat_activity WHERE {sessions} AND state = 'active' AND query LIKE '%pg_sleep(0.3)%'"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    // Killed inside a migration's script, once several tenants have been
    // through theirs.
    let mut seen = BTreeSet::new();
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached a migration's script"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        let now = server_query(Server::Postgres, &sleeping);
        let running = now.iter().any(|name| !name.is_empty());
        seen.extend(now);
        if running && seen.len() > 6 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The server ends the killed run's sessions once it notices them gone.
    let open = format!("SELECT count(*) FROM pg_stat_activity WHERE {sessions}");
    while server_query(Server::Postgres, &open) != ["0"] {
        assert!(
            std::time::Instant::now() < deadline,
            "the killed run's sessions stayed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut untouched = 0;
    for target in &targets {
        if target.query("SELECT to_regclass('_prisma_migrations') IS NULL") == ["t"] {
            untouched += 1;
            continue;
        }
        let rows = target.query(
            "SELECT migration_name, finished_at IS NOT NULL FROM _prisma_migrations ORDER BY migration_name",
        );
        // Each migration's table exists exactly when its finished row does.
        let expected: Vec<String> = [(ITEMS, "items"), (WIDGETS, "widgets")]
            .into_iter()
            .filter(|(_, table)| {
                target.query(&format!("SELECT to_regclass('{table}') IS NOT NULL")) == ["t"]
            })
            .map(|(migration, _)| format!("{migration}|t"))
            .collect();
        assert_eq!(rows, expected, "{}: half-recorded", target.name);
    }
    assert!(untouched < TENANTS, "the killed run migrated no tenant");

    let again = project.run(&args, &env);
    let report = again.assert_success();
    assert_eq!(
        report["result"]["counts"]["migrated"].as_u64().unwrap()
            + report["result"]["counts"]["up-to-date"].as_u64().unwrap(),
        TENANTS as u64,
        "{}",
        report["result"]["counts"]
    );
    for target in &targets {
        assert_migrated_once(target);
        assert_eq!(
            target.query("SELECT count(*) FROM _prisma_migrations"),
            ["2"],
            "{}",
            target.name
        );
        assert_eq!(
            target.query("SELECT count(*) FROM widgets"),
            ["1"],
            "{}",
            target.name
        );
    }
}

#[test]
fn a_mysql_fleet_of_databases_like_a_pattern_is_initialized_and_migrated() {
    let prefix = unique("fdbmf");
    let project = fleet_project(
        "mysql",
        json!({"tenants": {"databases_like": format!("{prefix}_%")}}),
    );
    let url = Server::Mysql.base_url();
    let env = [("PROD_DATABASE_URL", url.as_str())];
    let keys = ["a1", "b2", "c3", "d4", "e5"];
    let mut init = vec!["init", "prod", "--approve", "--json"];
    for key in &keys {
        init.extend(["--tenant", key]);
    }
    let created = project.run(&init, &env);
    let report = created.assert_success();
    assert_eq!(report["result"]["counts"]["initialized"], keys.len());
    let targets: Vec<Target> = keys
        .iter()
        .map(|key| Target::new(Server::Mysql, &format!("{prefix}_{key}"), project.path()))
        .collect();
    // init brought each new tenant up to date.
    for target in &targets {
        assert_migrated_once(target);
    }
    // A new migration, which one tenant cannot take.
    project.write_migration(
        "20261203000000_gadgets",
        "CREATE TABLE gadgets (id INTEGER);\n",
    );
    targets[2].query("CREATE TABLE gadgets (x INTEGER)");
    let run = project.run(&["migrate", "prod", "--approve", "--json"], &env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["result"]["listed"], keys.len());
    assert_eq!(report["result"]["counts"]["migrated"], keys.len() - 1);
    let entries = tenants(&report);
    assert_eq!(entries["c3"]["state"], "failed");
    assert_eq!(entries["c3"]["failed_migration"], "20261203000000_gadgets");
    for (index, target) in targets.iter().enumerate() {
        let applied = target.query(
            "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '20261203000000_gadgets' AND finished_at IS NOT NULL",
        );
        assert_eq!(
            applied,
            [if index == 2 { "0" } else { "1" }],
            "{}",
            target.name
        );
    }
}

/// A SQLite fleet of `count` tenant files, created with `init --tenant`.
fn sqlite_fleet(count: usize) -> (Project, Vec<String>) {
    let project = fleet_project(
        "sqlite",
        json!({"tenants": {"sqlite_files": "tenants/*.db"}}),
    );
    let keys: Vec<String> = (0..count).map(|i| format!("k{i:02}")).collect();
    let mut init = vec!["init", "prod", "--approve", "--json"];
    for key in &keys {
        init.extend(["--tenant", key.as_str()]);
    }
    project.run(&init, &[]).assert_success();
    (project, keys)
}

/// The first of a report's recovery suggestions.
fn first_help(report: &Value) -> &str {
    report["recovery"]["suggestions"][0].as_str().unwrap()
}

/// Rows of `sql` in tenant `key`'s file of a `tenants/*.db` fleet.
fn sqlite_rows(project: &Project, key: &str, sql: &str) -> Vec<String> {
    sqlite_file_rows(&project.path().join(format!("tenants/{key}.db")), sql)
}

/// Rows of `sql` in a SQLite file, read with `sqlite3`.
fn sqlite_file_rows(file: &std::path::Path, sql: &str) -> Vec<String> {
    let output = std::process::Command::new("sqlite3")
        .args(["-separator", "|"])
        .arg(file)
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_sqlite_fleet_reports_a_line_per_tenant_and_a_broken_one_with_its_recovery() {
    let (project, keys) = sqlite_fleet(12);
    project.write_migration(
        "20261203000000_gadgets",
        "CREATE TABLE gadgets (id INTEGER);\n",
    );
    sqlite_rows(&project, "k04", "CREATE TABLE gadgets (x INTEGER)");
    let run = project.run(&["migrate", "prod", "--approve", "--output", "ndjson"], &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), keys.len() + 1, "{}", run.stdout);
    let summary = lines.last().unwrap();
    assert_eq!(summary["result"]["counts"]["migrated"], keys.len() - 1);
    let broken = lines.iter().find(|line| line["tenant"] == "k04").unwrap();
    assert_eq!(broken["state"], "failed");
    for key in &keys {
        let applied = sqlite_rows(
            &project,
            key,
            "SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL",
        );
        let expected = project.migration_dirs().len() - usize::from(key == "k04");
        assert_eq!(applied, [expected.to_string()], "{key}");
    }
    // Resolved on that one tenant, after fixing it, it catches up.
    sqlite_rows(&project, "k04", "DROP TABLE gadgets");
    let resolve = [
        "resolve",
        "prod",
        "--tenant",
        "k04",
        "--rolled-back",
        "20261203000000_gadgets",
        "--approve",
        "--json",
    ];
    let resolved = project.run(&resolve, &[]).assert_success();
    assert_eq!(resolved["result"]["counts"]["resolved"], 1);
    let rerun = project.run(&["migrate", "prod", "--approve", "--json"], &[]);
    let report = rerun.assert_success();
    assert_eq!(report["result"]["counts"]["migrated"], 1);
    assert_eq!(report["result"]["counts"]["up-to-date"], keys.len() - 1);
}

#[test]
fn four_shards_at_once_are_disjoint_cover_the_fleet_and_an_overlapping_rerun_applies_nothing_twice()
{
    let (project, keys) = sqlite_fleet(24);
    let shards: Vec<std::process::Child> = (0..4)
        .map(|index| {
            let shard = format!("{index}/4");
            project
                .command(&["migrate", "prod", "--approve", "--json", "--shard", &shard])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seen: Vec<BTreeSet<String>> = Vec::new();
    for child in shards {
        let run = Run::from(child.wait_with_output().unwrap());
        let report = run.assert_success();
        seen.push(tenants(&report).into_keys().collect());
    }
    let all: BTreeSet<String> = seen.iter().flatten().cloned().collect();
    assert_eq!(all, keys.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(
        seen.iter().map(BTreeSet::len).sum::<usize>(),
        keys.len(),
        "{seen:?}"
    );
    // The whole fleet again, two runs at once, over what the shards did.
    let both: Vec<std::process::Child> = (0..2)
        .map(|_| {
            project
                .command(&["migrate", "prod", "--approve", "--json"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in both {
        let report = Run::from(child.wait_with_output().unwrap()).assert_success();
        assert_eq!(report["result"]["counts"]["up-to-date"], keys.len());
    }
    for key in &keys {
        let rows = sqlite_rows(
            &project,
            key,
            "SELECT migration_name FROM _prisma_migrations",
        );
        assert_eq!(
            rows.len(),
            project.migration_dirs().len(),
            "{key}: {rows:?}"
        );
        assert_eq!(
            sqlite_rows(&project, key, "SELECT count(*) FROM items"),
            ["1"]
        );
    }
}

#[test]
fn fleet_flags_on_a_single_database_environment_are_refused_naming_the_fix() {
    let project = Project::new("sqlite");
    let run = project.run(&["migrate", "dev", "--tenant", "acme", "--json"], &[]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["error"], "Environment 'dev' is not a fleet");
    assert!(first_help(&report).contains("\"fleet\""));
}

#[test]
fn config_init_makes_production_a_fleet_and_refuses_a_pattern_that_cannot_place_a_tenant() {
    let project = Project::empty();
    let args = [
        "config",
        "init",
        "--provider",
        "postgresql",
        "--yes",
        "--json",
    ];
    let mut with_fleet = args.to_vec();
    with_fleet.extend(["--fleet", "tenant_%"]);
    project.run(&with_fleet, &[]).assert_success();
    let path = project
        .path()
        .join(".fractary/plugins/faber-db/config.json");
    let config: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        config["environments"]["production"]["fleet"],
        json!({"tenants": {"databases_like": "tenant_%"}})
    );
    let other = Project::empty();
    let mut bad = args.to_vec();
    bad.extend(["--fleet", "tenant"]);
    let refused = other.run(&bad, &[]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("exactly one %")
    );
    assert!(
        !other
            .path()
            .join(".fractary/plugins/faber-db/config.json")
            .exists()
    );
}

#[test]
fn a_protected_fleet_asks_once_for_the_whole_plan_and_a_terminal_less_run_needs_approve() {
    let (project, keys) = sqlite_fleet(3);
    project.write_migration("20261203000000_wipe", "DELETE FROM items;\n");
    let refused = project.run(&["migrate", "prod", "--json"], &[]);
    assert_eq!(refused.code, 1);
    let report = refused.json();
    assert!(first_help(&report).contains("--approve"), "{report}");
    let command = format!(
        "{} migrate prod --cwd {}",
        crate::support::BIN,
        project.path().display()
    );
    let (code, screen) = crate::support::through_a_terminal(&command, &[], &project.cache, "2\n");
    assert_eq!(code, 3, "{screen}");
    assert_eq!(screen.matches("REQUIRES APPROVAL").count(), 1, "{screen}");
    assert!(
        screen.contains("3 tenant database(s): k00, k01, k02"),
        "{screen}"
    );
    assert!(
        screen.contains("20261203000000_wipe (pending on 3 tenant(s))"),
        "{screen}"
    );
    assert!(screen.contains("DELETE without WHERE"), "{screen}");
    for key in &keys {
        assert_eq!(
            sqlite_rows(&project, key, "SELECT count(*) FROM items"),
            ["1"]
        );
    }
    let (code, screen) = crate::support::through_a_terminal(&command, &[], &project.cache, "1\n");
    assert_eq!(code, 0, "{screen}");
    assert_eq!(screen.matches("REQUIRES APPROVAL").count(), 1, "{screen}");
    for key in &keys {
        assert_eq!(
            sqlite_rows(&project, key, "SELECT count(*) FROM items"),
            ["0"]
        );
    }
}

#[test]
fn a_sqlite_fleet_listed_in_a_file_is_created_where_its_template_says() {
    let project = fleet_project(
        "sqlite",
        json!({"tenants": {"file": "tenants.txt"}, "database": "dbs/{tenant}.db"}),
    );
    std::fs::write(
        project.path().join("tenants.txt"),
        "alpha\nbeta # a comment\n",
    )
    .unwrap();
    let created = project.run(&["init", "prod", "--approve", "--json"], &[]);
    let report = created.assert_success();
    assert_eq!(report["result"]["counts"]["initialized"], 2, "{report}");
    for key in ["alpha", "beta"] {
        let file = project.path().join(format!("dbs/{key}.db"));
        assert_eq!(
            sqlite_file_rows(&file, "SELECT count(*) FROM items"),
            ["1"],
            "{key}"
        );
    }
    let again = project.run(&["init", "prod", "--approve", "--json"], &[]);
    assert_eq!(again.assert_success()["result"]["counts"]["exists"], 2);
    // The same fleet described as a server's databases does not fit SQLite.
    project.update_config(|config| {
        config["environments"]["prod"]["fleet"] = json!({"tenants": {"databases_like": "t_%"}});
    });
    let refused = project.run(&["migrate", "prod", "--approve", "--json"], &[]);
    assert_eq!(refused.code, 1);
    let report = refused.json();
    assert!(first_help(&report).contains("sqlite_files"), "{report}");
}
