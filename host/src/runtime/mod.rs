//! The component runtime: loads handler components at run time and calls them
//! in a sandbox.
//!
//! Every call gets a fresh store (after a trap an instance cannot be entered
//! again), WASI with no environment, no arguments, no network and at most one
//! preopened directory, and the limits in [`Limits`]. What a handler may do
//! beyond that is the capabilities its world imports, granted in
//! [`Grant`] and served by `capabilities` and, for `rds`, [`rds`].

mod bindings;
mod cache;
mod capabilities;
mod cloud_provider;
mod compile;
mod contract;
mod engine_config;
mod failure;
pub mod folder_budget;
mod inspect;
mod limits;
mod migration_tool;
mod precompiled;
mod project_files;
pub mod rds;
mod scripts;
mod state;
pub mod untrusted;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, Strategy, Trap, UpdateDeadline};

pub use bindings::CURRENT as CONTRACT_VERSION;
pub use cache::default_dir as default_cache_dir;
pub use cloud_provider::CloudProvider;
pub use compile::Compiler;
pub use contract::*;
pub use failure::HandlerFailure;
pub use inspect::Shape;
pub use limits::Limits;
pub use migration_tool::{MigrationTool, Returned, Stopped};
pub use state::{Grant, PartlyRun, ScriptSession, Scripts, SqlTally};

use cache::CompileCache;
use state::HandlerState;

use crate::failure::{Failure, Outcome};

/// How often the epoch advances.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// How many ticks of guest execution between two checks of the wall clock
/// and the folder budget.
const CHECK_EVERY_TICKS: u64 = 10;

/// Cheap to clone: the engine and the cache are shared.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    limits: Limits,
    cache: Option<Arc<CompileCache>>,
    /// What compiles a handler on its first use on this machine.
    first_use: Compiler,
    /// The baseline compiler, made on the first handler that needs it.
    baseline: Arc<OnceLock<Option<Baseline>>>,
}

/// Winch, wasmtime's baseline compiler, with the same configuration: what
/// compiles a handler this build did not and the cache does not hold (a
/// third party's, on its first use on a machine: on a CI runner, every
/// run). It compiles in a small fraction of Cranelift's time, into code
/// that runs slower; a handler's calls are short, and BENCHMARKS.md has
/// both costs. Its code is cached under its own engine's key.
struct Baseline {
    engine: Engine,
    cache: Option<CompileCache>,
}

/// A component ready to instantiate, and where it came from.
#[derive(Clone)]
pub struct LoadedComponent {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    /// True when the native code was not compiled by this run: it came from
    /// the on-disk cache, or (a bundled handler's) from this build.
    pub from_cache: bool,
    /// The component's size, as read.
    pub size_bytes: u64,
    /// How long it took to have native code: compiling it, or reading it
    /// from the cache.
    pub load_time: Duration,
    /// Which compiler made that native code.
    pub compiler: Compiler,
    component: Arc<Component>,
}

impl Runtime {
    /// The one way to build a runtime: the sandbox's limits, and compiled
    /// components cached in the user's cache folder ([`default_cache_dir`];
    /// [`Runtime::with_cache_dir`] for another).
    pub fn new(limits: Limits) -> Outcome<Runtime> {
        let engine = Engine::new(&engine_config::config()).map_err(|err| {
            Failure::new("Cannot start the component runtime").cause(format!("{err:#}"))
        })?;
        spawn_epoch_ticker(&engine);
        let cache = default_cache_dir().map(|dir| Arc::new(CompileCache::new(dir, &engine)));
        Ok(Runtime {
            engine,
            limits,
            cache,
            first_use: Compiler::for_first_use()?,
            baseline: Arc::default(),
        })
    }

    /// The same runtime, compiling a handler on its first use with
    /// `compiler` (by default `FABER_DB_COMPILER`'s, else Winch).
    pub fn with_first_use_compiler(self, compiler: Compiler) -> Runtime {
        Runtime {
            first_use: compiler,
            ..self
        }
    }

    /// The same runtime, caching compiled components in `dir` instead.
    pub fn with_cache_dir(self, dir: PathBuf) -> Runtime {
        let cache = Some(Arc::new(CompileCache::new(dir, &self.engine)));
        Runtime {
            cache,
            baseline: Arc::default(),
            ..self
        }
    }

    /// The baseline compiler, unless Cranelift was asked for, where this
    /// machine has one (Winch compiles for x86-64 only; elsewhere every
    /// handler is compiled by Cranelift).
    fn baseline(&self) -> Option<&Baseline> {
        if self.first_use == Compiler::Cranelift {
            return None;
        }
        self.baseline
            .get_or_init(|| {
                let mut config = engine_config::config();
                config.strategy(Strategy::Winch);
                let engine = Engine::new(&config).ok()?;
                spawn_epoch_ticker(&engine);
                let cache = self.cache.as_ref().map(|cache| cache.beside(&engine));
                Some(Baseline { engine, cache })
            })
            .as_ref()
    }

