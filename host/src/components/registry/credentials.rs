//! Registry credentials, read where container tools keep them and never
//! stored or shown by faber-db: `FABER_DB_REGISTRY_USERNAME` and
//! `FABER_DB_REGISTRY_PASSWORD` (a CI job's secrets), else the Docker/OCI
//! credentials file (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`,
//! then `$REGISTRY_AUTH_FILE` or Podman's `$XDG_RUNTIME_DIR/containers/auth.json`):
//! an inline `auth` entry, or the credential helper it names
//! (`credHelpers`, `credsStore`). Nothing found: anonymous.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use crate::failure::{Failure, Outcome};

#[derive(Default, Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: std::collections::BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Where the credentials for `registry` come from, for messages (never the
/// credentials themselves).
pub struct Credentials {
    pub auth: RegistryAuth,
    pub from: String,
}

pub fn for_registry(registry: &str) -> Outcome<Credentials> {
    if let (Ok(username), Ok(password)) = (
        std::env::var("FABER_DB_REGISTRY_USERNAME"),
        std::env::var("FABER_DB_REGISTRY_PASSWORD"),
    ) {
        return Ok(Credentials {
            auth: RegistryAuth::Basic(username, password),
            from: "FABER_DB_REGISTRY_USERNAME and FABER_DB_REGISTRY_PASSWORD".to_owned(),
        });
    }
    for path in auth_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let file: AuthFile = serde_json::from_str(&text).map_err(|err| {
            Failure::new(format!("Cannot read registry credentials from {}", path.display()))
                .cause(err)
                .help("Fix the file (docker login rewrites it), or set FABER_DB_REGISTRY_USERNAME and FABER_DB_REGISTRY_PASSWORD")
        })?;
        let keys = keys_for(registry);
        let from = format!("{} ({registry})", path.display());
        if let Some(helper) = keys
            .iter()
            .find_map(|key| file.cred_helpers.get(key))
            .or(file.creds_store.as_ref())
            && let Some(auth) = from_helper(helper, registry)?
        {
            return Ok(Credentials {
                auth,
                from: format!("docker-credential-{helper}"),
            });
        }
        if let Some(entry) = keys.iter().find_map(|key| file.auths.get(key)) {
            return Ok(Credentials {
                auth: from_entry(entry).map_err(|cause| {
                    Failure::new(format!(
                        "Cannot read the credentials for {registry} in {}",
                        path.display()
                    ))
                    .cause(cause)
                    .help(format!("Log in again: docker login {registry}"))
                })?,
                from,
            });
        }
    }
    Ok(Credentials {
        auth: RegistryAuth::Anonymous,
        from: "anonymous".to_owned(),
    })
}

fn auth_files() -> Vec<PathBuf> {
    let docker = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".docker")))
        .map(|dir| dir.join("config.json"));
    let containers = std::env::var_os("REGISTRY_AUTH_FILE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_RUNTIME_DIR")
                .map(|dir| PathBuf::from(dir).join("containers").join("auth.json"))
        });
    docker.into_iter().chain(containers).collect()
}

/// The keys a credentials file may use for `registry` (Docker Hub's is historical).
fn keys_for(registry: &str) -> Vec<String> {
    let mut keys = vec![registry.to_owned(), format!("https://{registry}")];
    if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        keys.push("https://index.docker.io/v1/".to_owned());
    }
    keys
}

fn from_entry(entry: &AuthEntry) -> Result<RegistryAuth, String> {
    if let (Some(username), Some(password)) = (&entry.username, &entry.password) {
        return Ok(RegistryAuth::Basic(username.clone(), password.clone()));
    }
    let Some(encoded) = &entry.auth else {
        return Ok(RegistryAuth::Anonymous);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| "its `auth` value is not base64".to_owned())?;
    let decoded = String::from_utf8(decoded).map_err(|_| "its `auth` value is not text")?;
    let (username, password) = decoded
        .split_once(':')
        .ok_or("its `auth` value is not USER:PASSWORD")?;
    Ok(RegistryAuth::Basic(
        username.to_owned(),
        password.to_owned(),
    ))
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Asks `docker-credential-HELPER get`, as Docker does; a helper that has
/// nothing for this registry means anonymous access.
fn from_helper(helper: &str, registry: &str) -> Outcome<Option<RegistryAuth>> {
    let program = format!("docker-credential-{helper}");
    let failed = |cause: String| {
        Failure::new(format!("Cannot get the credentials for {registry} from {program}"))
            .cause(cause)
            .help(format!(
                "Check that {program} is installed and logged in, or set FABER_DB_REGISTRY_USERNAME and FABER_DB_REGISTRY_PASSWORD"
            ))
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| failed(err.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(registry.as_bytes())
            .map_err(|err| failed(err.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|err| failed(err.to_string()))?;
    if !output.status.success() {
        return Ok(None);
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|_| failed("its answer is not the helper protocol's JSON".to_owned()))?;
    Ok(Some(RegistryAuth::Basic(answer.username, answer.secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_auth_entry_is_user_and_password() {
        let entry = AuthEntry {
            auth: Some(base64::engine::general_purpose::STANDARD.encode("ci:s3cret:with:colons")),
            username: None,
            password: None,
        };
        assert_eq!(
            from_entry(&entry).unwrap(),
            RegistryAuth::Basic("ci".to_owned(), "s3cret:with:colons".to_owned())
        );
        let broken = AuthEntry {
            auth: Some("%%%".to_owned()),
            username: None,
            password: None,
        };
        assert!(from_entry(&broken).unwrap_err().contains("base64"));
    }
}
