//! Handlers in OCI registries, in the component ecosystem's layout (the one
//! `wkg oci push` writes and the wasm-pkg tools read): an image manifest
//! whose config is `application/vnd.wasm.config.v0+json` and whose one layer
//! is the component, `application/wasm`.
//!
//! What comes from a registry is checked before anything is kept: the
//! manifest against the digest asked for and for the shape of a component
//! (not a container image, not a module), the layer's declared and received
//! size against the cap, and its bytes against its digest. TLS is verified;
//! only a registry on this machine (loopback) is spoken to in plain HTTP, as
//! Docker allows.

mod credentials;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageManifest,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::{Deserialize, Serialize};

use crate::failure::{Failure, Outcome};

pub const SCHEME: &str = "oci://";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// A component's preamble: `\0asm`, then the component layer's version.
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
/// The largest component fetched unless `FABER_DB_HANDLER_MAX_BYTES` says
/// otherwise: an interpreter-carrying component (Python) is ~20 MB.
const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// A wasm config is a few kilobytes; anything near this is not one.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// `oci://REGISTRY/REPOSITORY:TAG` or `oci://REGISTRY/REPOSITORY@sha256:DIGEST`.
#[derive(Clone, Debug)]
pub struct OciRef {
    reference: Reference,
}

impl OciRef {
    pub fn is_oci(text: &str) -> bool {
        text.starts_with(SCHEME)
    }

    pub fn parse(text: &str) -> Outcome<OciRef> {
        let invalid = |cause: String| {
            Failure::new(format!("Invalid registry reference {text}"))
                .cause(cause)
                .help("Write it as oci://REGISTRY/REPOSITORY:TAG or oci://REGISTRY/REPOSITORY@sha256:DIGEST, e.g. oci://ghcr.io/acme/handler-db-flyway:1.2.0")
        };
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or_else(|| invalid(format!("it does not start with {SCHEME}")))?;
        // Without a registry host, the reference grammar means Docker Hub;
        // a handler's origin is never guessed.
        let host = rest.split('/').next().unwrap_or_default();
        if !rest.contains('/') || !(host.contains('.') || host.contains(':') || host == "localhost")
        {
            return Err(invalid(format!(
                "{host:?} is not a registry host: name the registry (e.g. ghcr.io, registry.example.com:5000)"
            )));
        }
        // The grammar would default to `latest`: a moving target is never implied.
        let last = rest.rsplit('/').next().unwrap_or_default();
        if !last.contains(':') && !last.contains('@') {
            return Err(invalid("it names neither a tag nor a digest".to_owned()));
        }
        let reference: Reference = rest.parse().map_err(|err| invalid(format!("{err}")))?;
        if reference
            .digest()
            .is_some_and(|digest| !digest.starts_with("sha256:"))
        {
            return Err(invalid("only sha256 digests are accepted".to_owned()));
        }
        Ok(OciRef { reference })
    }

    pub fn registry(&self) -> &str {
        self.reference.registry()
    }

    /// The repository's last segment, which usually names the handler.
    pub fn name(&self) -> &str {
        let repository = self.reference.repository();
        repository.rsplit('/').next().unwrap_or(repository)
    }

    pub fn tag(&self) -> Option<&str> {
        self.reference.tag()
    }

    pub fn digest(&self) -> Option<&str> {
        self.reference.digest()
    }

    /// The same repository at exactly `digest`.
    pub fn at_digest(&self, digest: &str) -> OciRef {
        OciRef {
            reference: Reference::with_digest(
                self.reference.registry().to_owned(),
                self.reference.repository().to_owned(),
                digest.to_owned(),
            ),
        }
    }