    /// Reads, hashes and compiles (or loads from the cache) the component at `path`.
    pub fn load(&self, name: &str, path: &Path) -> Result<LoadedComponent, HandlerFailure> {
        let bytes = std::fs::read(path).map_err(|err| HandlerFailure::Load {
            handler: name.to_owned(),
            path: path.to_path_buf(),
            reason: err.to_string(),
        })?;
        self.load_bytes(name, path, &bytes)
    }

    /// Compiles (or loads from the cache) a component already read from `path`.
    pub fn load_bytes(
        &self,
        name: &str,
        path: &Path,
        bytes: &[u8],
    ) -> Result<LoadedComponent, HandlerFailure> {
        self.load_digested(name, path, bytes, sha256_hex(bytes))
    }

    /// [`Runtime::load_bytes`] for bytes whose sha256 the caller has just
    /// computed (to check them against a pin first).
    pub fn load_digested(
        &self,
        name: &str,
        path: &Path,
        bytes: &[u8],
        sha256: String,
    ) -> Result<LoadedComponent, HandlerFailure> {
        let load_error = |reason: String| HandlerFailure::Load {
            handler: name.to_owned(),
            path: path.to_path_buf(),
            reason,
        };
        let started = Instant::now();
        let cached = self.cached(&sha256);
        let from_cache = cached.is_some();
        let component = match cached {
            Some(component) => component,
            None => {
                if Engine::detect_precompiled(bytes).is_some() {
                    return Err(load_error(
                        "it is precompiled native code; give the .wasm component instead".into(),
                    ));
                }
                let (engine, cache) = match self.baseline() {
                    Some(baseline) => (&baseline.engine, baseline.cache.as_ref()),
                    None => (&self.engine, self.cache.as_deref()),
                };
                let component = compile::compile(engine, name, bytes)
                    .map_err(|err| load_error(format!("not a valid component: {err}")))?;
                if let Some(cache) = cache {
                    cache.store(&sha256, &component);
                }
                component
            }
        };
        let compiler = if Engine::same(component.engine(), &self.engine) {
            Compiler::Cranelift
        } else {
            Compiler::Winch
        };
        Ok(LoadedComponent {
            name: name.to_owned(),
            path: path.to_path_buf(),
            sha256,
            from_cache,
            compiler,
            size_bytes: bytes.len() as u64,
            load_time: started.elapsed(),
            component: Arc::new(component),
        })
    }

    /// Native code for the component `sha256` that this run need not
    /// compile: Cranelift's, cached or (a bundled handler's) built into this
    /// binary, else the baseline compiler's, cached by an earlier first use.
    fn cached(&self, sha256: &str) -> Option<Component> {
        self.cache
            .as_ref()
            .and_then(|cache| cache.load(&self.engine, sha256))
            .or_else(|| self.built_in(sha256))
            .or_else(|| {
                let baseline = self.baseline()?;
                baseline.cache.as_ref()?.load(&baseline.engine, sha256)
            })
    }

    /// The native code this build compiled for the component `sha256` (a
    /// bundled handler's), when this engine takes it.
    fn built_in(&self, sha256: &str) -> Option<Component> {
        let code = precompiled::find(sha256)?;
        // SAFETY: the bytes are `Engine::precompile_component`'s output for
        // this component (its sha256 is their key), made by `build.rs` with
        // this engine's configuration and embedded in this binary. wasmtime
        // still checks their header against this engine and refuses an
        // incompatible artifact, which falls back to compiling.
        unsafe { Component::deserialize(&self.engine, code) }.ok()
    }

    /// A linker with WASI: Rust guests import wasi:cli, io and clocks through
    /// the standard library even when unused, and the WASI context grants
    /// nothing through them beyond the call's [`Grant`].
    fn linker(engine: &Engine) -> wasmtime::Result<Linker<HandlerState>> {
        let mut linker = Linker::<HandlerState>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Ok(linker)
    }

    /// Reads `component`'s world and contract version, refuses it unless it
    /// is a `world` handler, and links it for its version with `link` (from
    /// the version table): anything else it imports, or a missing export,
    /// is refused.
    fn link<L: ?Sized>(
        &self,
        component: &LoadedComponent,
        world: World,
        link: fn(&str, &mut Linker<HandlerState>, &Component) -> wasmtime::Result<Box<L>>,
    ) -> Result<(Shape, Box<L>), HandlerFailure> {
        let incompatible = |reason: String| HandlerFailure::Incompatible {
            handler: component.name.clone(),
            reason,
        };
        let shape = self.inspect(component)?;
        if shape.world != world {
            return Err(incompatible(format!(
                "it is a {} handler, not a {} handler",
                shape.world.as_str(),
                world.as_str()
            )));
        }
        let linked = Self::linker(component.component.engine())
            .and_then(|mut linker| link(&shape.wit_version, &mut linker, &component.component))
            .map_err(|err| incompatible(format!("{err:#}")))?;
        Ok((shape, linked))
    }

