//! The AWS RDS emulator (`moto` from PyPI) for the cloud tests: one server per
//! test on a free loopback port, and its state read back with boto3.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Server;
use super::servers::server_query;

fn venv() -> PathBuf {
    std::env::var_os("FABER_DB_MOTO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/moto-venv"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "the emulator exited");
        assert!(
            Instant::now() < deadline,
            "the emulator did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        let server = venv().join("bin/moto_server");
        assert!(
            server.is_file(),
            "{} is missing: run `bash tests/run.sh`, which installs moto[server] into that virtual environment",
            server.display()
        );
        let port = free_port();
        let mut child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, &mut child);
        Moto { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The AWS environment a faber-db process needs to reach `endpoint`.
    pub fn env(endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", endpoint.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ]
    }

    /// `DescribeDBClusters` and `DescribeDBInstances` as the emulator answers
    /// them: [{"id", "status", "engine", "endpoint", "cluster", "class",
    /// "iam", "secret_arn", "tags": {…}}].
    pub fn resources(&self, kind: &str) -> Vec<Value> {
        let script = r#"
tags = lambda items: {t["Key"]: t["Value"] for t in items}
secret = lambda r: r.get("MasterUserSecret", {}).get("SecretArn")
if sys.argv[2] == "clusters":
    out = [{"id": c["DBClusterIdentifier"], "status": c["Status"], "engine": c["Engine"],
            "endpoint": c.get("Endpoint"), "iam": c.get("IAMDatabaseAuthenticationEnabled"),
            "secret_arn": secret(c), "tags": tags(c.get("TagList", []))}
           for c in rds.describe_db_clusters()["DBClusters"]]
else:
    out = [{"id": i["DBInstanceIdentifier"], "status": i["DBInstanceStatus"], "engine": i["Engine"],
            "endpoint": i.get("Endpoint", {}).get("Address"), "cluster": i.get("DBClusterIdentifier"),
            "class": i["DBInstanceClass"], "iam": i.get("IAMDatabaseAuthenticationEnabled"),
            "secret_arn": secret(i), "tags": tags(i.get("TagList", []))}
           for i in rds.describe_db_instances()["DBInstances"]]
print(json.dumps(out))
"#;
        serde_json::from_str(&self.boto3(script, &[kind])).unwrap()
    }

    /// Creates an Aurora cluster that belongs to someone else (another
    /// team's), as it would exist in the same account.
    pub fn create_foreign_cluster(&self, identifier: &str) {
        let script = r#"
rds.create_db_cluster(DBClusterIdentifier=sys.argv[2], Engine="aurora-postgresql",
                      EngineVersion="16.4", MasterUsername="billing", MasterUserPassword="secret123",
                      Tags=[{"Key": "team", "Value": "billing"}])
"#;
        self.boto3(script, &[identifier]);
    }

    /// The password a managed master secret holds, read as an application
    /// would read it.
    pub fn secret_password(&self, arn: &str) -> String {
        let script = r#"
print(password(sys.argv[2]))
"#;
        self.boto3(script, &[arn]).trim_end_matches('\n').to_owned()
    }

    /// The password the emulator puts in every managed master secret (it
    /// does not make one up per resource), read from a scratch instance's.
    pub fn managed_password(&self) -> String {
        let script = r#"
made = rds.create_db_instance(DBInstanceIdentifier="scratch-secret", Engine="postgres",
                              DBInstanceClass="db.t4g.micro", MasterUsername="scratch",
                              ManageMasterUserPassword=True)["DBInstance"]
print(password(made["MasterUserSecret"]["SecretArn"]))
rds.delete_db_instance(DBInstanceIdentifier="scratch-secret", SkipFinalSnapshot=True)
"#;
        self.boto3(script, &[]).trim_end_matches('\n').to_owned()
    }

    /// Runs `script` with `rds` (a boto3 client for the emulator),
    /// `password(arn)` (a managed secret's password), `sys` and `json` in
    /// scope; `sys.argv[2..]` are `args`. Returns its stdout.
    fn boto3(&self, script: &str, args: &[&str]) -> String {
        let prelude = r#"
import boto3, json, sys
client = lambda service: boto3.client(service, endpoint_url=sys.argv[1], region_name="us-east-1",
                                      aws_access_key_id="testing", aws_secret_access_key="testing")
rds = client("rds")
password = lambda arn: json.loads(
    client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])["password"]
"#;
        let printed = super::stdout_of(
            Command::new(venv().join("bin/python"))
                .arg("-c")
                .arg(format!("{prelude}{script}"))
                .arg(self.url())
                .args(args),
        );
        String::from_utf8(printed).unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/cloud/slow_rds_proxy.py` in front of the emulator: the first `hold`
/// describe answers say `creating`.
pub struct SlowProxy {
    child: Child,
    pub port: u16,
}

impl SlowProxy {
    pub fn start(moto: &Moto, hold: u32) -> SlowProxy {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cloud/slow_rds_proxy.py");
        let port = free_port();
        let mut child = Command::new(venv().join("bin/python"))
            .arg(script)
            .args([port.to_string(), moto.url(), hold.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready");
        SlowProxy { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The master user RDS creates, made on the local server that stands in for
/// the emulator's endpoint (a name nothing can connect to); removed when the
/// test ends. MariaDB lets it in only with `password`, so a run that logs in
/// there has used the managed secret; the local PostgreSQL trusts loopback.
pub struct LocalMaster {
    server: Server,
    pub name: String,
}

impl LocalMaster {
    pub fn create(server: Server, name: &str, password: &str) -> LocalMaster {
        let statements = match server {
            // What RDS's master gets: create databases and roles, no superuser.
            Server::Postgres => {
                format!("CREATE ROLE {name} LOGIN CREATEDB CREATEROLE PASSWORD '{password}'")
            }
            _ => format!(
                "CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'; \
                 GRANT ALL PRIVILEGES ON *.* TO '{name}'@'%' WITH GRANT OPTION"
            ),
        };
        server_query(server, &statements);
        LocalMaster {
            server,
            name: name.to_owned(),
        }
    }
}

impl Drop for LocalMaster {
    fn drop(&mut self) {
        let name = &self.name;
        let statement = match self.server {
            Server::Postgres => format!("DROP ROLE IF EXISTS {name}"),
            _ => format!("DROP USER IF EXISTS '{name}'@'%'"),
        };
        server_query(self.server, &statement);
    }
}
