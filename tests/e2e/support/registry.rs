//! A real OCI registry for the registry tests: Debian's `docker-registry`
//! (the CNCF `distribution` server) on a free loopback port, storing into a
//! temporary folder, stopped and removed when the value is dropped. What it
//! holds is read back (and, for the refusal tests, written or tampered with)
//! through its own HTTP API with curl and through its storage folder, never
//! through faber-db's code.

use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{sha256_hex, stdout_of};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

pub struct Registry {
    child: Child,
    address: IpAddr,
    port: u16,
    storage: tempfile::TempDir,
}

impl Registry {
    /// A registry without authentication.
    pub fn start() -> Registry {
        Registry::start_with(None)
    }

    /// A registry that asks for HTTP basic authentication; `htpasswd` holds
    /// `user:bcrypt-hash` lines.
    pub fn start_with(htpasswd: Option<&str>) -> Registry {
        Registry::spawn(IpAddr::from([127, 0, 0, 1]), |storage| match htpasswd {
            Some(lines) => {
                let path = storage.join("htpasswd");
                std::fs::write(&path, lines).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: faber-test\n    path: {}\n",
                    path.display()
                )
            }
            None => String::new(),
        })
    }

    /// A registry on `address` (not loopback) speaking TLS with a
    /// certificate for that address from a throwaway authority; returns it
    /// and the authority's PEM file.
    pub fn start_tls(address: IpAddr) -> (Registry, PathBuf) {
        let registry = Registry::spawn(address, |dir| {
            let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
            let openssl = |args: &[&str]| stdout_of(Command::new("openssl").args(args));
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=faber-test-authority",
                "-keyout",
                &file("ca.key"),
                "-out",
                &file("ca.pem"),
            ]);
            openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=faber-test-registry",
                "-keyout",
                &file("key.pem"),
                "-out",
                &file("request.csr"),
            ]);
            std::fs::write(
                dir.join("extensions.cnf"),
                format!("subjectAltName=IP:{address}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
            )
            .unwrap();
            openssl(&[
                "x509",
                "-req",
                "-in",
                &file("request.csr"),
                "-CA",
                &file("ca.pem"),
                "-CAkey",
                &file("ca.key"),
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                &file("extensions.cnf"),
                "-out",
                &file("cert.pem"),
            ]);
            format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                file("cert.pem"),
                file("key.pem")
            )
        });
        let authority = registry.storage().join("ca.pem");
        (registry, authority)
    }

    /// Starts `docker-registry` on `address`; `extra` writes what the
    /// configuration needs after its `http` section's address.
    fn spawn(address: IpAddr, extra: impl FnOnce(&Path) -> String) -> Registry {
        let program = "docker-registry";
        assert!(
            Command::new("sh")
                .args(["-c", &format!("command -v {program}")])
                .stdout(Stdio::null())
                .status()
                .unwrap()
                .success(),
            "{program} is missing: run `bash tests/run.sh`, which installs Debian's docker-registry"
        );
        let storage = tempfile::tempdir().unwrap();
        let port = TcpListener::bind((address, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let extra = extra(storage.path());
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: {address}:{port}\n{extra}",
                storage.path().join("data").display()
            ),
        )
        .unwrap();
        let mut child = Command::new(program)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect((address, port)).is_err() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "docker-registry exited"
            );
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry {
            child,
            address,
            port,
            storage,
        }
    }

    pub fn host(&self) -> String {
        format!("{}:{}", self.address, self.port)
    }

    /// `oci://127.0.0.1:PORT/NAME`, NAME being `repository:tag` or `repository@digest`.
    pub fn reference(&self, name: &str) -> String {
        format!("oci://{}/{name}", self.host())
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/v2/{path}", self.host())
    }

    fn curl(&self, args: &[&str]) -> (u32, Vec<u8>) {
        let mut body = stdout_of(
            Command::new("curl")
                .args(["-sS", "-w", "\n%{http_code}"])
                .args(args),
        );
        let split = body.iter().rposition(|b| *b == b'\n').unwrap();
        let code = String::from_utf8_lossy(&body[split + 1..]).parse().unwrap();
        body.truncate(split);
        (code, body)
    }

    /// The raw manifest `reference` (a tag or digest) names, or `None` (404).
    pub fn manifest_bytes(&self, repository: &str, reference: &str) -> Option<Vec<u8>> {
        let (code, body) = self.curl(&[
            "-H",
            &format!("Accept: {OCI_MANIFEST}"),
            &self.url(&format!("{repository}/manifests/{reference}")),
        ]);
        (code == 200).then_some(body)
    }

    pub fn blob(&self, repository: &str, digest: &str) -> Vec<u8> {
        let (code, body) = self.curl(&["-L", &self.url(&format!("{repository}/blobs/{digest}"))]);
        assert_eq!(code, 200);
        body
    }

    /// Uploads a blob (an upload session, then one PUT); returns its digest.
    pub fn push_blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = format!("sha256:{}", sha256_hex(bytes));
        let headers = self.storage.path().join("headers");
        let (code, _) = self.curl(&[
            "-X",
            "POST",
            "-D",
            headers.to_str().unwrap(),
            &self.url(&format!("{repository}/blobs/uploads/")),
        ]);
        assert_eq!(code, 202);
        let headers = std::fs::read_to_string(&headers).unwrap();
        let location = headers
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("location")
                    .then(|| value.trim().to_owned())
            })
            .expect("the upload session has a location");
        let separator = if location.contains('?') { '&' } else { '?' };
        let file = self.storage.path().join("upload");
        std::fs::write(&file, bytes).unwrap();
        let (code, body) = self.curl(&[
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &format!("@{}", file.display()),
            &format!("{location}{separator}digest={digest}"),
        ]);
        assert_eq!(code, 201, "{}", String::from_utf8_lossy(&body));
        digest
    }

    /// Puts `manifest` under `tag`; returns its digest.
    pub fn put_manifest(&self, repository: &str, tag: &str, manifest: &Value) -> String {
        let bytes = serde_json::to_vec(manifest).unwrap();
        let file = self.storage.path().join("manifest");
        std::fs::write(&file, &bytes).unwrap();
        let media_type = manifest["mediaType"].as_str().unwrap_or(OCI_MANIFEST);
        let (code, body) = self.curl(&[
            "-X",
            "PUT",
            "-H",
            &format!("Content-Type: {media_type}"),
            "--data-binary",
            &format!("@{}", file.display()),
            &self.url(&format!("{repository}/manifests/{tag}")),
        ]);
        assert_eq!(code, 201, "{}", String::from_utf8_lossy(&body));
        format!("sha256:{}", sha256_hex(&bytes))
    }

    /// Pushes `layer` under `tag` with the given media types, as another
    /// tool (or an attacker with write access) might.
    pub fn push_artifact(
        &self,
        repository: &str,
        tag: &str,
        config: (&str, &[u8]),
        layer: (&str, &[u8]),
    ) -> String {
        let config_digest = self.push_blob(repository, config.1);
        let layer_digest = self.push_blob(repository, layer.1);
        self.put_manifest(
            repository,
            tag,
            &serde_json::json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": config.0, "digest": config_digest, "size": config.1.len()},
                "layers": [{"mediaType": layer.0, "digest": layer_digest, "size": layer.1.len()}],
            }),
        )
    }

    /// Where the registry keeps a blob on disk.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    pub fn storage(&self) -> &Path {
        self.storage.path()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
