//! How the host reaches a cloud environment's database when no connection
//! string is given (`environments.<name>.connect`).
//!
//! The endpoint and the credentials come from the infrastructure itself; what
//! a team still has to choose is here: how to authenticate, how strictly to
//! check the server, and a way in when the endpoint is private (a tunnel).
//! Every key is optional: the defaults are the managed master secret and TLS
//! verified against the endpoint's name.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectSettings {
    #[serde(default)]
    pub auth: CloudAuth,
    /// The database user for IAM authentication; the master user when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Absent: `verify-full`, or `verify-ca` through a tunnel (whose address
    /// is not the name in the server's certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsMode>,
    /// PEM file of the certificate authorities to trust, relative to the
    /// project directory (for RDS: Amazon's RDS bundle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
    /// Connect here instead of the endpoint: the local end of an SSH tunnel
    /// or a bastion's port forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl ConnectSettings {
    pub fn is_default(&self) -> bool {
        *self == ConnectSettings::default()
    }

    /// The TLS mode in force: the configured one, else the strictest that can
    /// work for the way in.
    pub fn tls_mode(&self) -> TlsMode {
        self.tls.unwrap_or(if self.host.is_some() {
            TlsMode::VerifyCa
        } else {
            TlsMode::VerifyFull
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloudAuth {
    /// The master user's password from the RDS-managed secret.
    #[default]
    ManagedSecret,
    /// A short-lived IAM authentication token from the host's AWS identity.
    Iam,
}

impl CloudAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            CloudAuth::ManagedSecret => "managed-secret",
            CloudAuth::Iam => "iam",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Encrypted; the certificate chains to a trusted authority and names
    /// the host connected to.
    VerifyFull,
    /// Encrypted; the certificate chains to a trusted authority.
    VerifyCa,
    /// Encrypted, the server unverified.
    Require,
    /// Plain text: only for a server on a trusted network.
    Disable,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::VerifyFull => "verify-full",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::Require => "require",
            TlsMode::Disable => "disable",
        }
    }

    pub fn encrypts(self) -> bool {
        self != TlsMode::Disable
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_verify_the_endpoint_and_relax_only_the_name_through_a_tunnel() {
        let direct: ConnectSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(direct.auth, CloudAuth::ManagedSecret);
        assert_eq!(direct.tls_mode(), TlsMode::VerifyFull);
        let tunnel: ConnectSettings =
            serde_json::from_str(r#"{"host": "127.0.0.1", "port": 15432}"#).unwrap();
        assert_eq!(tunnel.tls_mode(), TlsMode::VerifyCa);
        let chosen: ConnectSettings =
            serde_json::from_str(r#"{"auth": "iam", "tls": "require", "host": "localhost"}"#)
                .unwrap();
        assert_eq!(chosen.auth, CloudAuth::Iam);
        assert_eq!(chosen.tls_mode(), TlsMode::Require);
    }
}
