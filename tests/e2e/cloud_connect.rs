//! Cloud environments in one command: `init production` with no connection
//! string provisions through handler-cloud-aws, then the host connects to
//! what RDS reports — with the managed master secret from Secrets Manager or
//! an IAM token — and completes every step in the same run.
//!
//! The emulator's endpoints are names nothing answers for. Each test reaches
//! the local server that stands in for them the way a user reaches a
//! private endpoint: `connect.host`/`connect.port`, a tunnel's local end.

use serde_json::{Value, json};

use crate::support::cloud::{LocalMaster, Moto};
use crate::support::servers::server_query;
use crate::support::{Project, Run, Server, Target, assert_never_shown, short_unique};

/// A project whose `production` environment names a variable that is never
/// set, on the emulator, with its master user on the local `server`.
struct Scene {
    moto: Moto,
    project: Project,
    /// Declared before `master`: the database goes before its owner.
    target: Target,
    master: LocalMaster,
    server: Server,
}

impl Scene {
    fn new(server: Server, hosting: &str, connect: Value) -> Scene {
        let moto = Moto::start();
        let name = short_unique("shop");
        let project = Project::named(&name);
        let master = LocalMaster::create(server, &short_unique("fdbm"), &moto.managed_password());
        project.write_config(
            &json!({
                "database": {"provider": server.provider(), "hosting": hosting, "migration_tool": "prisma"},
                "environments": {"production": {
                    "connection_string_env": "PROD_DATABASE_URL",
                    "require_approval": true,
                    "connect": connect,
                }},
                "safety": {"protected_environments": ["production"]},
                "integration": {"cloud_plugin": "handler-cloud-aws", "logs_plugin": "fractary-logs"},
                "cloud": {"poll_interval_seconds": 0.05, "master_username": master.name},
            })
            .to_string(),
        );
        let target = Target::new(server, &format!("{name}_production"), project.path());
        Scene {
            moto,
            project,
            target,
            master,
            server,
        }
    }

    /// `init production --approve` with nothing but the AWS environment.
    fn init(&self, extra: &[&str]) -> Run {
        let mut args = vec!["init", "production", "--approve"];
        args.extend_from_slice(extra);
        let mut command = self.project.command(&args);
        for (key, value) in Moto::env(&self.moto.url()) {
            command.env(key, value);
        }
        Run::from(command.output().unwrap())
    }

    fn set_connect(&self, connect: Value) {
        self.project.update_config(|config| {
            config["environments"]["production"]["connect"] = connect;
        });
    }

    /// The primary resource as the emulator reports it.
    fn primary(&self, hosting: &str) -> Value {
        let kind = if hosting == "aws-aurora" {
            "clusters"
        } else {
            "instances"
        };
        let resources = self.moto.resources(kind);
        let primary = resources
            .iter()
            .find(|resource| resource["cluster"].is_null())
            .unwrap_or_else(|| panic!("no primary resource: {resources:?}"));
        primary.clone()
    }
}

/// The local server as a tunnel's local end: the PostgreSQL here speaks
/// TLS (unverifiable: a self-signed certificate), the MariaDB does not.
fn through_local(server: Server) -> Value {
    let (host, port) = server.address();
    let tls = if server == Server::Postgres {
        "require"
    } else {
        "disable"
    };
    json!({"host": host, "port": port, "tls": tls})
}

/// Everything the one-command flow promises, checked on a finished run.
fn assert_one_command(scene: &Scene, hosting: &str, report: &Value) {
    let steps = report["result"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 17);
    for step in steps {
        assert!(
            step["status"] == "done" || step["status"] == "skipped",
            "{step}"
        );
    }
    assert_eq!(steps[4]["status"], "skipped", "{}", steps[4]);
    assert!(
        steps[4]["detail"]
            .as_str()
            .unwrap()
            .contains("after step 9"),
        "{}",
        steps[4]
    );
    let (host, port) = scene.server.address();
    let reached = steps[8]["detail"].as_str().unwrap();
    assert_eq!(steps[8]["status"], "done", "{reached}");
    assert!(
        reached.contains(&format!("reachable at {host}:{port}")),
        "{reached}"
    );
    for step in &steps[10..15] {
        assert_eq!(step["status"], "done", "{step}");
    }

    let primary = scene.primary(hosting);
    let connection = &report["result"]["connection"];
    assert_eq!(connection["endpoint"], primary["endpoint"], "{connection}");
    assert!(connection["port"].as_u64().is_some_and(|port| port > 0));
    assert_eq!(connection["user"], scene.master.name.as_str());
    assert_eq!(connection["through"], format!("{host}:{port}").as_str());
    assert_eq!(report["result"]["endpoint"], primary["endpoint"]);

    assert_eq!(
        report["result"]["database_name"],
        scene.target.name.as_str()
    );
    assert!(scene.target.exists());
    assert_eq!(
        scene
            .target
            .query("SELECT COUNT(*) FROM _prisma_migrations"),
        ["1"]
    );
    let url = report["result"]["database_url"].as_str().unwrap();
    assert!(url.contains(":****@"), "{url}");
}

