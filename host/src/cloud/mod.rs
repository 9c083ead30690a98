//! Reaching a cloud environment's database with nothing written in advance.
//!
//! A team standing up production on AWS has no connection string before the
//! infrastructure exists, and no password at all: RDS keeps the master
//! password in Secrets Manager. So when a cloud environment's connection
//! variable is not set, the host builds the administrative connection from
//! the infrastructure itself — endpoint and port as RDS reports them
//! ([`located`]), the master secret or an IAM token read with the user's own
//! AWS credentials ([`credentials`]), TLS verified by default — and checks
//! that it really works from this machine ([`reach`]) before any database is
//! touched. The credential lives only inside the connection: never in a
//! handler, a file, the log or the output.
//!
//! Nothing here belongs to `init` alone: any command that reaches an
//! environment (`migrate`, `status`) reaches a cloud one the same way.

mod credentials;
mod located;
mod reach;

use std::path::{Path, PathBuf};

use aws_config::SdkConfig;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

pub use located::{Located, ManagedSecret, locate};

use crate::config::{CloudAuth, ConnectSettings, TlsMode};
use crate::db::ConnectionString;
use crate::failure::{Failure, Outcome};
use crate::provider::Provider;
use crate::report::CloudConnection;
use credentials::Secret;

/// How the host logs in to the infrastructure.
pub enum Login {
    ManagedSecret(ManagedSecret),
    Iam { region: Option<String> },
}

impl Login {
    fn describe(&self) -> &'static str {
        match self {
            Login::ManagedSecret(_) => "the RDS-managed master secret",
            Login::Iam { .. } => "an IAM authentication token",
        }
    }
}

/// The environment being reached.
pub struct Environment<'a> {
    pub project: &'a Path,
    pub name: &'a str,
    pub provider: Provider,
    pub settings: &'a ConnectSettings,
}

/// A connection that was checked to work.
pub struct Reached {
    pub target: ConnectionString,
    /// What the report says about it (never the credential).
    pub connection: CloudConnection,
    /// The stages checked, for the step's detail.
    pub detail: String,
}

/// Builds the administrative connection to `located` and checks it.
pub async fn connect(
    aws: &SdkConfig,
    environment: &Environment<'_>,
    located: &Located,
) -> Outcome<Reached> {
    let settings = environment.settings;
    check_engine(environment, located)?;
    let tls = settings.tls_mode();
    if settings.auth == CloudAuth::Iam && !tls.encrypts() {
        return Err(Failure::new("IAM authentication needs TLS")
            .cause(format!(
                "environments.{}.connect has \"auth\": \"iam\" and \"tls\": \"disable\"; an IAM token is sent as the password",
                environment.name
            ))
            .help("Remove \"tls\": \"disable\": the default encrypts and verifies the server"));
    }
    let ca_bundle = ca_bundle(environment)?;
    let (login, user, password) = log_in(aws, environment, located).await?;
    let host = settings.host.as_deref().unwrap_or(&located.endpoint);
    let port = settings.port.unwrap_or(located.port);
    let target = target(
        environment.provider,
        host,
        port,
        &user,
        &password,
        tls,
        ca_bundle.as_deref(),
    )?;
    let tunnel = settings.host.is_some() || settings.port.is_some();
    let detail = reach::check(&reach::Probe {
        target: &target,
        host,
        port,
        tunnel,
        located,
        login: &login,
        user: &user,
        tls,
        environment: environment.name,
    })
    .await?;
    let connection = CloudConnection {
        endpoint: located.endpoint.clone(),
        port: located.port,
        user,
        auth: settings.auth.as_str(),
        secret_arn: match &login {
            Login::ManagedSecret(secret) => Some(secret.arn.clone()),
            Login::Iam { .. } => None,
        },
        tls: tls.as_str(),
        through: tunnel.then(|| format!("{host}:{port}")),
        region: aws.region().map(ToString::to_string),
    };
    Ok(Reached {
        target,
        connection,
        detail,
    })
}

fn check_engine(environment: &Environment<'_>, located: &Located) -> Outcome<()> {
    let identifier = &located.identifier;
    if located.provider() != Some(environment.provider) {
        return Err(Failure::new(format!(
            "{identifier} runs {}, but the project's provider is {}",
            located.engine, environment.provider
        ))
        .help("Change database.provider in the configuration, or cloud.identifier to the environment's own infrastructure"));
    }
    if located.endpoint.is_empty() || located.port == 0 {
        return Err(
            Failure::new(format!("{identifier} reports no endpoint yet"))
                .help("Run the same command again in a few minutes: the infrastructure is kept"),
        );
    }
    Ok(())
}

/// The CA bundle, resolved against the project directory; it must exist,
/// or TLS would quietly fall back to the public authorities.
fn ca_bundle(environment: &Environment<'_>) -> Outcome<Option<PathBuf>> {
    let Some(configured) = &environment.settings.ca_bundle else {
        return Ok(None);
    };
    let path = environment.project.join(configured);
    if !path.is_file() {
        return Err(Failure::new(format!("CA bundle not found: {}", path.display()))
            .cause(format!("environments.{}.connect.ca_bundle names it", environment.name))
            .help("For RDS, download Amazon's bundle: curl -o global-bundle.pem https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"));
    }
    Ok(Some(path))
}