    /// One sandboxed call: a fresh store and instance, the limits applied,
    /// and any trap or limit turned into a [`HandlerFailure`]. An instance
    /// that cannot be created is an incompatible handler, not a crash. The
    /// store's data comes back (also after a failure) so the caller can take
    /// back what it granted.
    async fn call<I, T>(
        &self,
        component: &LoadedComponent,
        grant: Grant,
        instantiate: impl AsyncFnOnce(&mut Store<HandlerState>) -> wasmtime::Result<I>,
        body: impl AsyncFnOnce(I, &mut Store<HandlerState>) -> wasmtime::Result<T>,
    ) -> (Option<HandlerState>, Result<T, HandlerFailure>) {
        let handler = component.name.as_str();
        let mut store = match self.store(component, grant) {
            Ok(store) => store,
            Err(failure) => return (None, Err(failure)),
        };
        let run = async {
            let instance =
                instantiate(&mut store)
                    .await
                    .map_err(|err| HandlerFailure::Incompatible {
                        handler: handler.to_owned(),
                        reason: format!("{err:#}"),
                    })?;
            body(instance, &mut store)
                .await
                .map_err(|err| self.classify(handler, store.data(), err))
        };
        let result = match tokio::time::timeout(self.limits.timeout, run).await {
            Ok(result) => result,
            Err(_elapsed) => Err(HandlerFailure::Timeout {
                handler: handler.to_owned(),
                limit: self.limits.timeout,
            }),
        };
        (Some(store.into_data()), result)
    }

    fn classify(
        &self,
        handler: &str,
        state: &HandlerState,
        err: wasmtime::Error,
    ) -> HandlerFailure {
        let handler = handler.to_owned();
        if state
            .folder_budget
            .as_ref()
            .is_some_and(|budget| budget.exceeded())
        {
            return HandlerFailure::DiskLimit {
                handler,
                mib: folder_budget::MAX_GROWTH_BYTES >> 20,
            };
        }
        if state.limiter.hit {
            return HandlerFailure::MemoryLimit {
                handler,
                mib: self.limits.memory_bytes >> 20,
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => HandlerFailure::CpuLimit {
                handler,
                fuel: self.limits.fuel,
            },
            Some(Trap::Interrupt) => HandlerFailure::Timeout {
                handler,
                limit: self.limits.timeout,
            },
            _ => {
                let stderr = untrusted::clean(&state.stderr());
                let message = if stderr.is_empty() {
                    format!("{err:#}")
                } else {
                    format!("{err:#}; handler said: {stderr}")
                };
                HandlerFailure::Trap { handler, message }
            }
        }
    }

    /// A store on the engine that compiled `component`.
    fn store(
        &self,
        component: &LoadedComponent,
        grant: Grant,
    ) -> Result<Store<HandlerState>, HandlerFailure> {
        let handler = &component.name;
        let state = HandlerState::new(handler, grant, self.limits.memory_bytes).map_err(|err| {
            HandlerFailure::Sandbox {
                handler: handler.clone(),
                reason: err.to_string(),
            }
        })?;
        let mut store = Store::new(component.component.engine(), state);
        store.limiter(|state| &mut state.limiter);
        store
            .set_fuel(self.limits.fuel)
            .expect("fuel is enabled in the engine configuration");
        let started = Instant::now();
        let timeout = self.limits.timeout;
        store.set_epoch_deadline(CHECK_EVERY_TICKS);
        store.epoch_deadline_callback(move |mut store| {
            let over_budget = store
                .data_mut()
                .folder_budget
                .as_mut()
                .is_some_and(|budget| budget.exceeded_now());
            if over_budget || started.elapsed() >= timeout {
                return Ok(UpdateDeadline::Interrupt);
            }
            Ok(UpdateDeadline::Continue(CHECK_EVERY_TICKS))
        });
        Ok(store)
    }
}

/// What a handler says of itself must match what its component is: a
/// kebab-case name, and the contract version its exports are built for.
fn check_info(
    component: &LoadedComponent,
    shape: &Shape,
    info: HandlerInfo,
) -> Result<HandlerInfo, HandlerFailure> {
    let untruthful = |reason: String| HandlerFailure::Untruthful {
        handler: component.name.clone(),
        reason,
    };
    untrusted::check_handler_name(&info.name).map_err(untruthful)?;
    if info.wit_version != shape.wit_version {
        return Err(untruthful(format!(
            "its info claims contract faber:db@{}, but it exports faber:db@{}",
            untrusted::clean(&info.wit_version),
            shape.wit_version
        )));
    }
    let version_ok = !info.version.is_empty()
        && info.version.len() <= 64
        && info
            .version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    if !version_ok {
        return Err(untruthful(format!(
            "its version {:?} is not a version number",
            untrusted::clean(&info.version)
        )));
    }
    Ok(HandlerInfo {
        description: untrusted::clean(&info.description),
        ..info
    })
}

/// The lowercase hex sha256 by which components are cached and pinned.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Advances the engine's epoch until the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("faber-db-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}