fn one_command_with_the_managed_secret(server: Server, hosting: &str) {
    let scene = Scene::new(server, hosting, through_local(server));
    let run = scene.init(&["--json"]);
    let report = run.assert_success();
    assert_eq!(report["result"]["infrastructure"], "provisioned");
    assert!(
        !report["result"]["created_resources"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_one_command(&scene, hosting, &report);
    let connection = &report["result"]["connection"];
    assert_eq!(connection["auth"], "managed-secret");
    let arn = scene.primary(hosting)["secret_arn"].clone();
    assert!(
        arn.as_str().unwrap().starts_with("arn:aws:secretsmanager:"),
        "{arn}"
    );
    assert_eq!(connection["secret_arn"], arn);
    assert!(
        report["result"]["steps"][8]["detail"]
            .as_str()
            .unwrap()
            .contains("RDS-managed master secret")
    );
    let next = report["next_steps"].to_string();
    assert!(
        next.contains(&format!(
            "aws secretsmanager get-secret-value --secret-id {}",
            arn.as_str().unwrap()
        )),
        "{next}"
    );
}

#[test]
fn aurora_postgresql_from_nothing_in_one_run() {
    one_command_with_the_managed_secret(Server::Postgres, "aws-aurora");
}

#[test]
fn tls_is_verified_against_the_configured_ca_bundle() {
    // The local PostgreSQL's certificate signs itself: as a CA bundle, it
    // makes the server verifiable (by CA: a tunnel's address is not the
    // name in a certificate).
    let certificate = server_query(Server::Postgres, "SHOW ssl_cert_file").join("");
    let (host, port) = Server::Postgres.address();
    let scene = Scene::new(
        Server::Postgres,
        "aws-rds",
        json!({"host": host, "port": port, "ca_bundle": certificate}),
    );
    let report = scene.init(&["--json"]).assert_success();
    assert_one_command(&scene, "aws-rds", &report);
    assert_eq!(report["result"]["connection"]["tls"], "verify-ca");

    // Without the bundle the same server is not trusted, and the error says
    // where RDS's authorities come from.
    scene.set_connect(json!({"host": host, "port": port}));
    let run = scene.init(&["--json", "--database-name", "never_created"]);
    let report = run.json();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        report["error"],
        format!("TLS with {host}:{port} failed").as_str()
    );
    let suggestions = report["recovery"]["suggestions"].to_string();
    assert!(suggestions.contains("global-bundle.pem"), "{suggestions}");
}

#[test]
fn aurora_mysql_from_nothing_in_one_run() {
    one_command_with_the_managed_secret(Server::Mysql, "aws-aurora");
}

#[test]
fn an_rds_instance_from_nothing_in_one_run() {
    one_command_with_the_managed_secret(Server::Postgres, "aws-rds");
}

#[test]
fn an_iam_token_logs_in_where_the_environment_asks_for_it() {
    let mut connect = through_local(Server::Postgres);
    connect["auth"] = json!("iam");
    let scene = Scene::new(Server::Postgres, "aws-aurora", connect);
    let report = scene.init(&["--json"]).assert_success();
    assert_one_command(&scene, "aws-aurora", &report);
    // What the host provisioned accepts IAM tokens, because the environment
    // logs in with them.
    assert_eq!(scene.primary("aws-aurora")["iam"], true);
    let connection = &report["result"]["connection"];
    assert_eq!(connection["auth"], "iam");
    assert_eq!(connection["secret_arn"], Value::Null);
    assert!(
        report["result"]["steps"][8]["detail"]
            .as_str()
            .unwrap()
            .contains("IAM authentication token")
    );
    let next = report["next_steps"].to_string();
    assert!(
        next.contains(&format!(
            "aws rds generate-db-auth-token --hostname {}",
            connection["endpoint"].as_str().unwrap()
        )),
        "{next}"
    );
}

#[test]
fn an_unreachable_endpoint_is_named_and_a_rerun_resumes() {
    // The emulator's endpoint resolves nowhere, as a private endpoint's
    // name may not from outside its network.
    let scene = Scene::new(Server::Postgres, "aws-aurora", json!({}));
    let run = scene.init(&["--json"]);
    let report = run.json();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(report["step"]["number"], 9);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .starts_with("Cannot resolve "),
        "{report}"
    );
    let suggestions = report["recovery"]["suggestions"].to_string();
    assert!(suggestions.contains("connect.host"), "{suggestions}");
    assert!(
        suggestions.contains("is kept: run the same command again"),
        "{suggestions}"
    );
    assert_eq!(
        report["result"]["created_resources"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(!scene.target.exists());

    // A tunnel that is not open: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    scene.set_connect(json!({"host": "127.0.0.1", "port": closed, "tls": "require"}));
    let run = scene.init(&["--json"]);
    let report = run.json();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        report["error"],
        format!("Cannot reach 127.0.0.1:{closed} from this machine").as_str()
    );
    assert!(
        report["recovery"]["suggestions"]
            .to_string()
            .contains("Check that the tunnel to"),
        "{report}"
    );

    // Reachable now: the re-run finds what the first one provisioned.
    scene.set_connect(through_local(Server::Postgres));
    let report = scene.init(&["--json"]).assert_success();
    assert_eq!(report["result"]["infrastructure"], "existing");
    assert_eq!(report["result"]["created_resources"], json!([]));
    assert_one_command(&scene, "aws-aurora", &report);
    assert_eq!(scene.moto.resources("clusters").len(), 1);
    assert_eq!(scene.moto.resources("instances").len(), 1);
}

#[test]
fn a_dry_run_without_a_connection_string_plans_and_touches_nothing() {
    let scene = Scene::new(Server::Postgres, "aws-rds", through_local(Server::Postgres));
    let report = scene.init(&["--json", "--dry-run"]).assert_success();
    let steps = report["result"]["steps"].as_array().unwrap();
    assert!(
        steps[8]["detail"]
            .as_str()
            .unwrap()
            .contains("dry run: would create"),
        "{}",
        steps[8]
    );
    for step in &steps[10..15] {
        assert_eq!(step["status"], "skipped", "{step}");
        assert!(
            step["detail"]
                .as_str()
                .unwrap()
                .contains("until the infrastructure exists")
        );
    }
    assert!(scene.moto.resources("instances").is_empty());
    assert!(!scene.target.exists());
}

#[test]
fn the_managed_secret_appears_in_no_output_log_or_file() {
    // MariaDB checks the master's password, so a run that logs in has
    // carried the secret's value all the way to the server.
    let scene = Scene::new(Server::Mysql, "aws-aurora", json!({}));
    let mut outputs = Vec::new();
    let mut keep = |what: &str, run: &Run| {
        outputs.push((format!("{what} stdout"), run.stdout.clone()));
        outputs.push((format!("{what} stderr"), run.stderr.clone()));
    };
    // Unreachable (the emulator's endpoint), in both output forms.
    keep("unreachable json", &scene.init(&["--json", "-vv"]));
    keep("unreachable human", &scene.init(&["-vv"]));
    // Refused: the server's account no longer has the secret's password.
    scene.set_connect(through_local(Server::Mysql));
    let master = &scene.master.name;
    server_query(
        Server::Mysql,
        &format!("ALTER USER '{master}'@'%' IDENTIFIED BY 'not-the-secret'"),
    );
    let refused = scene.init(&["--json", "-vv"]);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains(&format!("refused the login as {master}")),
        "{}",
        refused.stdout
    );
    keep("refused", &refused);
    let arn = scene.primary("aws-aurora")["secret_arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let password = scene.moto.secret_password(&arn);
    server_query(
        Server::Mysql,
        &format!("ALTER USER '{master}'@'%' IDENTIFIED BY '{password}'"),
    );
    // Through, in both output forms.
    let through = scene.init(&["--json", "-vv"]);
    through.assert_success();
    keep("success json", &through);
    keep(
        "dry run human",
        &scene.init(&["--dry-run", "-vv", "--database-name", "other"]),
    );

    assert!(scene.project.operation_log().lines().count() >= 5);
    let encoded: String = url::form_urlencoded::byte_serialize(password.as_bytes()).collect();
    for secret in [password.as_str(), encoded.as_str()] {
        assert_never_shown(secret, &outputs, &[scene.project.path()]);
    }
}
