//! A hostile cloud-provider handler (`tests/fixtures/hostile-cloud-handler`)
//! against the AWS RDS emulator: each way it reaches beyond its environment
//! or its plan is refused, the run fails, and the emulator's own state shows
//! that nothing outside the scope or the plan exists.

use serde_json::{Value, json};

use crate::cloud::{fast, init, project};
use crate::support::cloud::Moto;
use crate::support::{Project, Run, Server, Target, component, unique};

/// Another team's cluster in the same AWS account.
const OTHER: &str = "billing-prod";
const HANDLER: &str = "hostile-cloud-handler";

/// Project `shop` on aws-aurora whose cloud handler is the hostile fixture,
/// installed and pinned with `handler add` (as `NAME@VERSION.wasm`).
fn hostile_project(behaviour: &str, settings: Value) -> Project {
    let mut cloud = fast();
    cloud["hostile"] = json!(behaviour);
    cloud["other"] = json!(OTHER);
    for (key, value) in settings.as_object().into_iter().flatten() {
        cloud[key] = value.clone();
    }
    let project = project("aws-aurora", Some(HANDLER), cloud);
    let wasm = component(HANDLER);
    project
        .run(&["handler", "add", wasm.to_str().unwrap(), "--json"], &[])
        .assert_success();
    project
}

/// The run failed at `step` because the handler overreached; its cause.
fn refused(run: &Run, step: u64) -> String {
    let report = run.json();
    assert_eq!(run.code, 1, "{report}");
    assert_eq!(report["status"], "error", "{report}");
    assert_eq!(report["step"]["number"], step, "{report}");
    assert_eq!(
        report["error"],
        format!("Handler {HANDLER} reached beyond environment dev"),
        "{report}"
    );
    let suggestions = report["recovery"]["suggestions"].to_string();
    assert!(suggestions.contains("shop-dev-<suffix>"), "{suggestions}");
    assert_eq!(report["result"]["infrastructure"], Value::Null);
    assert_eq!(report["result"]["endpoint"], Value::Null);
    report["cause"].as_str().unwrap().to_owned()
}

fn ids(resources: &[Value]) -> Vec<&str> {
    let mut ids: Vec<&str> = resources
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids
}

/// The other team's cluster, exactly as it was before the run.
fn assert_untouched(moto: &Moto, before: &Value) {
    let clusters = moto.resources("clusters");
    let other = clusters.iter().find(|c| c["id"] == OTHER).unwrap();
    assert_eq!(other["tags"], before["tags"]);
    assert_eq!(other["endpoint"], before["endpoint"]);
}

fn foreign_cluster(moto: &Moto) -> Value {
    moto.create_foreign_cluster(OTHER);
    moto.resources("clusters").remove(0)
}

#[test]
fn reading_another_teams_cluster_is_refused() {
    let moto = Moto::start();
    let before = foreign_cluster(&moto);
    let project = hostile_project("read-other", json!({}));
    let target = Target::new(Server::Postgres, &unique("fdb_hostile"), project.path());
    let run = init(&project, &moto.url(), &target, &[]);
    let cause = refused(&run, 8);
    assert!(
        cause.contains(&format!("\"{OTHER}\" is outside environment dev's scope")),
        "{cause}"
    );
    assert_eq!(ids(&moto.resources("clusters")), [OTHER]);
    assert_untouched(&moto, &before);
    assert!(moto.resources("instances").is_empty());
    assert!(!target.exists());
}

#[test]
fn another_clusters_endpoint_is_not_taken_as_this_environments() {
    let moto = Moto::start();
    let before = foreign_cluster(&moto);
    let endpoint = before["endpoint"].as_str().unwrap();
    let project = hostile_project("forge-endpoint", json!({"other_endpoint": endpoint}));
    let target = Target::new(Server::Postgres, &unique("fdb_hostile"), project.path());
    let run = init(&project, &moto.url(), &target, &[]);
    let cause = refused(&run, 8);
    assert!(
        cause.contains("without having read \"shop-dev\""),
        "{cause}"
    );
    assert_eq!(ids(&moto.resources("clusters")), [OTHER]);
    assert_untouched(&moto, &before);
    assert!(!target.exists());
}

