//! The engine's configuration: one definition for the runtime and for
//! `build.rs`, which compiles the bundled components with it, so their
//! native code is compatible with the engine that loads it (`build.rs`
//! includes this file by path; it depends on nothing else in the crate).

use wasmtime::Config;

/// Components (the model), fuel (a CPU budget a handler cannot outlast)
/// and epochs (the wall-clock deadline).
pub fn config() -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true);
    config
}
