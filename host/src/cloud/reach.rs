//! Is the database accessible from here? Checked in the order a connection
//! fails in — name resolution, TCP, TLS, authentication — so that the error
//! names the likely cause (a private endpoint, a security group, a missing
//! CA bundle, a secret mid-rotation) instead of a driver's message alone.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::timeout;

use super::located::Located;
use super::{Login, error_chain};
use crate::config::TlsMode;
use crate::db::{ConnectionString, Server};
use crate::failure::{Failure, Outcome};

/// Each stage's limit: a private endpoint usually fails by silence.
const STAGE_TIMEOUT: Duration = Duration::from_secs(10);
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the check connects and what it logs in with.
pub struct Probe<'a> {
    pub target: &'a ConnectionString,
    pub host: &'a str,
    pub port: u16,
    /// True when `host:port` is a tunnel rather than the endpoint.
    pub tunnel: bool,
    pub located: &'a Located,
    pub login: &'a Login,
    pub user: &'a str,
    pub tls: TlsMode,
    pub environment: &'a str,
}

/// Checks each stage in turn; returns what was checked, for the step's detail.
pub async fn check(probe: &Probe<'_>) -> Outcome<String> {
    let addresses = resolve(probe).await?;
    connect_tcp(probe, &addresses).await?;
    let login = timeout(LOGIN_TIMEOUT, Server::login(probe.target)).await;
    match login {
        Ok(Ok(server)) => server.close().await,
        Ok(Err(err)) => return Err(login_failure(probe, err)),
        Err(_) => {
            return Err(
                Failure::new(format!("Cannot log in to {}:{}", probe.host, probe.port))
                    .cause(format!(
                        "the server accepted the connection but did not answer within {}s",
                        LOGIN_TIMEOUT.as_secs()
                    ))
                    .help("Check that the address is the database's and that it is not overloaded"),
            );
        }
    }
    let tls = if probe.tls.encrypts() {
        format!("TLS {}", probe.tls)
    } else {
        "TLS off".to_owned()
    };
    Ok(format!(
        "reachable at {}:{} (name resolved, TCP, {tls}, logged in as {} with {})",
        probe.host,
        probe.port,
        probe.user,
        probe.login.describe()
    ))
}

async fn resolve(probe: &Probe<'_>) -> Outcome<Vec<SocketAddr>> {
    let looked_up = timeout(
        STAGE_TIMEOUT,
        tokio::net::lookup_host((probe.host, probe.port)),
    )
    .await;
    let reason = match looked_up {
        Ok(Ok(addresses)) => {
            let addresses: Vec<SocketAddr> = addresses.collect();
            if !addresses.is_empty() {
                return Ok(addresses);
            }
            "it has no addresses".to_owned()
        }
        Ok(Err(err)) => err.to_string(),
        Err(_) => format!("no answer within {}s", STAGE_TIMEOUT.as_secs()),
    };
    let failure = Failure::new(format!("Cannot resolve {}", probe.host)).cause(reason);
    Err(if probe.tunnel {
        failure.help(format!(
            "Check environments.{}.connect.host: it names the tunnel's local end",
            probe.environment
        ))
    } else {
        failure
            .help("A new endpoint's name can take a few minutes to appear in DNS: run the same command again")
            .help("Check this machine's DNS and network, and the VPN if the VPC's names resolve only through it")
            .help(tunnel_help(probe.environment))
    })
}

async fn connect_tcp(probe: &Probe<'_>, addresses: &[SocketAddr]) -> Outcome<()> {
    let mut reason = String::new();
    for address in addresses {
        match timeout(STAGE_TIMEOUT, TcpStream::connect(address)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(err)) => reason = format!("{address}: {err}"),
            Err(_) => {
                reason = format!(
                    "{address}: no answer within {}s (packets dropped: typically a security group or a private network)",
                    STAGE_TIMEOUT.as_secs()
                );
            }
        }
    }
    let mut failure = Failure::new(format!(
        "Cannot reach {}:{} from this machine",
        probe.host, probe.port
    ))
    .cause(reason);
    if probe.tunnel {
        let located = probe.located;
        return Err(failure.help(format!(
            "Check that the tunnel to {}:{} is open and listens on {}:{}",
            located.endpoint, located.port, probe.host, probe.port
        )));
    }
    if let Some(private) = addresses.iter().find(|a| is_private(a.ip())) {
        failure = failure.cause(format!(
            "{} resolves to the private address {}: it is reachable only from inside its VPC",
            probe.host,
            private.ip()
        ));
    }
    let located = probe.located;
    if let (Some(false), Some(instance)) = (located.publicly_accessible, &located.instance) {
        failure = failure
            .cause(format!("RDS reports {instance} as not publicly accessible"))
            .help(format!(
                "Connect from inside the VPC (a VPN), or make it public: aws rds modify-db-instance --db-instance-identifier {instance} --publicly-accessible --apply-immediately"
            ));
    }
    for group in &located.security_groups {
        failure = failure.help(format!(
            "Let this machine in through its security group: aws ec2 authorize-security-group-ingress --group-id {group} --protocol tcp --port {} --cidr <this machine's public IP>/32",
            located.port
        ));
    }
    Err(failure.help(tunnel_help(probe.environment)))
}