#[test]
fn creating_beyond_the_plan_is_refused() {
    let moto = Moto::start();
    let before = foreign_cluster(&moto);
    let project = hostile_project("beyond-plan", json!({}));
    let target = Target::new(Server::Postgres, &unique("fdb_hostile"), project.path());
    let run = init(&project, &moto.url(), &target, &[]);
    let cause = refused(&run, 9);
    for attempt in [
        "shop-dev-extra1",
        "shop-dev-extra5",
        "shop-dev-extra-writer",
    ] {
        assert!(
            cause.contains(&format!("{attempt} (")) && cause.contains("the plan does not list it"),
            "{attempt}: {cause}"
        );
    }
    assert!(
        cause.contains("\"billing-prod-replica\" is outside"),
        "{cause}"
    );

    // Only the planned cluster and writer exist, tagged as this environment's
    // whatever the handler asked for, and the report lists them.
    let clusters = moto.resources("clusters");
    assert_eq!(ids(&clusters), [OTHER, "shop-dev"]);
    assert_untouched(&moto, &before);
    let ours = clusters.iter().find(|c| c["id"] == "shop-dev").unwrap();
    assert_eq!(ours["tags"]["faber-db:environment"], "dev");
    assert_eq!(ours["tags"]["faber-db:project"], "shop");
    assert_eq!(ours["tags"]["managed-by"], "faber-db");
    let instances = moto.resources("instances");
    assert_eq!(ids(&instances), ["shop-dev-writer"]);
    assert_eq!(instances[0]["class"], "db.t3.medium");
    let report = run.json();
    let suggestions = report["recovery"]["suggestions"].to_string();
    assert!(
        suggestions.contains("This run created shop-dev, shop-dev-writer before it stopped"),
        "{suggestions}"
    );
    assert!(
        suggestions.contains("aws rds delete-db-instance --db-instance-identifier shop-dev-writer --skip-final-snapshot; aws rds delete-db-cluster --db-cluster-identifier shop-dev"),
        "{suggestions}"
    );
    let created = report["result"]["created_resources"].clone();
    assert_eq!(
        created,
        json!([
            {"identifier": "shop-dev", "kind": "cluster", "instance_class": null, "engine": "aurora-postgresql"},
            {"identifier": "shop-dev-writer", "kind": "instance", "instance_class": "db.t3.medium", "engine": "aurora-postgresql"},
        ])
    );
    assert!(!target.exists());
}

#[test]
fn a_costlier_instance_class_than_the_plan_is_refused() {
    let moto = Moto::start();
    let project = hostile_project("costlier", json!({}));
    let target = Target::new(Server::Postgres, &unique("fdb_hostile"), project.path());

    // The plan, as --dry-run shows it, is the rehearsal's: the small class.
    let report = init(&project, &moto.url(), &target, &["--dry-run"]).assert_success();
    let plan = report["result"]["steps"][8]["detail"].as_str().unwrap();
    assert!(
        plan.contains("instance shop-dev-writer (db.t3.medium"),
        "{plan}"
    );
    assert!(moto.resources("clusters").is_empty());

    let run = init(&project, &moto.url(), &target, &[]);
    let cause = refused(&run, 9);
    assert!(
        cause.contains("creating instance shop-dev-writer (db.r6g.16xlarge")
            && cause.contains("it lists instance shop-dev-writer (db.t3.medium"),
        "{cause}"
    );
    // The planned cluster was created (and is reported); no instance was.
    assert_eq!(ids(&moto.resources("clusters")), ["shop-dev"]);
    assert!(moto.resources("instances").is_empty());
    let created = run.json()["result"]["created_resources"].clone();
    assert_eq!(created.as_array().unwrap().len(), 1, "{created}");
    assert_eq!(created[0]["identifier"], "shop-dev");
    assert!(!target.exists());
}
