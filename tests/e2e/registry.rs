//! Handlers shared through an OCI registry: publish, add by tag and by
//! digest, install from the lock on a fresh checkout, outdated and update,
//! and every refusal, against a real `distribution` server on loopback.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::registry::{OCI_MANIFEST, Registry};
use crate::support::{
    Project, Run, Server, Target, assert_never_shown, component, files_under, sha256_hex, stdout_of,
};

const REPOSITORY: &str = "team/handler-db-dbmate";

fn config() -> Value {
    json!({
        "database": {"provider": "sqlite", "hosting": "local", "migration_tool": "handler-db-dbmate"},
        "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"}},
        "migrations": {"directory": "db/migrations"}
    })
}

/// A checkout of the team's project on one machine: the project folder and
/// that machine's (initially empty) handler cache.
struct Checkout {
    project: Project,
    cache: tempfile::TempDir,
}

impl Checkout {
    fn new() -> Checkout {
        Checkout {
            project: Project::with_config(&config()),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    /// Another machine's checkout of this project: the configuration and
    /// the lock file, nothing else.
    fn fresh_clone(&self) -> Checkout {
        let clone = Checkout::new();
        std::fs::write(clone.lock_path(), std::fs::read(self.lock_path()).unwrap()).unwrap();
        clone
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec![(
            "FABER_DB_HANDLER_CACHE",
            self.cache.path().to_str().unwrap(),
        )];
        all.extend_from_slice(env);
        self.project.run(args, &all)
    }

    fn lock_path(&self) -> PathBuf {
        self.project
            .path()
            .join(".fractary/plugins/faber-db/handlers.lock")
    }

    fn lock(&self) -> String {
        std::fs::read_to_string(self.lock_path()).unwrap_or_default()
    }

    fn cached(&self) -> Vec<(PathBuf, Vec<u8>)> {
        files_under(self.cache.path())
    }

    fn vendored(&self) -> PathBuf {
        self.project
            .path()
            .join(".fractary/plugins/faber-db/handlers")
    }

    /// `handler add REFERENCE` in a new checkout fails with an error that
    /// says `expected`, and writes nothing.
    fn assert_add_refused(reference: &str, env: &[(&str, &str)], expected: &str) {
        let checkout = Checkout::new();
        let run = checkout.run(&["handler", "add", reference, "--json"], env);
        assert_eq!(run.code, 1, "{reference}: {}", run.stdout);
        let error = run.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(expected), "{reference}: {}", run.stdout);
        checkout.assert_nothing_written();
    }

    /// A refused command left no lock, no cache entry and no project copy.
    fn assert_nothing_written(&self) {
        assert_eq!(self.lock(), "", "nothing pinned");
        assert!(self.cached().is_empty(), "nothing cached");
        assert!(
            !self.vendored().exists(),
            "nothing installed in the project"
        );
    }
}

fn publish(registry: &Registry, wasm: &Path, tag: &str, extra: &[&str]) -> Run {
    publish_with(registry, wasm, tag, extra, &[])
}

fn publish_with(
    registry: &Registry,
    wasm: &Path,
    tag: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let reference = registry.reference(&format!("{REPOSITORY}:{tag}"));
    let mut args = vec![
        "handler",
        "publish",
        wasm.to_str().unwrap(),
        &reference,
        "--json",
    ];
    args.extend_from_slice(extra);
    Run::from(
        std::process::Command::new(crate::support::BIN)
            .args(&args)
            .env("HOME", registry.storage())
            .env("FABER_DB_CACHE_DIR", crate::support::shared_cache_dir())
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap(),
    )
}

/// The same handler with different bytes (a custom section appended, which
/// a component may carry anywhere): a rebuild, as a new tag would hold.
fn rebuilt(wasm: &Path, label: &str) -> PathBuf {
    let mut bytes = std::fs::read(wasm).unwrap();
    let name = b"faber-test";
    let payload = label.as_bytes();
    let size = 1 + name.len() + payload.len();
    assert!(size < 128, "one-byte LEB128 size");
    bytes.extend_from_slice(&[0x00, size as u8, name.len() as u8]);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    let dir = std::env::temp_dir().join(format!("faber-rebuilt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("handler_db_dbmate_{label}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn sha256_file(path: &Path) -> String {
    sha256_hex(&std::fs::read(path).unwrap())
}

#[test]
fn a_published_handler_has_the_ecosystem_layout_and_only_a_conforming_one_is_published() {
    let registry = Registry::start();
    let wasm = component("handler-db-dbmate");
    let bytes = std::fs::read(&wasm).unwrap();
    let published = publish(&registry, &wasm, "0.1.0", &[]).assert_success();
    let digest = published["result"]["published"]["digest"].as_str().unwrap();

    // What any OCI client sees: an image manifest, the wasm config, one
    // application/wasm layer that is the component byte for byte.
    let raw = registry.manifest_bytes(REPOSITORY, "0.1.0").unwrap();
    assert_eq!(format!("sha256:{}", sha256_hex(&raw)), digest);
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], OCI_MANIFEST);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], "application/wasm");
    assert_eq!(layers[0]["size"], bytes.len());
    let layer_digest = format!("sha256:{}", sha256_hex(&bytes));
    assert_eq!(layers[0]["digest"], layer_digest.as_str());
    assert_eq!(registry.blob(REPOSITORY, &layer_digest), bytes);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "handler-db-dbmate"
    );
    let config: Value = serde_json::from_slice(
        &registry.blob(REPOSITORY, manifest["config"]["digest"].as_str().unwrap()),
    )
    .unwrap();
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(config["layerDigests"], json!([layer_digest]));
    assert!(
        config["component"]["exports"]
            .as_array()
            .unwrap()
            .contains(&json!(format!(
                "faber:db/migration-tool@{}",
                faber_db::runtime::CONTRACT_VERSION
            ))),
        "{config}"
    );
    assert!(
        published["result"]["conformance"]
            .as_array()
            .unwrap()
            .iter()
            .all(|check| check["passed"] == true)
    );

    // Publishing the same component again pushes nothing; another one under
    // the same tag needs --overwrite.
    let again = publish(&registry, &wasm, "0.1.0", &[]).assert_success();
    assert_eq!(again["result"]["published"]["pushed"], false);
    assert_eq!(again["result"]["published"]["digest"], digest);
    let other = rebuilt(&wasm, "b");
    let refused = publish(&registry, &other, "0.1.0", &[]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("already holds something else")
    );
    assert_eq!(registry.manifest_bytes(REPOSITORY, "0.1.0").unwrap(), raw);

    // A handler that fails the conformance suite is not pushed at all.
    let liar = publish(&registry, &component("lying-handler"), "0.9.0", &[]);
    assert_eq!(liar.code, 1);
    assert!(
        liar.json()["error"]
            .as_str()
            .unwrap()
            .contains("conformance suite"),
        "{}",
        liar.stdout
    );
    assert!(registry.manifest_bytes(REPOSITORY, "0.9.0").is_none());
}

