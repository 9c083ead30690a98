//! The administrative login for a cloud database, read on the host with the
//! user's own AWS credential chain: the master user's password from the
//! RDS-managed secret, or an IAM authentication token. Either exists only in
//! this process's memory, inside a [`Secret`], on its way into a connection.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;

use super::error_chain;
use super::located::ManagedSecret;
use crate::failure::{Failure, Outcome};

/// How long RDS accepts an IAM token for a new login.
const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// A password or token. It prints as `****`, so no `{:?}` or `{}` of a
/// struct holding one can reveal it; only [`Secret::expose`] reads it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    #[cfg(test)]
    pub fn for_tests(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// What the managed secret holds.
pub struct MasterLogin {
    pub username: Option<String>,
    pub password: Secret,
}

/// Reads the master user's login from the RDS-managed secret.
pub async fn read_managed_secret(aws: &SdkConfig, secret: &ManagedSecret) -> Outcome<MasterLogin> {
    let arn = &secret.arn;
    let client = aws_sdk_secretsmanager::Client::new(aws);
    let read = client.get_secret_value().secret_id(arn).send().await;
    let output = read.map_err(|err| {
        let not_ready = err
            .as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception());
        let reason = match (err.code(), err.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            _ => error_chain(&err),
        };
        let failure = Failure::new("Cannot read the master user secret").cause(format!("{arn}: {reason}"));
        if not_ready {
            failure
                .cause(format!("the secret is {}: RDS has not put it in place yet", secret.status))
                .help("Run the same command again in a few minutes: the infrastructure is kept, and the secret is read again")
        } else {
            failure
                .help(format!("This machine's AWS identity needs secretsmanager:GetSecretValue on {arn} (and kms:Decrypt on its key)"))
                .help("Check which identity that is: aws sts get-caller-identity")
        }
    })?;
    let text = output.secret_string().unwrap_or_default();
    // Only the two fields RDS writes are read; the text is never shown,
    // even when it is not what RDS writes.
    let fields: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let Some(password) = fields["password"].as_str() else {
        return Err(Failure::new("The master user secret holds no password")
            .cause(format!(
                "{arn} is not in the form RDS writes ({{\"username\", \"password\"}})"
            ))
            .help("Let RDS manage it again, or set the environment's connection variable"));
    };
    Ok(MasterLogin {
        username: fields["username"].as_str().map(str::to_owned),
        password: Secret(password.to_owned()),
    })
}

/// An IAM authentication token for `user` at `endpoint:port`, signed with
/// the host's AWS credentials for the `rds-db` service. It is valid for a
/// login within 15 minutes, and only as the password of a TLS connection.
pub async fn iam_token(aws: &SdkConfig, endpoint: &str, port: u16, user: &str) -> Outcome<Secret> {
    let unavailable = |why: String| {
        Failure::new("Cannot create an IAM authentication token")
            .cause(why)
            .help("Configure AWS credentials and a region on this machine (AWS_PROFILE, AWS_REGION, or an instance role)")
    };
    let region = aws
        .region()
        .ok_or_else(|| unavailable("no AWS region is configured".to_owned()))?;
    let provider = aws
        .credentials_provider()
        .ok_or_else(|| unavailable("no AWS credentials are configured".to_owned()))?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|err| unavailable(error_chain(&err)))?;
    presign(
        &credentials,
        region.as_ref(),
        endpoint,
        port,
        user,
        SystemTime::now(),
    )
    .map(Secret)
    .map_err(unavailable)
}

/// The token itself: a presigned `connect` request, without its scheme.
fn presign(
    credentials: &Credentials,
    region: &str,
    endpoint: &str,
    port: u16,
    user: &str,
    time: SystemTime,
) -> Result<String, String> {
    let mut url = url::Url::parse(&format!("https://{endpoint}:{port}/"))
        .map_err(|err| format!("the endpoint {endpoint}:{port} is not a host name: {err}"))?;
    url.query_pairs_mut()
        .append_pair("Action", "connect")
        .append_pair("DBUser", user);
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("rds-db")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|err| err.to_string())?
        .into();
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|err| err.to_string())?;
    let (instructions, _) = sign(request, &params)
        .map_err(|err| err.to_string())?
        .into_parts();
    for (name, value) in instructions.params() {
        url.query_pairs_mut().append_pair(name, value);
    }
    Ok(url.as_str().trim_start_matches("https://").to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret("hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), "****");
        assert_eq!(secret.expose(), "hunter2");
    }

    /// The expected token was computed independently, by botocore's
    /// `generate_db_auth_token` with the same credentials and clock.
    #[test]
    fn an_iam_token_is_a_presigned_connect_request() {
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        );
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let token = presign(
            &credentials,
            "us-east-1",
            "shop-prod.cluster-abc.us-east-1.rds.amazonaws.com",
            5432,
            "faber_admin",
            time,
        )
        .unwrap();
        assert_eq!(token, EXPECTED_TOKEN);
    }

    const EXPECTED_TOKEN: &str = concat!(
        "shop-prod.cluster-abc.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=faber_admin",
        "&X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "&X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Frds-db%2Faws4_request",
        "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host",
        "&X-Amz-Signature=db5d4e9ee018eb96db3d18f0020afe3c778d597fb08c9045107bffb70c6a68da",
    );
}
