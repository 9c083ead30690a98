//! Cloud hosting against the AWS RDS emulator: steps 8 and 9 through the
//! real handler-cloud-aws component and the host's RDS capability.

use serde_json::{Value, json};

use crate::support::cloud::{Moto, SlowProxy};
use crate::support::{Project, Run, Server, Target, unique};

/// A project named `shop` hosted on `hosting`, whose databases live on the
/// local PostgreSQL (the emulator's endpoints accept no connections).
pub fn project(hosting: &str, cloud_plugin: Option<&str>, cloud: Value) -> Project {
    let project = Project::named("shop");
    let config = json!({
        "database": {"provider": "postgresql", "hosting": hosting, "migration_tool": "prisma"},
        "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"}},
        "integration": {"cloud_plugin": cloud_plugin},
        "cloud": cloud,
    });
    project.write_config(&config.to_string());
    project
}

pub fn init(project: &Project, aws_endpoint: &str, target: &Target, extra: &[&str]) -> Run {
    let mut args = vec!["init", "dev", "--json"];
    args.extend_from_slice(extra);
    let mut command = project.command(&args);
    command.env("DEV_DATABASE_URL", target.url());
    for (key, value) in Moto::env(aws_endpoint) {
        command.env(key, value);
    }
    Run::from(command.output().unwrap())
}

pub fn fast() -> Value {
    json!({"poll_interval_seconds": 0.05, "tags": {"team": "data"}})
}

fn assert_tags(resource: &Value) {
    assert_eq!(resource["tags"]["faber-db:project"], "shop", "{resource}");
    assert_eq!(
        resource["tags"]["faber-db:environment"], "dev",
        "{resource}"
    );
    assert_eq!(resource["tags"]["managed-by"], "faber-db", "{resource}");
    assert_eq!(resource["tags"]["team"], "data", "{resource}");
}