#[test]
fn a_fresh_checkout_with_only_the_lock_installs_and_initializes() {
    let registry = Registry::start();
    let wasm = component("handler-db-dbmate");
    let sha256 = sha256_file(&wasm);
    let published = publish(&registry, &wasm, "0.1.0", &[]).assert_success();
    let digest = published["result"]["published"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();

    // Add by tag: shows what it may do, pins reference, digest and sha256,
    // keeps the component in the user's cache, not in the project.
    let team = Checkout::new();
    let reference = registry.reference(&format!("{REPOSITORY}:0.1.0"));
    let added = team
        .run(&["handler", "add", &reference, "--json"], &[])
        .assert_success();
    let pin = &added["result"]["pin"];
    assert_eq!(pin["name"], "handler-db-dbmate");
    assert_eq!(pin["source"], reference.as_str());
    assert_eq!(pin["digest"], digest.as_str());
    assert_eq!(pin["sha256"], sha256.as_str());
    assert!(
        added["result"]["handler"]["capabilities"]
            .to_string()
            .contains("SQL on the target database")
    );
    let lock = team.lock();
    assert!(
        lock.contains(&format!("source = \"{reference}\"")),
        "{lock}"
    );
    assert!(lock.contains(&format!("digest = \"{digest}\"")), "{lock}");
    assert!(!team.vendored().exists());
    let cached = team.cached();
    assert_eq!(cached.len(), 1);
    assert!(cached[0].0.ends_with(format!("sha256/{sha256}.wasm")));
    assert_eq!(cached[0].1, std::fs::read(&wasm).unwrap());

    // Another machine: only the lock. init does not fetch; it says how.
    let ci = team.fresh_clone();
    let target = Target::new(Server::Sqlite, "ci", ci.project.path());
    let env = [("DEV_DATABASE_URL", "file:./ci.db")];
    let missing = ci.run(&["init", "dev", "--json"], &env);
    assert_eq!(missing.code, 1, "{}", missing.stdout);
    let report = missing.json();
    assert!(
        report["error"].as_str().unwrap().contains("not installed"),
        "{report}"
    );
    assert!(
        report["recovery"]["suggestions"]
            .to_string()
            .contains("faber-db handler install")
    );
    assert!(!target.exists(), "nothing was created");

    let verify = ci.run(&["handler", "verify", "--json"], &[]);
    assert_eq!(verify.code, 1);
    let verified = verify.json();
    assert_eq!(verified["result"][0]["status"], "missing");
    assert!(
        verified["next_steps"]
            .to_string()
            .contains("faber-db handler install")
    );

    let installed = ci
        .run(&["handler", "install", "--json"], &[])
        .assert_success();
    assert_eq!(installed["result"][0]["status"], "installed");
    assert_eq!(ci.cached().len(), 1);
    assert_eq!(ci.cached()[0].1, std::fs::read(&wasm).unwrap());
    let report = ci.run(&["init", "dev", "--json"], &env).assert_success();
    assert_eq!(report["result"]["handler"]["name"], "handler-db-dbmate");
    assert_eq!(report["result"]["handler"]["source"], "cache");
    assert_eq!(report["result"]["handler"]["pin"], "verified");
    assert_eq!(
        target.query("SELECT count(*) FROM schema_migrations"),
        vec!["1"]
    );
    let again = ci
        .run(&["handler", "install", "--json"], &[])
        .assert_success();
    assert_eq!(again["result"][0]["status"], "present");
    ci.run(&["handler", "verify", "--json"], &[])
        .assert_success();
    let listing = ci.run(&["handler", "list", "--json"], &[]).assert_success();
    assert!(
        listing["result"]["available"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["source"] == "cache" && a["name"] == "handler-db-dbmate"),
        "{listing}"
    );

    // Add by digest: exactly that content, whatever the tag says.
    let by_digest = registry.reference(&format!("{REPOSITORY}@{digest}"));
    let pinned = Checkout::new();
    let added = pinned
        .run(&["handler", "add", &by_digest, "--vendor", "--json"], &[])
        .assert_success();
    assert_eq!(added["result"]["pin"]["source"], by_digest.as_str());
    assert_eq!(added["result"]["pin"]["sha256"], sha256.as_str());
    assert!(
        pinned
            .vendored()
            .join("handler-db-dbmate@0.1.0.wasm")
            .is_file()
    );
}

#[test]
fn install_gets_the_pinned_content_after_the_tag_moved_and_update_shows_the_move() {
    let registry = Registry::start();
    let original = component("handler-db-dbmate");
    publish(&registry, &original, "0.1.0", &[]).assert_success();
    let team = Checkout::new();
    let reference = registry.reference(&format!("{REPOSITORY}:0.1.0"));
    team.run(&["handler", "add", &reference, "--json"], &[])
        .assert_success();
    let lock_before = team.lock();

    // The tag moves to a rebuild; a newer tag holds another; and a tag for
    // a contract this host does not support, pushed by another tool.
    let moved = rebuilt(&original, "moved");
    publish(&registry, &moved, "0.1.0", &["--overwrite"]).assert_success();
    let newer = rebuilt(&original, "newer");
    publish(&registry, &newer, "0.2.0", &[]).assert_success();
    let future = std::fs::read(component("future-handler")).unwrap();
    let future_config = json!({
        "created": "2026-11-24T00:00:00Z", "author": null, "architecture": "wasm", "os": "wasip2",
        "layerDigests": [format!("sha256:{}", sha256_hex(&future))],
        "component": {"exports": ["faber:db/migration-tool@1.0.0"], "imports": [], "target": null}
    });
    registry.push_artifact(
        REPOSITORY,
        "1.0.0",
        (
            "application/vnd.wasm.config.v0+json",
            &serde_json::to_vec(&future_config).unwrap(),
        ),
        ("application/wasm", &future),
    );

    let ci = team.fresh_clone();
    ci.run(&["handler", "install", "--json"], &[])
        .assert_success();
    assert_eq!(ci.cached().len(), 1);
    assert_eq!(
        ci.cached()[0].1,
        std::fs::read(&original).unwrap(),
        "the pinned content, not what the tag points at now"
    );

    let outdated = team
        .run(&["handler", "outdated", "--json"], &[])
        .assert_success();
    let status = &outdated["result"][0];
    assert_eq!(status["name"], "handler-db-dbmate");
    assert_eq!(status["tag_moved"]["tag"], "0.1.0");
    let newer_tags: Vec<(String, bool)> = status["newer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| {
            (
                tag["tag"].as_str().unwrap().to_owned(),
                tag["supported"] == true,
            )
        })
        .collect();
    assert_eq!(
        newer_tags,
        vec![("1.0.0".to_owned(), false), ("0.2.0".to_owned(), true)]
    );
    assert_eq!(status["update_to"], "0.2.0");
    assert_eq!(team.lock(), lock_before, "outdated only reads");

    // Update checks like add: a contract this host does not support is
    // refused and nothing changes.
    let unsupported = team.run(
        &[
            "handler",
            "update",
            "handler-db-dbmate",
            "--tag",
            "1.0.0",
            "--json",
        ],
        &[],
    );
    assert_eq!(unsupported.code, 1, "{}", unsupported.stdout);
    assert!(
        unsupported.json()["cause"]
            .as_str()
            .unwrap()
            .contains("faber:db@1.0.0"),
        "{}",
        unsupported.stdout
    );
    assert_eq!(team.lock(), lock_before);

    // Every test component is also in the bundled folder of a checkout, so
    // a rebuild of dbmate replaces the bundled one: said explicitly.
    let updated = team
        .run(
            &[
                "handler",
                "update",
                "handler-db-dbmate",
                "--replace-bundled",
                "--json",
            ],
            &[],
        )
        .assert_success();
    assert_eq!(updated["result"]["tag_moved"]["tag"], "0.1.0");
    let pin = &updated["result"]["added"]["pin"];
    assert_eq!(
        pin["source"],
        registry.reference(&format!("{REPOSITORY}:0.2.0")).as_str()
    );
    assert_eq!(pin["sha256"], sha256_file(&newer).as_str());
    assert!(team.lock().contains(&sha256_file(&newer)));
    let current = team
        .run(&["handler", "update", "handler-db-dbmate", "--json"], &[])
        .assert_success();
    assert!(
        current["message"].as_str().unwrap().contains("up to date"),
        "{current}"
    );
    assert!(current["result"]["added"].is_null());
}