fn tunnel_help(environment: &str) -> String {
    format!(
        "Or go through a bastion: open an SSH tunnel to the endpoint and set environments.{environment}.connect.host and connect.port to its local end"
    )
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_private() || ip.is_link_local(),
        IpAddr::V6(ip) => ip.is_unique_local() || ip.is_unicast_link_local(),
    }
}

/// Why the server refused the session, told apart by what the driver and
/// the server said.
fn login_failure(probe: &Probe<'_>, err: sqlx::Error) -> Failure {
    let at = format!("{}:{}", probe.host, probe.port);
    let environment = probe.environment;
    let described = error_chain(&err);
    // The PostgreSQL driver reports a refused certificate as an I/O error.
    let tls = matches!(err, sqlx::Error::Tls(_))
        || ["certificate", "TLS", "tls handshake"]
            .iter()
            .any(|word| described.contains(word));
    match &err {
        _ if tls => tls_failure(probe, &at, &described),
        sqlx::Error::Database(db) => {
            let number = db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|mysql| mysql.number());
            let code = db.code().map(|code| code.into_owned());
            let message = db.message().to_owned();
            // PostgreSQL's pg_hba refusal of a plain session; MySQL's
            // ER_SECURE_TRANSPORT_REQUIRED.
            if message.contains("no encryption") || number == Some(3159) {
                return Failure::new(format!("{at} requires TLS"))
                    .cause(message)
                    .help(format!(
                        "Remove \"tls\": \"disable\" from environments.{environment}.connect: the default encrypts and verifies the server"
                    ));
            }
            let authentication = matches!(code.as_deref(), Some("28P01" | "28000"))
                || matches!(number, Some(1045 | 1698));
            if authentication {
                return authentication_failure(probe, message);
            }
            Failure::new(format!("Cannot log in to {at}")).cause(message)
        }
        _ => Failure::new(format!("Cannot log in to {at}"))
            .cause(described)
            .help("Check that the address is the database's"),
    }
}

fn tls_failure(probe: &Probe<'_>, at: &str, message: &str) -> Failure {
    let environment = probe.environment;
    let lowercase = message.to_ascii_lowercase();
    let failure = Failure::new(format!("TLS with {at} failed")).cause(message);
    let failure = if lowercase.contains("unknownissuer") || lowercase.contains("unknown issuer") {
        failure.help(format!(
            "RDS signs its certificates with Amazon's own authority: download https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem into the project and set environments.{environment}.connect.ca_bundle to its path"
        ))
    } else if lowercase.contains("notvalidforname") || lowercase.contains("not valid for name") {
        failure.help(format!(
            "The certificate names the endpoint, not {}: through a tunnel, set environments.{environment}.connect.tls to \"verify-ca\"",
            probe.host
        ))
    } else if lowercase.contains("not support") {
        failure.help(format!(
            "The server offers no TLS: set environments.{environment}.connect.tls to \"disable\" only if it is on a trusted network"
        ))
    } else {
        failure.help(format!(
            "Check environments.{environment}.connect.ca_bundle: it must be a PEM file of the authorities that sign the server's certificate"
        ))
    };
    failure.help(format!(
        "Or encrypt without verifying the server (not recommended): environments.{environment}.connect.tls = \"require\""
    ))
}

fn authentication_failure(probe: &Probe<'_>, message: String) -> Failure {
    let located = probe.located;
    let user = probe.user;
    let failure =
        Failure::new(format!("{} refused the login as {user}", located.endpoint)).cause(message);
    match probe.login {
        Login::ManagedSecret(secret) if secret.status != "active" => failure
            .cause(format!(
                "the master user secret {} is {}: its password is not rotated into place yet",
                secret.arn, secret.status
            ))
            .help(format!(
                "Run the same command again once the secret is active (aws secretsmanager describe-secret --secret-id {}); the infrastructure is kept",
                secret.arn
            )),
        Login::ManagedSecret(secret) => failure
            .help(format!(
                "The password in {} may have been rotated a moment ago: run the same command again",
                secret.arn
            ))
            .help(format!(
                "If the master password was changed outside Secrets Manager, let RDS manage it again: {}",
                located.modify_command("--manage-master-user-password")
            )),
        Login::Iam { region } => failure
            .help(format!(
                "The user must accept IAM tokens: on PostgreSQL GRANT rds_iam TO {user}; on MySQL CREATE USER {user} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"
            ))
            .help(format!(
                "This machine's AWS identity needs rds-db:connect on arn:aws:rds-db:{}:<account>:dbuser:{}/{user}",
                region.as_deref().unwrap_or("<region>"),
                located.resource_id.as_deref().unwrap_or("<resource id>")
            )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_recognised() {
        for private in ["10.0.3.7", "172.20.1.1", "192.168.0.9", "fd00::1"] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["52.94.1.1", "127.0.0.1", "2600:1f18::1"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }
}