#[test]
fn a_missing_aurora_cluster_is_provisioned_then_found() {
    let moto = Moto::start();
    let project = project("aws-aurora", Some("handler-cloud-aws"), fast());
    let first = Target::new(Server::Postgres, &unique("fdb_aurora"), project.path());
    let report = init(&project, &moto.url(), &first, &[]).assert_success();
    assert_eq!(report["result"]["infrastructure"], "provisioned");
    // The variable is set, so it wins: the host builds no connection.
    assert_eq!(report["result"]["connection"], Value::Null);
    assert!(
        report["result"]["endpoint"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );
    assert_eq!(report["result"]["steps"][8]["status"], "done");

    let clusters = moto.resources("clusters");
    assert_eq!(clusters.len(), 1, "{clusters:?}");
    assert_eq!(clusters[0]["id"], "shop-dev");
    assert_eq!(clusters[0]["engine"], "aurora-postgresql");
    assert_tags(&clusters[0]);
    let instances = moto.resources("instances");
    assert_eq!(instances.len(), 1, "{instances:?}");
    assert_eq!(instances[0]["id"], "shop-dev-writer");
    assert_eq!(instances[0]["cluster"], "shop-dev");
    assert_tags(&instances[0]);
    assert_eq!(
        report["result"]["created_resources"],
        json!([
            {"identifier": "shop-dev", "kind": "cluster", "instance_class": null, "engine": "aurora-postgresql"},
            {"identifier": "shop-dev-writer", "kind": "instance", "instance_class": "db.t4g.medium", "engine": "aurora-postgresql"},
        ])
    );

    // A second run finds it and creates nothing.
    let second = Target::new(Server::Postgres, &unique("fdb_aurora"), project.path());
    let report = init(
        &project,
        &moto.url(),
        &second,
        &["--database-name", &second.name],
    )
    .assert_success();
    assert_eq!(report["result"]["infrastructure"], "existing");
    assert!(
        report["result"]["steps"][7]["detail"]
            .as_str()
            .unwrap()
            .contains("Infrastructure already exists")
    );
    assert_eq!(report["result"]["steps"][8]["status"], "skipped");
    assert_eq!(moto.resources("clusters").len(), 1);
    assert_eq!(moto.resources("instances").len(), 1);
}

#[test]
fn a_missing_rds_instance_is_provisioned_then_found() {
    let moto = Moto::start();
    let project = project("aws-rds", Some("aws"), fast());
    let first = Target::new(Server::Postgres, &unique("fdb_rds"), project.path());
    let report = init(&project, &moto.url(), &first, &[]).assert_success();
    assert_eq!(report["result"]["infrastructure"], "provisioned");
    let instances = moto.resources("instances");
    assert_eq!(instances.len(), 1, "{instances:?}");
    assert_eq!(instances[0]["id"], "shop-dev");
    assert_eq!(instances[0]["engine"], "postgres");
    assert_eq!(instances[0]["cluster"], Value::Null);
    assert_tags(&instances[0]);
    assert!(moto.resources("clusters").is_empty());

    let second = Target::new(Server::Postgres, &unique("fdb_rds"), project.path());
    let report = init(
        &project,
        &moto.url(),
        &second,
        &["--database-name", &second.name],
    )
    .assert_success();
    assert_eq!(report["result"]["infrastructure"], "existing");
    assert_eq!(moto.resources("instances").len(), 1);
}

#[test]
fn without_a_cloud_handler_configured_nothing_is_provisioned() {
    let moto = Moto::start();
    let project = project("aws-aurora", None, fast());
    let target = Target::new(Server::Postgres, &unique("fdb_nocloud"), project.path());
    let run = init(&project, &moto.url(), &target, &[]);
    let report = run.json();
    assert_eq!(run.code, 1);
    assert_eq!(
        report["error"],
        "Database infrastructure not found and cannot be provisioned"
    );
    assert_eq!(report["step"]["number"], 9);
    let suggestions = report["recovery"]["suggestions"].to_string();
    assert!(suggestions.contains("cloud_plugin"), "{suggestions}");
    assert!(suggestions.contains("manually"), "{suggestions}");
    assert!(moto.resources("clusters").is_empty());
    assert!(moto.resources("instances").is_empty());
    assert!(!target.exists());
}

#[test]
fn dry_run_shows_the_plan_and_provisions_nothing() {
    let moto = Moto::start();
    let project = project("aws-aurora", Some("handler-cloud-aws"), fast());
    let target = Target::new(Server::Postgres, &unique("fdb_plan"), project.path());
    let report = init(&project, &moto.url(), &target, &["--dry-run"]).assert_success();
    let plan = report["result"]["steps"][8]["detail"].as_str().unwrap();
    assert!(
        plan.contains("cluster shop-dev (aurora-postgresql 16.4)")
            && plan.contains("instance shop-dev-writer (db.t4g.medium"),
        "{plan}"
    );
    assert!(moto.resources("clusters").is_empty());
    assert!(!target.exists());
}

#[test]
fn slow_provisioning_is_waited_for() {
    let moto = Moto::start();
    let proxy = SlowProxy::start(&moto, 4);
    let project = project("aws-aurora", Some("handler-cloud-aws"), fast());
    let target = Target::new(Server::Postgres, &unique("fdb_slow"), project.path());
    let run = init(&project, &proxy.url(), &target, &[]);
    let report = run.assert_success();
    assert_eq!(report["result"]["infrastructure"], "provisioned");
    assert!(
        run.stderr.contains("waiting for shop-dev: creating"),
        "{}",
        run.stderr
    );
    assert_eq!(moto.resources("clusters").len(), 1);
}

#[test]
fn a_timeout_reports_what_exists_and_a_rerun_resumes() {
    let moto = Moto::start();
    let project = project(
        "aws-aurora",
        Some("handler-cloud-aws"),
        json!({"poll_interval_seconds": 0.05, "provision_timeout_seconds": 0.5}),
    );
    let target = Target::new(Server::Postgres, &unique("fdb_timeout"), project.path());
    {
        let stuck = SlowProxy::start(&moto, 1_000_000);
        let run = init(&project, &stuck.url(), &target, &[]);
        let report = run.json();
        assert_eq!(run.code, 1);
        assert_eq!(report["step"]["number"], 9);
        assert!(
            report["error"].as_str().unwrap().contains("timed out"),
            "{report}"
        );
        assert!(
            report["cause"]
                .as_str()
                .unwrap()
                .contains("shop-dev, shop-dev-writer"),
            "{report}"
        );
        let suggestions = report["recovery"]["suggestions"].to_string();
        assert!(
            suggestions.contains("Run the same command again"),
            "{suggestions}"
        );
        assert!(
            suggestions.contains("aws rds delete-db-cluster --db-cluster-identifier shop-dev"),
            "{suggestions}"
        );
        assert!(
            !target.exists(),
            "no database is created before the infrastructure is ready"
        );
    }
    // Still creating at first, then ready: the re-run waits for what exists.
    let slow = SlowProxy::start(&moto, 2);
    let report = init(&project, &slow.url(), &target, &[]).assert_success();
    assert!(
        report["result"]["steps"][7]["detail"]
            .as_str()
            .unwrap()
            .contains("provisioning will resume")
    );
    assert_eq!(moto.resources("clusters").len(), 1);
    assert_eq!(moto.resources("instances").len(), 1);
}
