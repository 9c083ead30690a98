//! Embeds the bundled handler components into the binary, so that an
//! installed `faber-db` (`cargo install --path host`) has Prisma, dbmate and
//! AWS wherever it is copied, with no checkout beside it; and, for a build
//! whose target is the machine building it, their native code compiled with
//! the runtime's own engine configuration, so a fresh machine's first use
//! loads them instead of compiling them.
//!
//! With `FABER_DB_BUNDLED_DIR` set (the test command sets it to the
//! components it has just built), the `.wasm` files are taken from that
//! folder as they are. Otherwise the handlers are built here for
//! wasm32-wasip2, release, by a cargo of their own in
//! `<target>/bundled-handlers` (a target folder the outer build does not
//! lock, kept across builds so a rebuild is incremental).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

#[path = "src/runtime/engine_config.rs"]
mod engine_config;

/// A workspace member is bundled when its `Cargo.toml` says so:
///
/// ```toml
/// [package.metadata.faber-db]
/// bundled = true
/// ```
///
/// So a new bundled handler is a crate and a line in the workspace, and
/// nothing here.
const METADATA_TABLE: &str = "[package.metadata.faber-db]";

fn main() {
    println!("cargo:rerun-if-env-changed=FABER_DB_BUNDLED_DIR");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let workspace = manifest.parent().expect("host/ sits in the workspace");

    let bundled = bundled_packages(workspace);
    let dir = match std::env::var_os("FABER_DB_BUNDLED_DIR") {
        Some(dir) => absolute(workspace, Path::new(&dir)),
        None => build(workspace, &out, &bundled),
    };
    let mut table = String::from("&[\n");
    let mut precompiled = String::from("&[\n");
    let engine = native_engine();
    for Bundled { name, version } in &bundled {
        let file = dir.join(format!("{}.wasm", name.replace('-', "_")));
        println!("cargo:rerun-if-changed={}", file.display());
        if !file.is_file() {
            panic!(
                "bundled handler {name} is missing: {} does not exist\n\
                 help: build it with `cargo build --release --target wasm32-wasip2 -p {name}`, \
                 or unset FABER_DB_BUNDLED_DIR to have this build do it",
                file.display()
            );
        }
        let bytes = std::fs::read(&file).expect("reading a bundled handler");
        let sha256: String = Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        table.push_str(&format!(
            "    Embedded {{ name: {name:?}, version: {version:?}, sha256: {sha256:?}, bytes: include_bytes!({:?}) }},\n",
            file.display().to_string()
        ));
        if let Some(engine) = &engine {
            let code = out.join(format!("{sha256}.cwasm"));
            if !code.is_file() {
                let compiled = engine
                    .precompile_component(&bytes)
                    .unwrap_or_else(|err| panic!("compiling bundled handler {name}: {err:#}"));
                std::fs::write(&code, compiled).expect("writing a bundled handler's native code");
            }
            precompiled.push_str(&format!(
                "    ({sha256:?}, include_bytes!({:?})),\n",
                code.display().to_string()
            ));
        }
    }
    table.push_str("]\n");
    precompiled.push_str("]\n");
    std::fs::write(out.join("bundled.rs"), table).expect("writing OUT_DIR/bundled.rs");
    std::fs::write(out.join("precompiled.rs"), precompiled)
        .expect("writing OUT_DIR/precompiled.rs");
}

/// The runtime's engine, when the binary runs where it is built: native code
/// is for one machine, so a build for another target embeds none (its first
/// use compiles, as a third-party handler's does).
fn native_engine() -> Option<wasmtime::Engine> {
    println!("cargo:rerun-if-changed=src/runtime/engine_config.rs");
    let target = std::env::var("TARGET").ok()?;
    let host = std::env::var("HOST").ok()?;
    if target != host {
        return None;
    }
    Some(
        wasmtime::Engine::new(&engine_config::config())
            .expect("the runtime's engine configuration"),
    )
}

/// A bundled package, as its `Cargo.toml` says.
struct Bundled {
    name: String,
    /// Its own version, or the workspace's (the host's) where it inherits it.
    version: String,
}

/// The bundled packages, in the order the workspace lists them (the order
/// `handler list` shows them and `config init` asks them).
fn bundled_packages(workspace: &Path) -> Vec<Bundled> {
    let manifest = workspace.join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let text = std::fs::read_to_string(&manifest).expect("reading the workspace's Cargo.toml");
    let members = text
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(members, _)| members)
        .expect("the workspace's Cargo.toml lists its members");
    members
        .split(',')
        .map(|member| member.trim().trim_matches('"'))
        .filter(|member| !member.is_empty())
        .filter_map(|member| {
            let manifest = workspace.join(member).join("Cargo.toml");
            println!("cargo:rerun-if-changed={}", manifest.display());
            let text = std::fs::read_to_string(&manifest).ok()?;
            let (_, metadata) = text.split_once(METADATA_TABLE)?;
            let table = metadata.split("\n[").next().unwrap_or(metadata);
            let bundled = table
                .lines()
                .any(|line| line.replace(' ', "") == "bundled=true");
            bundled.then(|| Bundled {
                name: manifest_value(&text, "name").expect("a package has a name"),
                version: manifest_value(&text, "version")
                    .unwrap_or_else(|| std::env::var("CARGO_PKG_VERSION").expect("cargo sets it")),
            })
        })
        .collect()
}

/// The string a line `key = "…"` of a manifest gives, the first such line.
fn manifest_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
        Some(value.trim().trim_matches('"').to_owned())
    })
}

/// A relative `FABER_DB_BUNDLED_DIR` is relative to the workspace.
fn absolute(workspace: &Path, dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        workspace.join(dir)
    }
}

/// Builds the bundled handlers and returns the folder holding their `.wasm`.
fn build(workspace: &Path, out: &Path, bundled: &[Bundled]) -> PathBuf {
    for watched in ["handlers", "wit", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    let target_dir = target_root(out).join("bundled-handlers");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer build's flags and wrappers (clippy's, a host RUSTFLAGS)
        // are not meant for the components.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        // Its stdout would be read as this script's instructions to cargo.
        .stdout(Stdio::null());
    for Bundled { name, .. } in bundled {
        command.args(["-p", name]);
    }
    let status = command
        .status()
        .expect("running cargo for the bundled handlers");
    if !status.success() {
        panic!(
            "building the bundled handlers failed (see above)\n\
             help: install the target with `rustup target add wasm32-wasip2`, or build them \
             yourself and set FABER_DB_BUNDLED_DIR to the folder holding the .wasm files"
        );
    }
    target_dir.join("wasm32-wasip2").join("release")
}

/// `<target>` from `<target>[/<triple>]/<profile>/build/<crate>-<hash>/out`
/// (the triple folder is there when cargo was given `--target`).
fn target_root(out: &Path) -> PathBuf {
    let above_profile = out
        .ancestors()
        .nth(4)
        .expect("OUT_DIR is <target>/<profile>/build/<crate>/out");
    let triple = std::env::var_os("TARGET").unwrap_or_default();
    if above_profile.file_name() == Some(triple.as_os_str()) {
        above_profile
            .parent()
            .unwrap_or(above_profile)
            .to_path_buf()
    } else {
        above_profile.to_path_buf()
    }
}