/// Who logs in, and with what.
async fn log_in(
    aws: &SdkConfig,
    environment: &Environment<'_>,
    located: &Located,
) -> Outcome<(Login, String, Secret)> {
    let identifier = &located.identifier;
    match environment.settings.auth {
        CloudAuth::ManagedSecret => {
            let Some(secret) = &located.secret else {
                return Err(Failure::new(format!("{identifier} has no RDS-managed master secret"))
                    .cause("its master password is not managed by RDS, so there is no password to read")
                    .help(format!("Let RDS manage it: {}", located.modify_command("--manage-master-user-password")))
                    .help(format!("Or set the environment's connection variable, or use IAM authentication (environments.{}.connect.auth = \"iam\")", environment.name)));
            };
            let login = credentials::read_managed_secret(aws, secret).await?;
            let user = located
                .master_username
                .clone()
                .or(login.username)
                .unwrap_or_default();
            Ok((Login::ManagedSecret(secret.clone()), user, login.password))
        }
        CloudAuth::Iam => {
            if !located.iam_enabled {
                return Err(Failure::new(format!("IAM database authentication is not enabled on {identifier}"))
                    .help(format!("Enable it: {}", located.modify_command("--enable-iam-database-authentication")))
                    .help(format!("Or log in with the managed master secret: remove \"auth\": \"iam\" from environments.{}.connect", environment.name)));
            }
            let user = environment
                .settings
                .user
                .clone()
                .or_else(|| located.master_username.clone())
                .unwrap_or_default();
            // The token is bound to the endpoint's own name, also through a tunnel.
            let token = credentials::iam_token(aws, &located.endpoint, located.port, &user).await?;
            let region = aws.region().map(ToString::to_string);
            Ok((Login::Iam { region }, user, token))
        }
    }
}

/// An error and its sources, for a cause line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        // Many errors already print their source.
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message.push_str(&format!(": {cause_text}"));
        }
        source = cause.source();
    }
    message
}

/// The administrative connection string: the server, no database selected.
fn target(
    provider: Provider,
    host: &str,
    port: u16,
    user: &str,
    password: &Secret,
    tls: TlsMode,
    ca_bundle: Option<&Path>,
) -> Outcome<ConnectionString> {
    let scheme = match provider {
        Provider::Postgresql => "postgres",
        _ => "mysql",
    };
    let shown_host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let invalid = || Failure::new(format!("{host}:{port} is not a valid server address"));
    let mut url = Url::parse(&format!("{scheme}://{shown_host}:{port}"))
        .map_err(|err| invalid().cause(err))?;
    url.set_username(user).map_err(|()| invalid())?;
    // Every byte escaped: the url crate leaves a `%` as it is, and an IAM
    // token is full of `%2F` that the driver would otherwise decode.
    let escaped = utf8_percent_encode(password.expose(), NON_ALPHANUMERIC).to_string();
    url.set_password(Some(&escaped)).map_err(|()| invalid())?;
    let (mode_key, ca_key) = match provider {
        Provider::Postgresql => ("sslmode", "sslrootcert"),
        _ => ("ssl-mode", "ssl-ca"),
    };
    let mode = match (provider, tls) {
        (Provider::Postgresql, mode) => mode.as_str(),
        (_, TlsMode::VerifyFull) => "VERIFY_IDENTITY",
        (_, TlsMode::VerifyCa) => "VERIFY_CA",
        (_, TlsMode::Require) => "REQUIRED",
        (_, TlsMode::Disable) => "DISABLED",
    };
    url.query_pairs_mut().append_pair(mode_key, mode);
    if let Some(ca_bundle) = ca_bundle {
        url.query_pairs_mut()
            .append_pair(ca_key, &ca_bundle.to_string_lossy());
    }
    Ok(ConnectionString::Server { provider, url })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_survives_the_url_and_never_shows() {
        let password = Secret::for_tests("p@ss:w/rd%2F&x=1?#");
        let target = target(
            Provider::Postgresql,
            "db.example",
            5432,
            "faber_admin",
            &password,
            TlsMode::VerifyFull,
            Some(Path::new("/p/ca.pem")),
        )
        .unwrap();
        let ConnectionString::Server { url, .. } = &target else {
            unreachable!()
        };
        let decoded = percent_encoding::percent_decode_str(url.password().unwrap())
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, password.expose());
        let shown = target.masked();
        assert!(
            !shown.contains("p@ss") && !shown.contains("w%2Frd"),
            "{shown}"
        );
        assert_eq!(
            shown,
            "postgres://faber_admin:****@db.example:5432?sslmode=verify-full&sslrootcert=%2Fp%2Fca.pem"
        );
    }

    #[test]
    fn mysql_gets_its_own_tls_words() {
        let password = Secret::for_tests("x");
        let target = target(
            Provider::Mysql,
            "::1",
            3306,
            "admin",
            &password,
            TlsMode::VerifyCa,
            None,
        )
        .unwrap();
        assert_eq!(
            target.masked(),
            "mysql://admin:****@[::1]:3306?ssl-mode=VERIFY_CA"
        );
    }
}
