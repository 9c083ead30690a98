//! States the contract version from the WIT package itself, so that no
//! handler types it by hand: `package faber:db@X.Y.Z;` in `../../wit` becomes
//! `CONTRACT_VERSION`. The bindings come from the same folder (see
//! `src/bindings.rs`), so the two cannot disagree.

use std::path::Path;

const WIT_DIR: &str = "../../wit";

fn main() {
    println!("cargo::rerun-if-changed={WIT_DIR}");
    let mut version = None;
    for entry in std::fs::read_dir(WIT_DIR).expect("the faber:db WIT folder is beside the SDK") {
        let path = entry.expect("the WIT folder can be listed").path();
        if path.extension().is_some_and(|ext| ext == "wit") {
            let text = std::fs::read_to_string(&path).expect("a WIT file is UTF-8 text");
            version = version.or_else(|| package_version(&text));
        }
    }
    let version = version.expect("a WIT file in ../../wit declares `package faber:db@<version>;`");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("contract.rs");
    std::fs::write(
        out,
        format!(
            "/// The version of the `faber:db` package these bindings were generated from.\n\
             pub const CONTRACT_VERSION: &str = \"{version}\";\n"
        ),
    )
    .expect("OUT_DIR is writable");
}

/// The version in a `package faber:db@<version>;` line, if the text has one.
fn package_version(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let version = line.trim().strip_prefix("package faber:db@")?;
        Some(version.strip_suffix(';')?.trim().to_string())
    })
}
