//! Native code `build.rs` compiled for this build's own engine: the bundled
//! components, so their first use on a fresh machine (every CI run) loads
//! instead of compiling. Keyed by the component's sha256, as the compile
//! cache is; a build for another target embeds none.

/// Written by `build.rs`: `(sha256 of the component, its native code)`.
static PRECOMPILED: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/precompiled.rs"));

/// The native code built for the component whose sha256 is `sha256`.
pub fn find(sha256: &str) -> Option<&'static [u8]> {
    PRECOMPILED
        .iter()
        .find(|(digest, _)| *digest == sha256)
        .map(|(_, code)| *code)
}