#[test]
fn what_does_not_match_its_digest_is_not_a_component_or_is_too_large_is_refused() {
    let registry = Registry::start();
    let wasm = component("handler-db-dbmate");
    let bytes = std::fs::read(&wasm).unwrap();
    publish(&registry, &wasm, "0.1.0", &[]).assert_success();
    let reference = registry.reference(&format!("{REPOSITORY}:0.1.0"));

    // Oversized: refused from the manifest's declared size.
    let limit = (bytes.len() - 1).to_string();
    let limited = [("FABER_DB_HANDLER_MAX_BYTES", limit.as_str())];
    Checkout::assert_add_refused(&reference, &limited, "larger than");

    // A manifest that understates the size: cut off while the bytes arrive.
    let config = registry.push_blob("team/understated", b"{}");
    let layer = registry.push_blob("team/understated", &bytes);
    registry.put_manifest(
        "team/understated",
        "1",
        &json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": config, "size": 2},
            "layers": [{"mediaType": "application/wasm", "digest": layer, "size": 100}],
        }),
    );
    Checkout::assert_add_refused(
        &registry.reference("team/understated:1"),
        &[("FABER_DB_HANDLER_MAX_BYTES", "1000")],
        "larger than",
    );

    // A container image, and a core module in the wasm layout: not components.
    registry.push_artifact(
        "team/image",
        "1",
        ("application/vnd.oci.image.config.v1+json", b"{}"),
        (
            "application/vnd.oci.image.layer.v1.tar+gzip",
            b"not a tarball",
        ),
    );
    registry.push_artifact(
        "team/module",
        "1",
        ("application/vnd.wasm.config.v0+json", b"{}"),
        ("application/wasm", b"\0asm\x01\0\0\0"),
    );
    for name in ["team/image:1", "team/module:1"] {
        Checkout::assert_add_refused(
            &registry.reference(name),
            &[],
            "is not a WebAssembly component",
        );
    }

    // Tampered with in the registry's storage after a project pinned it:
    // neither add nor install keeps anything.
    let team = Checkout::new();
    team.run(&["handler", "add", &reference, "--json"], &[])
        .assert_success();
    let blob = registry.blob_file(&format!("sha256:{}", sha256_hex(&bytes)));
    let mut tampered = std::fs::read(&blob).unwrap();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0xff;
    std::fs::write(&blob, tampered).unwrap();

    let ci = team.fresh_clone();
    let install = ci.run(&["handler", "install", "--json"], &[]);
    assert_eq!(install.code, 1, "{}", install.stdout);
    let report = install.json();
    assert_eq!(report["result"][0]["status"], "failed");
    assert!(
        report["result"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("does not match its digest"),
        "{report}"
    );
    assert!(ci.cached().is_empty(), "nothing cached");
    Checkout::assert_add_refused(&reference, &[], "does not match its digest");

    // A manifest changed in storage (still one the registry parses, as it
    // parses what it serves): refused before any layer is fetched.
    let other = rebuilt(&wasm, "manifest");
    let published = publish(&registry, &other, "0.3.0", &[]).assert_success();
    let manifest = registry.blob_file(published["result"]["published"]["digest"].as_str().unwrap());
    let mut changed = std::fs::read(&manifest).unwrap();
    changed.insert(changed.len() - 1, b' ');
    std::fs::write(&manifest, changed).unwrap();
    Checkout::assert_add_refused(
        &registry.reference(&format!("{REPOSITORY}:0.3.0")),
        &[],
        "does not match its digest",
    );
}