    /// The same repository at `tag`.
    pub fn at_tag(&self, tag: &str) -> OciRef {
        OciRef {
            reference: Reference::with_tag(
                self.reference.registry().to_owned(),
                self.reference.repository().to_owned(),
                tag.to_owned(),
            ),
        }
    }
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}{}/{}",
            self.reference.registry(),
            self.reference.repository()
        )?;
        if let Some(tag) = self.reference.tag() {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = self.reference.digest() {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The size cap for one component.
pub fn max_bytes() -> u64 {
    std::env::var("FABER_DB_HANDLER_MAX_BYTES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_MAX_BYTES)
}

/// A registry connection for one repository, with the user's credentials.
struct Registry {
    client: Client,
    auth: RegistryAuth,
    credentials_from: String,
}

fn is_loopback(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Registry {
    fn connect(reference: &OciRef) -> Outcome<Registry> {
        let registry = reference.registry().to_owned();
        let protocol = if is_loopback(&registry) {
            ClientProtocol::HttpsExcept(vec![registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            // A component is one manifest; an index is refused, not resolved.
            platform_resolver: None,
            connect_timeout: Some(Duration::from_secs(15)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("faber-db/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let client = Client::try_from(config).map_err(|err| {
            Failure::new("Cannot set up the registry client").cause(err.to_string())
        })?;
        let credentials = credentials::for_registry(&registry)?;
        Ok(Registry {
            client,
            auth: credentials.auth,
            credentials_from: credentials.from,
        })
    }

    /// The user's error for a registry call that failed.
    fn failure(
        &self,
        what: &str,
        reference: &OciRef,
        err: oci_client::errors::OciDistributionError,
    ) -> Failure {
        use oci_client::errors::{OciDistributionError as E, OciErrorCode};
        let denied = match &err {
            E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => true,
            E::ServerError { code, .. } => matches!(code, 401 | 403),
            E::RegistryError { envelope, .. } => envelope.errors.iter().any(|error| {
                matches!(
                    error.code,
                    OciErrorCode::Unauthorized | OciErrorCode::Denied
                )
            }),
            _ => false,
        };
        let text = causes(&err);
        let failure = Failure::new(format!("Cannot {what} {reference}")).cause(&text);
        if denied {
            failure
                .cause(format!("credentials used: {}", self.credentials_from))
                .help(format!(
                    "Log in to the registry (docker login {}), or set FABER_DB_REGISTRY_USERNAME and FABER_DB_REGISTRY_PASSWORD",
                    reference.registry()
                ))
        } else if text.to_ascii_lowercase().contains("certificate") {
            failure.help("This machine does not trust the registry's TLS certificate: add the authority that signed it to the system's trust store (or SSL_CERT_FILE); faber-db never skips the check")
        } else {
            failure.help("Check the reference and that the registry is reachable from this machine")
        }
    }
}

/// An error and its sources, each once: the TLS or connection failure under
/// an HTTP client's "error sending request" is the part a user can act on.
fn causes(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(next) = source {
        let text = next.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = next.source();
    }
    parts.join(": ")
}

/// A component fetched from a registry and checked.
pub struct Fetched {
    /// The manifest's digest (`sha256:…`).
    pub digest: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Fetches the component `reference` names, refusing anything that is not
/// exactly one component within the size cap whose bytes match their digest.
pub async fn fetch(reference: &OciRef) -> Outcome<Fetched> {
    let registry = Registry::connect(reference)?;
    let (manifest, digest) = manifest(&registry, reference).await?;
    let layer = component_layer(reference, &manifest)?;
    let bytes = pull_capped(&registry, reference, layer, max_bytes(), "component").await?;
    if !bytes.starts_with(&COMPONENT_HEADER) {
        return Err(not_a_component(
            reference,
            "its layer is not a WebAssembly component (a core module, or not WebAssembly at all)",
        ));
    }
    Ok(Fetched {
        digest,
        sha256: crate::runtime::sha256_hex(&bytes),
        bytes,
    })
}

/// The manifest `reference` names and its digest, checked against the
/// reference's digest when it has one.
async fn manifest(registry: &Registry, reference: &OciRef) -> Outcome<(OciImageManifest, String)> {
    let accepted = [
        OCI_IMAGE_MEDIA_TYPE,
        IMAGE_MANIFEST_MEDIA_TYPE,
        OCI_IMAGE_INDEX_MEDIA_TYPE,
        IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    ];
    let (body, _) = registry
        .client
        .pull_manifest_raw(&reference.reference, &registry.auth, &accepted)
        .await
        .map_err(|err| match err {
            oci_client::errors::OciDistributionError::DigestError(err) => {
                mismatch(reference, "manifest", &err.to_string())
            }
            other => registry.failure("fetch", reference, other),
        })?;
    let computed = format!("sha256:{}", crate::runtime::sha256_hex(&body));
    if let Some(expected) = reference.digest()
        && computed != expected
    {
        return Err(mismatch(
            reference,
            "manifest",
            &format!("expected {expected}, received {computed}"),
        ));
    }
    let manifest: OciImageManifest = serde_json::from_slice(&body).map_err(|err| {
        not_a_component(
            reference,
            &format!("its manifest is not an image manifest: {err}"),
        )
    })?;
    Ok((manifest, computed))
}

/// The one `application/wasm` layer of a component manifest.
fn component_layer<'a>(
    reference: &OciRef,
    manifest: &'a OciImageManifest,
) -> Outcome<&'a OciDescriptor> {
    if matches!(
        manifest.media_type.as_deref(),
        Some(OCI_IMAGE_INDEX_MEDIA_TYPE | IMAGE_MANIFEST_LIST_MEDIA_TYPE)
    ) {
        return Err(not_a_component(
            reference,
            "it is an image index (a multi-platform image), not a component",
        ));
    }
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(not_a_component(
            reference,
            &format!(
                "its config is {}, not {CONFIG_MEDIA_TYPE}",
                manifest.config.media_type
            ),
        ));
    }
    match manifest.layers.as_slice() {
        [layer] if layer.media_type == LAYER_MEDIA_TYPE => {
            let cap = max_bytes();
            if u64::try_from(layer.size).unwrap_or(u64::MAX) > cap {
                return Err(oversized(
                    reference,
                    &format!("its manifest declares {} bytes", layer.size),
                    cap,
                ));
            }
            Ok(layer)
        }
        layers => Err(not_a_component(
            reference,
            &format!(
                "it has {} layer(s) of types {}; a component has one {LAYER_MEDIA_TYPE} layer",
                layers.len(),
                layers
                    .iter()
                    .map(|layer| layer.media_type.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// A blob, read no further than `cap` bytes and checked against its digest.
async fn pull_capped(
    registry: &Registry,
    reference: &OciRef,
    descriptor: &OciDescriptor,
    cap: u64,
    what: &str,
) -> Outcome<Vec<u8>> {
    let mut stream = registry
        .client
        .pull_blob_stream(&reference.reference, descriptor)
        .await
        .map_err(|err| registry.failure(&format!("fetch the {what} of"), reference, err))?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            // The client's own digest check ends the stream with an error;
            // ours below names both digests.
            Err(err) if err.to_string().to_ascii_lowercase().contains("digest") => break,
            Err(err) => {
                return Err(Failure::new(format!("Cannot fetch the {what} of {reference}"))
                    .cause(causes(&err))
                    .help("Check that the registry is reachable from this machine, then run the command again; nothing was written"));
            }
        };
        if (bytes.len() + chunk.len()) as u64 > cap {
            return Err(oversized(reference, &format!("its {what} is larger"), cap));
        }
        bytes.extend_from_slice(&chunk);
    }
    let received = format!("sha256:{}", crate::runtime::sha256_hex(&bytes));
    if received != descriptor.digest {
        return Err(mismatch(
            reference,
            what,
            &format!(
                "the registry declares {}, the content received hashes to {received}",
                descriptor.digest
            ),
        ));
    }
    Ok(bytes)
}

fn mismatch(reference: &OciRef, what: &str, detail: &str) -> Failure {
    Failure::new(format!(
        "The {what} of {reference} does not match its digest"
    ))
    .cause(detail)
    .help("The registry's content is corrupt or was tampered with: nothing was written; report it to the registry's owner")
}

fn not_a_component(reference: &OciRef, detail: &str) -> Failure {
    Failure::new(format!("{reference} is not a WebAssembly component"))
        .cause(detail)
        .help(format!(
            "Publish handlers with faber-db handler publish (or wkg oci push): one {LAYER_MEDIA_TYPE} layer, config {CONFIG_MEDIA_TYPE}; nothing was written"
        ))
}

fn oversized(reference: &OciRef, detail: &str, cap: u64) -> Failure {
    Failure::new(format!("{reference} is larger than the {cap}-byte limit for a handler"))
        .cause(detail)
        .help("If the handler really is this large, raise FABER_DB_HANDLER_MAX_BYTES; nothing was written")
}

/// What a published component's config says about it (the wasm-pkg tools'
/// `WasmConfig`), and so about the contract it was built for.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig {
    created: String,
    author: Option<String>,
    architecture: String,
    os: String,
    layer_digests: Vec<String>,
    component: Option<ComponentSection>,
}

#[derive(Serialize, Deserialize)]
struct ComponentSection {
    exports: Vec<String>,
    imports: Vec<String>,
    target: Option<String>,
}

/// What `publish` says about the component.
pub struct Package<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub description: &'a str,
    /// Interface names, e.g. `faber:db/migration-tool@0.2.0`.
    pub exports: Vec<String>,
    pub imports: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Published {
    pub reference: String,
    /// The manifest's digest: pin it, or add `oci://…@DIGEST`.
    pub digest: String,
    pub layer_digest: String,
    pub config_digest: String,
    pub size: u64,
    /// False when the tag already held this very component (nothing pushed).
    pub pushed: bool,
    /// The manifest digest the tag pointed at before, when it moved.
    pub moved_from: Option<String>,
}

/// Pushes `bytes` as `reference` in the standard layout. A tag that points at
/// another component is moved only with `overwrite`.
pub async fn publish(
    reference: &OciRef,
    bytes: Vec<u8>,
    package: &Package<'_>,
    overwrite: bool,
) -> Outcome<Published> {
    let registry = Registry::connect(reference)?;
    let layer_digest = format!("sha256:{}", crate::runtime::sha256_hex(&bytes));
    // Whatever the tag holds now (a component or not) is only replaced on purpose.
    let previous = registry
        .client
        .fetch_manifest_digest(&reference.reference, &registry.auth)
        .await
        .ok();
    if let Some(digest) = &previous {
        if let Ok((manifest, _)) = manifest(&registry, reference).await
            && manifest.layers.len() == 1
            && manifest.layers[0].digest == layer_digest
        {
            return Ok(Published {
                reference: reference.to_string(),
                digest: digest.clone(),
                layer_digest,
                config_digest: manifest.config.digest,
                size: bytes.len() as u64,
                pushed: false,
                moved_from: None,
            });
        }
        if !overwrite {
            return Err(Failure::new(format!(
                "{reference} already holds something else"
            ))
            .cause(format!("the tag points at {digest}"))
            .help("Publish under a new version tag (projects that pinned the old one keep it by digest either way)")
            .help("To move the tag anyway, add --overwrite"));
        }
    }
    let config = WasmConfig {
        created: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        author: None,
        architecture: "wasm".to_owned(),
        os: "wasip2".to_owned(),
        layer_digests: vec![layer_digest.clone()],
        component: Some(ComponentSection {
            exports: package.exports.clone(),
            imports: package.imports.clone(),
            target: None,
        }),
    };
    let config = serde_json::to_vec(&config)
        .map_err(|err| Failure::new("Cannot render the component's config").cause(err))?;
    let config_digest = format!("sha256:{}", crate::runtime::sha256_hex(&config));
    let annotations = BTreeMap::from([
        (
            "org.opencontainers.image.title".to_owned(),
            package.name.to_owned(),
        ),
        (
            "org.opencontainers.image.version".to_owned(),
            package.version.to_owned(),
        ),
        (
            "org.opencontainers.image.description".to_owned(),
            package.description.to_owned(),
        ),
    ]);
    let manifest = OciImageManifest {
        media_type: Some(OCI_IMAGE_MEDIA_TYPE.to_owned()),
        config: OciDescriptor {
            media_type: CONFIG_MEDIA_TYPE.to_owned(),
            digest: config_digest.clone(),
            size: config.len() as i64,
            ..OciDescriptor::default()
        },
        layers: vec![OciDescriptor {
            media_type: LAYER_MEDIA_TYPE.to_owned(),
            digest: layer_digest.clone(),
            size: bytes.len() as i64,
            ..OciDescriptor::default()
        }],
        annotations: Some(annotations),
        ..OciImageManifest::default()
    };
    let body = serde_json::to_vec(&manifest)
        .map_err(|err| Failure::new("Cannot render the manifest").cause(err))?;
    let digest = format!("sha256:{}", crate::runtime::sha256_hex(&body));
    let size = bytes.len() as u64;
    let target = &reference.reference;
    registry
        .client
        .store_auth_if_needed(reference.registry(), &registry.auth)
        .await;
    let push_failed = |err| registry.failure("push to", reference, err);
    registry
        .client
        .push_blob(target, bytes, &layer_digest)
        .await
        .map_err(push_failed)?;
    registry
        .client
        .push_blob(target, config, &config_digest)
        .await
        .map_err(push_failed)?;
    registry
        .client
        .push_manifest_raw(
            target,
            body,
            http::HeaderValue::from_static(OCI_IMAGE_MEDIA_TYPE),
        )
        .await
        .map_err(push_failed)?;
    Ok(Published {
        reference: reference.to_string(),
        digest,
        layer_digest,
        config_digest,
        size,
        pushed: true,
        moved_from: previous,
    })
}

/// The repository's tags.
pub async fn tags(reference: &OciRef) -> Outcome<Vec<String>> {
    let registry = Registry::connect(reference)?;
    registry
        .client
        .list_tags(&reference.reference, &registry.auth, None, None)
        .await
        .map(|response| response.tags)
        .map_err(|err| registry.failure("list the tags of", reference, err))
}

/// What a tag points at now: its manifest digest and the contract version
/// its config says the component exports (`0.2.0`), if it says.
pub struct TagInfo {
    pub digest: String,
    pub contract: Option<String>,
}

pub async fn inspect_tag(reference: &OciRef) -> Outcome<TagInfo> {
    let registry = Registry::connect(reference)?;
    let (manifest, digest) = manifest(&registry, reference).await?;
    component_layer(reference, &manifest)?;
    let config = pull_capped(
        &registry,
        reference,
        &manifest.config,
        MAX_CONFIG_BYTES,
        "config",
    )
    .await?;
    let contract = serde_json::from_slice::<WasmConfig>(&config)
        .ok()
        .and_then(|config| config.component)
        .and_then(|component| {
            component.exports.iter().find_map(|export| {
                ["faber:db/migration-tool@", "faber:db/cloud-provider@"]
                    .iter()
                    .find_map(|prefix| export.strip_prefix(prefix))
                    .map(|version| version.to_owned())
            })
        });
    Ok(TagInfo { digest, contract })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_registry_and_a_tag_or_digest() {
        let tagged = OciRef::parse("oci://127.0.0.1:5000/team/handler-db-x:1.2.0").unwrap();
        assert_eq!(tagged.registry(), "127.0.0.1:5000");
        assert_eq!(tagged.tag(), Some("1.2.0"));
        assert_eq!(
            tagged.to_string(),
            "oci://127.0.0.1:5000/team/handler-db-x:1.2.0"
        );
        let digest = format!("sha256:{}", "a".repeat(64));
        let pinned = tagged.at_digest(&digest);
        assert_eq!(
            pinned.to_string(),
            format!("oci://127.0.0.1:5000/team/handler-db-x@{digest}")
        );
        for bad in [
            "ghcr.io/acme/x:1",
            "oci://handler-db-x:1.0",
            "oci://acme/handler-db-x:1.0",
            "oci://ghcr.io/acme/handler-db-x",
            "oci://ghcr.io/acme/x@md5:abc",
        ] {
            let failure = OciRef::parse(bad).unwrap_err();
            assert!(
                failure.error.starts_with("Invalid registry reference"),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_loopback_registries_speak_plain_http() {
        for local in [
            "127.0.0.1:5000",
            "127.8.9.1",
            "localhost:5000",
            "[::1]:5000",
        ] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in [
            "ghcr.io",
            "10.0.0.1:5000",
            "registry.example.com:5000",
            "localhost.evil.com",
        ] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }
}
