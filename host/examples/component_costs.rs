//! Benchmark helper: what a component costs the host, phase by phase.
//!
//! `component_costs PATH.wasm ROUNDS [winch|cranelift]` prints one JSON
//! object of medians in milliseconds: `compile` (the first load, with an
//! empty cache: compiled by the compiler named, winch by default, or a
//! bundled handler's code built into faber-db), `load_cached`, `link`
//! (linker and pre-instantiation), `instantiate_and_call` (a fresh instance
//! plus one `info` call, as every handler call pays), and `engine` (runtime
//! set-up).

use std::path::PathBuf;
use std::time::Instant;

use faber_db::runtime::{Compiler, Limits, MigrationTool, Runtime};

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn millis(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .expect("usage: component_costs PATH.wasm ROUNDS [winch|cranelift]"),
    );
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(10);
    let compiler = match args.next() {
        None => Compiler::Winch,
        Some(name) => Compiler::named(&name)
            .unwrap_or_else(|| panic!("{name} is neither winch nor cranelift")),
    };
    let fresh = || {
        Runtime::new(Limits::default())
            .expect("runtime")
            .with_first_use_compiler(compiler)
    };
    let (mut engine, mut compile, mut cached, mut link, mut call) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let cache = tempfile::tempdir().expect("a temporary cache folder");
        let start = Instant::now();
        let runtime = fresh().with_cache_dir(cache.path().to_path_buf());
        engine.push(millis(start));

        let start = Instant::now();
        runtime.load("bench", &path).expect("compiles");
        compile.push(millis(start));

        let warm = fresh().with_cache_dir(cache.path().to_path_buf());
        let start = Instant::now();
        let component = warm.load("bench", &path).expect("loads from the cache");
        cached.push(millis(start));
        assert!(component.from_cache);

        let start = Instant::now();
        let tool = MigrationTool::new(&warm, component).expect("links");
        link.push(millis(start));

        let start = Instant::now();
        tool.info().await.expect("info");
        call.push(millis(start));
    }
    println!(
        "{}",
        serde_json::json!({
            "engine": median(engine),
            "compile": median(compile),
            "load_cached": median(cached),
            "link": median(link),
            "instantiate_and_call": median(call),
        })
    );
}