/// A bcrypt hash for the registry's htpasswd file, made by the system's crypt(3).
fn bcrypt(password: &str) -> String {
    let printed = stdout_of(std::process::Command::new("python3").args([
        "-W",
        "ignore",
        "-c",
        "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
        password,
    ]));
    String::from_utf8(printed).unwrap().trim().to_owned()
}

#[test]
fn registry_credentials_come_from_the_environment_or_the_docker_config_and_are_never_shown() {
    use base64::Engine;
    let password = "Registry-Pw-7c1e9a";
    let registry = Registry::start_with(Some(&format!("ci:{}\n", bcrypt(password))));
    let wasm = component("handler-db-dbmate");
    let reference = registry.reference(&format!("{REPOSITORY}:0.1.0"));
    let mut outputs = Vec::new();
    let mut keep = |what: &str, run: &Run| {
        outputs.push((format!("{what} stdout"), run.stdout.clone()));
        outputs.push((format!("{what} stderr"), run.stderr.clone()));
    };

    let denied = publish(&registry, &wasm, "0.1.0", &[]);
    keep("anonymous publish", &denied);
    assert_eq!(denied.code, 1, "{}", denied.stdout);
    assert!(
        denied.json()["recovery"]["suggestions"]
            .to_string()
            .contains("docker login"),
        "{}",
        denied.stdout
    );
    assert!(registry.manifest_bytes(REPOSITORY, "0.1.0").is_none());

    let env = [
        ("FABER_DB_REGISTRY_USERNAME", "ci"),
        ("FABER_DB_REGISTRY_PASSWORD", password),
    ];
    let published = publish_with(&registry, &wasm, "0.1.0", &[], &env);
    keep("publish", &published);
    published.assert_success();

    // docker login's file, as a developer's machine has it.
    let docker = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("ci:{password}"));
    std::fs::write(
        docker.path().join("config.json"),
        json!({"auths": {registry.host(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let team = Checkout::new();
    let docker_env = [("DOCKER_CONFIG", docker.path().to_str().unwrap())];
    let anonymous = team.run(&["handler", "add", &reference, "--json"], &[]);
    keep("anonymous add", &anonymous);
    assert_eq!(anonymous.code, 1);
    team.assert_nothing_written();
    for args in [
        vec!["handler", "add", reference.as_str(), "--json"],
        vec!["handler", "add", reference.as_str()],
        vec!["handler", "outdated", "--json"],
        vec!["handler", "outdated"],
    ] {
        let run = team.run(&args, &docker_env);
        keep(&args.join(" "), &run);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    }
    let ci = team.fresh_clone();
    for args in [
        vec!["handler", "install", "--json"],
        vec!["handler", "install"],
    ] {
        let run = ci.run(&args, &env);
        keep(&args.join(" "), &run);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    }
    assert_eq!(ci.cached().len(), 1);

    // A credential helper named by the file (as Docker Desktop or a cloud
    // CLI installs one), asked through the helper protocol.
    let helpers = tempfile::tempdir().unwrap();
    let helper = helpers.path().join("docker-credential-fabertest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\n[ \"$server\" = \"{}\" ] || exit 1\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"ci\",\"Secret\":\"{password}\"}}' \"$server\"\n",
            registry.host()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        docker.path().join("config.json"),
        json!({"credHelpers": {registry.host(): "fabertest"}}).to_string(),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        helpers.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let helped = Checkout::new();
    let run = helped.run(
        &["handler", "add", &reference, "--json"],
        &[
            ("DOCKER_CONFIG", docker.path().to_str().unwrap()),
            ("PATH", &path),
        ],
    );
    keep("add through a credential helper", &run);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    assert_never_shown(
        password,
        &outputs,
        &[
            team.project.path(),
            team.cache.path(),
            ci.project.path(),
            ci.cache.path(),
        ],
    );
}

/// An address of this machine that is not loopback, as a registry
/// elsewhere on the network would have.
fn non_loopback_address() -> std::net::IpAddr {
    let printed =
        String::from_utf8(stdout_of(std::process::Command::new("hostname").arg("-I"))).unwrap();
    printed
        .split_whitespace()
        .filter_map(|address| address.parse::<std::net::IpAddr>().ok())
        .find(|address| address.is_ipv4() && !address.is_loopback())
        .expect("this machine has a non-loopback IPv4 address")
}

#[test]
fn a_registry_off_this_machine_is_reached_over_verified_tls_only() {
    let (registry, certificate) = Registry::start_tls(non_loopback_address());
    let wasm = component("handler-db-dbmate");
    let reference = registry.reference(&format!("{REPOSITORY}:0.1.0"));

    // A certificate nobody vouches for: refused, nothing pushed or written.
    let untrusted = publish(&registry, &wasm, "0.1.0", &[]);
    assert_eq!(untrusted.code, 1, "{}", untrusted.stdout);
    assert!(
        untrusted.json()["cause"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("certificate"),
        "{}",
        untrusted.stdout
    );
    let team = Checkout::new();
    let run = team.run(&["handler", "add", &reference, "--json"], &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    team.assert_nothing_written();

    // Trusted (as a company CA installed on the machine would be): TLS works.
    let certificate = certificate.to_str().unwrap();
    publish_with(
        &registry,
        &wasm,
        "0.1.0",
        &[],
        &[("SSL_CERT_FILE", certificate)],
    )
    .assert_success();
    team.run(
        &["handler", "add", &reference, "--json"],
        &[("SSL_CERT_FILE", certificate)],
    )
    .assert_success();
}
