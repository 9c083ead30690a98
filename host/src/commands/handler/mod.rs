//! `faber-db handler …`: list, add, verify, remove, info, test, new; and in
//! `registry`, the commands that share handlers through OCI registries.

mod registry;

pub use registry::{install, outdated, publish, update};

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::{AddArgs, NameArgs, NewArgs, ProjectArgs, TestArgs};
use crate::components::lock::{self, LockFile, Pin};
use crate::components::registry::OciRef;
use crate::components::{self, Source, conformance, template};
use crate::config;
use crate::failure::{Failure, Outcome};
use crate::report::output::{Done, emit};
use crate::runtime::{CloudProvider, LoadedComponent, MigrationTool, Runtime, Shape, World};

/// Everything a handler says about itself and everything read from its type.
#[derive(Serialize)]
struct Description {
    name: String,
    version: String,
    description: String,
    world: World,
    wit_version: String,
    host_supports: Vec<&'static str>,
    providers: Vec<&'static str>,
    hostings: Vec<String>,
    capabilities: Vec<String>,
    imports: Vec<String>,
    exports: Vec<String>,
    sha256: String,
    path: PathBuf,
}

async fn describe(
    runtime: &Runtime,
    hint: &str,
    path: &Path,
    bytes: &[u8],
) -> Outcome<Description> {
    let component = runtime
        .load_bytes(hint, path, bytes)
        .map_err(components::failure)?;
    let shape = runtime.inspect(&component).map_err(components::failure)?;
    let (info, hostings) = match shape.world {
        World::MigrationTool => {
            let tool =
                MigrationTool::new(runtime, component.clone()).map_err(components::failure)?;
            (tool.info().await.map_err(components::failure)?, Vec::new())
        }
        World::CloudProvider => {
            let provider =
                CloudProvider::new(runtime, component.clone()).map_err(components::failure)?;
            let info = provider.info().await.map_err(components::failure)?;
            (
                info,
                provider.hostings().await.map_err(components::failure)?,
            )
        }
    };
    Ok(description(&component, shape, info, hostings))
}

fn description(
    component: &LoadedComponent,
    shape: Shape,
    info: crate::runtime::HandlerInfo,
    hostings: Vec<String>,
) -> Description {
    Description {
        name: info.name,
        version: info.version,
        description: info.description,
        world: shape.world,
        host_supports: shape.world.supported_versions().to_vec(),
        wit_version: shape.wit_version,
        providers: info.providers.iter().map(|p| p.as_str()).collect(),
        hostings,
        capabilities: shape.capabilities,
        imports: shape.imports,
        exports: shape.exports,
        sha256: component.sha256.clone(),
        path: component.path.clone(),
    }
}

fn print_description(description: &Description) {
    println!(
        "{} {} — {}",
        description.name, description.version, description.description
    );
    println!(
        "  world:        {} (faber:db@{}; this host supports {})",
        description.world.as_str(),
        description.wit_version,
        description.host_supports.join(", ")
    );
    if !description.providers.is_empty() {
        println!("  providers:    {}", description.providers.join(", "));
    }
    if !description.hostings.is_empty() {
        println!("  hostings:     {}", description.hostings.join(", "));
    }
    println!("  sha256:       {}", description.sha256);
    println!("  file:         {}", description.path.display());
    println!("  it may use:");
    for capability in &description.capabilities {
        println!("    - {capability}");
    }
    println!("  exports:");
    for export in &description.exports {
        println!("    - {export}");
    }
}

fn project(args: &ProjectArgs) -> Outcome<PathBuf> {
    crate::workdir::resolve(args.cwd.as_deref()).map(|(dir, _)| dir)
}

/// The project's sandbox limits when it has a configuration, else defaults.
fn runtime_for(project: Option<&Path>) -> Outcome<Runtime> {
    let sandbox = project
        .and_then(|dir| config::load(dir).ok())
        .map(|config| config.sandbox)
        .unwrap_or_default();
    Runtime::new(sandbox.limits())
}

/// What to call a component in messages before it has said its name.
fn file_hint(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read(path: &Path) -> Outcome<Vec<u8>> {
    std::fs::read(path)
        .map_err(|err| Failure::new(format!("Cannot read {}", path.display())).cause(err))
}

// list

#[derive(Serialize)]
struct Listing {
    available: Vec<Available>,
    pinned: Vec<Pin>,
}

#[derive(Serialize)]
struct Available {
    name: String,
    version: Option<String>,
    source: &'static str,
    path: PathBuf,
    sha256: String,
    /// `pinned`, `differs from pin`, or `not pinned`.
    pin: &'static str,
}

pub async fn list(args: ProjectArgs) -> i32 {
    let outcome = async {
        let project = project(&args)?;
        let lock = LockFile::load(&project)?;
        let mut available = Vec::new();
        for (source, dir) in components::search_path(&project) {
            available.extend(scan(&dir, source, &lock));
        }
        for embedded in components::bundled::all() {
            let path = embedded.materialize()?;
            available.push(entry(
                embedded.name.to_owned(),
                None,
                Source::Bundled,
                path,
                embedded.bytes,
                &lock,
            ));
        }
        available.extend(lock.pins().iter().filter_map(|pin| {
            let path = pin
                .source
                .as_ref()
                .and(components::cache::lookup(&pin.sha256))?;
            Some(Available {
                name: pin.name.clone(),
                version: Some(pin.version.clone()),
                source: Source::Cache.as_str(),
                path,
                sha256: pin.sha256.clone(),
                pin: "pinned",
            })
        }));
        // A file named without its version says it when asked.
        let runtime = runtime_for(Some(&project))?;
        for entry in available.iter_mut().filter(|entry| entry.version.is_none()) {
            if let Ok(bytes) = std::fs::read(&entry.path) {
                entry.version = describe(&runtime, &entry.name, &entry.path, &bytes)
                    .await
                    .ok()
                    .map(|description| description.version);
            }
        }
        let message = format!(
            "{} handler file(s) available, {} pinned",
            available.len(),
            lock.pins().len()
        );
        Ok(Done::ok(
            Listing {
                available,
                pinned: lock.pins().to_vec(),
            },
            message,
        ))
    }
    .await;
    emit(
        args.output.json(),
        "handler-list",
        outcome,
        |listing: &Listing| {
            let row = |name: &str, version: &str, source: &str, pin: &str, path: &str| {
                println!("{name:<28} {version:<10} {source:<8} {pin:<16} {path}");
            };
            row("NAME", "VERSION", "SOURCE", "PIN", "PATH");
            for entry in &listing.available {
                row(
                    &entry.name,
                    entry.version.as_deref().unwrap_or("unknown"),
                    entry.source,
                    entry.pin,
                    &entry.path.display().to_string(),
                );
            }
        },
    )
}

fn entry(
    name: String,
    version: Option<String>,
    source: Source,
    path: PathBuf,
    bytes: &[u8],
    lock: &LockFile,
) -> Available {
    let sha256 = crate::runtime::sha256_hex(bytes);
    let pin = match lock.get(&name) {
        Some(pin) if pin.sha256 == sha256 => "pinned",
        Some(_) => "differs from pin",
        None => "not pinned",
    };
    Available {
        name,
        version,
        source: source.as_str(),
        path,
        sha256,
        pin,
    }
}

/// The `.wasm` files in one folder, named as the host resolves them.
fn scan(dir: &Path, source: Source, lock: &LockFile) -> Vec<Available> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<Available> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .filter_map(|path| {
            let stem = path.file_stem()?.to_string_lossy().into_owned();
            let (name, version) = match stem.split_once('@') {
                Some((name, version)) => (name.to_owned(), Some(version.to_owned())),
                None => (stem.replace('_', "-"), None),
            };
            let bytes = std::fs::read(&path).ok()?;
            Some(entry(name, version, source, path, &bytes, lock))
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

// add

#[derive(Serialize)]
struct Added {
    handler: Description,
    installed: PathBuf,
    pin: Pin,
    replaced: Option<Pin>,
    /// The bundled handler this one now stands in for, by `--replace-bundled`.
    replaces_bundled: Option<PathBuf>,
    /// The configuration setting `--use` wrote, e.g.
    /// `database.migration_tool = "handler-db-flyway"`.
    configured: Option<String>,
}

pub async fn add(args: AddArgs) -> i32 {
    let json = args.project.output.json();
    let mut outcome = add_handler(&args).await;
    if args.use_it {
        outcome = outcome.and_then(|done| {
            let project = project(&args.project)?;
            use_in_config(&project, done)
        });
    }
    emit(json, "handler-add", outcome, |added: &Added| {
        print_description(&added.handler);
        if let Some(old) = &added.replaced {
            println!(
                "  replaces pin: {} {} (sha256 {})",
                old.name, old.version, old.sha256
            );
        }
        if let Some(bundled) = &added.replaces_bundled {
            println!(
                "  replaces the bundled handler {} (--replace-bundled)",
                bundled.display()
            );
        }
        if let Some(setting) = &added.configured {
            println!("  configured:   {setting}");
        }
    })
}

async fn add_handler(args: &AddArgs) -> Outcome<Done<Added>> {
    let project = project(&args.project)?;
    config::load(&project)?;
    if OciRef::is_oci(&args.source) {
        let reference = OciRef::parse(&args.source)?;
        let options = registry::AddOptions {
            replace_bundled: args.replace_bundled,
            vendor: args.vendor,
            expected_name: None,
        };
        return registry::add(&project, &reference, options).await;
    }
    let source = Path::new(&args.source);
    let path = if source.is_file() {
        source.to_path_buf()
    } else {
        let (name, version) = match args.source.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (args.source.as_str(), None),
        };
        let name = components::canonical_name(&project, name);
        match (version, LockFile::load(&project)?.get(&name)) {
            // Re-adding what the project pins (e.g. with --use).
            (None, Some(pin)) => components::resolve_pinned(&project, pin)?.path,
            _ => components::resolve(&project, &name, version)?.path,
        }
    };
    let bytes = read(&path)?;
    let runtime = runtime_for(Some(&project))?;
    let handler = describe(&runtime, &file_hint(&path), &path, &bytes).await?;
    let replaces_bundled = replaced_bundled(&handler, args.replace_bundled)?;

    let dir = components::project_dir(&project);
    let installed = dir.join(components::installed_file_name(
        &handler.name,
        &handler.version,
    ));
    copy_into_project(&dir, &handler.name, &installed, &bytes)?;
    let commit = format!(
        "Commit {} and {}",
        lock::path(&project).display(),
        dir.display()
    );
    record(&project, handler, installed, replaces_bundled, None).map(|done| done.next(commit))
}

/// Where a handler added from a registry came from: its reference and its
/// manifest's digest.
struct Origin {
    reference: String,
    digest: String,
}

/// Pins an added handler (replacing any pin of its name) and says how to use it.
fn record(
    project: &Path,
    handler: Description,
    installed: PathBuf,
    replaces_bundled: Option<PathBuf>,
    origin: Option<Origin>,
) -> Outcome<Done<Added>> {
    let mut lock = LockFile::load(project)?;
    let pin = Pin {
        name: handler.name.clone(),
        version: handler.version.clone(),
        wit: format!("faber:db@{}", handler.wit_version),
        world: handler.world.as_str().to_owned(),
        sha256: handler.sha256.clone(),
        source: origin.as_ref().map(|origin| origin.reference.clone()),
        digest: origin.map(|origin| origin.digest),
        bundled_with: None,
    };
    let replaced = lock.pin(pin.clone());
    lock.save(project)?;
    let message = format!(
        "Pinned {} {} in {}",
        pin.name,
        pin.version,
        lock::path(project).display()
    );
    let use_it = match handler.world {
        World::MigrationTool => format!(
            "Use it: set \"migration_tool\": \"{0}\" in the configuration, or run: faber-db handler add {0} --use",
            handler.name
        ),
        World::CloudProvider => format!(
            "Use it: set \"integration\": {{\"cloud_plugin\": \"{0}\"}} in the configuration, or run: faber-db handler add {0} --use",
            handler.name
        ),
    };
    Ok(Done::ok(
        Added {
            handler,
            installed,
            pin,
            replaced,
            replaces_bundled,
            configured: None,
        },
        message,
    )
    .next(use_it))
}

/// `handler add --use`: makes the added handler the project's migration
/// tool or cloud provider. The file is edited as JSON, so keys faber-db does
/// not read stay as they were.
fn use_in_config(project: &Path, mut done: Done<Added>) -> Outcome<Done<Added>> {
    let path = config::config_path(project);
    let failed = |cause: String| {
        Failure::new(format!(
            "Pinned {}, but cannot make it the project's handler in {}",
            done.result.handler.name,
            path.display()
        ))
        .cause(cause)
    };
    let text = std::fs::read_to_string(&path).map_err(|err| failed(err.to_string()))?;
    let mut config: serde_json::Value =
        serde_json::from_str(&text).map_err(|err| failed(err.to_string()))?;
    let name = done.result.handler.name.clone();
    let (section, key) = match done.result.handler.world {
        World::MigrationTool => ("database", "migration_tool"),
        World::CloudProvider => ("integration", "cloud_plugin"),
    };
    let object = config
        .as_object_mut()
        .ok_or_else(|| failed("the configuration is not a JSON object".to_owned()))?;
    let section_value = object
        .entry(section)
        .or_insert_with(|| serde_json::json!({}));
    let section_object = section_value
        .as_object_mut()
        .ok_or_else(|| failed(format!("\"{section}\" is not an object")))?;
    section_object.insert(key.to_owned(), serde_json::Value::String(name.clone()));
    let mut text = serde_json::to_string_pretty(&config).map_err(|err| failed(err.to_string()))?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|err| failed(err.to_string()))?;
    let setting = format!("{section}.{key} = {name:?}");
    done.message = format!("{}; {setting}", done.message);
    // The hint to configure it by hand is now done.
    done.next_steps.retain(|step| !step.starts_with("Use it:"));
    done.result.configured = Some(setting);
    Ok(done)
}

/// A handler that takes a bundled handler's name (other content under the
/// same name, or a short name such as `prisma`) is refused unless the user
/// said `--replace-bundled`; then the replacement is stated.
fn replaced_bundled(handler: &Description, allowed: bool) -> Outcome<Option<PathBuf>> {
    let Some(original) = components::bundled(&handler.name)? else {
        return Ok(None);
    };
    let same = read(&original.path)
        .is_ok_and(|bytes| crate::runtime::sha256_hex(&bytes) == handler.sha256);
    if same {
        return Ok(None);
    }
    if !allowed {
        return Err(Failure::new(format!(
            "Handler {} takes the name of a bundled handler",
            handler.name
        ))
        .cause(format!(
            "{} calls itself {}, which would replace {} for every command of this project",
            handler.path.display(),
            handler.name,
            original.path.display()
        ))
        .help(format!(
            "If you mean to replace it, add it again with --replace-bundled: faber-db handler add {} --replace-bundled",
            handler.path.display()
        ))
        .help("Otherwise give the handler a name of its own; nothing was installed"));
    }
    Ok(Some(original.path))
}

/// Copies the component into the project (replacing any other version of
/// it there), through a temporary file so a reader never sees half of it.
fn copy_into_project(dir: &Path, name: &str, target: &Path, bytes: &[u8]) -> Outcome<()> {
    let failed = |err: std::io::Error| {
        Failure::new(format!("Cannot install into {}", dir.display())).cause(err)
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    for old in project_copies(dir, name) {
        if old != target {
            std::fs::remove_file(&old).map_err(failed)?;
        }
    }
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes).map_err(failed)?;
    std::fs::rename(&temporary, target).map_err(failed)
}

/// The project's copies of handler `name`, whatever their version.
fn project_copies(dir: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            file == format!("{name}.wasm")
                || (file.starts_with(&format!("{name}@")) && file.ends_with(".wasm"))
        })
        .collect()
}

// verify

#[derive(Serialize)]
struct Verified {
    name: String,
    version: String,
    sha256: String,
    path: Option<PathBuf>,
    /// `ok`, `mismatch` or `missing`.
    status: &'static str,
    detail: String,
}

pub fn verify(args: ProjectArgs) -> i32 {
    let outcome = (|| {
        let project = project(&args)?;
        let lock = LockFile::load(&project)?;
        let results: Vec<Verified> = lock
            .pins()
            .iter()
            .map(|pin| verify_pin(&project, pin))
            .collect();
        let bad = results.iter().filter(|r| r.status != "ok").count();
        let mut done = Done::ok(
            results,
            format!("{} pinned handler(s) verified", lock.pins().len()),
        );
        if bad > 0 {
            done.ok = false;
            done.message = format!(
                "{bad} of {} pinned handler(s) do not match their pin",
                lock.pins().len()
            );
            if lock.pins().iter().any(|pin| pin.source.is_some()) {
                done = done
                    .next("Fetch the handlers pinned from a registry: faber-db handler install");
            }
            done = done.next("Restore the pinned files from version control, or review and re-pin with: faber-db handler add PATH");
        }
        Ok(done)
    })();
    emit(
        args.output.json(),
        "handler-verify",
        outcome,
        |results: &Vec<Verified>| {
            for result in results {
                println!(
                    "{:<8} {} {}: {}",
                    result.status, result.name, result.version, result.detail
                );
            }
        },
    )
}

fn verify_pin(project: &Path, pin: &Pin) -> Verified {
    let (path, status, detail) = match components::resolve_pinned(project, pin) {
        Err(failure) => (None, "missing", failure.to_string()),
        Ok(resolved) => match std::fs::read(&resolved.path) {
            Err(err) => (Some(resolved.path), "missing", err.to_string()),
            Ok(bytes) => {
                let found = crate::runtime::sha256_hex(&bytes);
                if found == pin.sha256 {
                    (Some(resolved.path), "ok", format!("sha256 {found}"))
                } else {
                    let detail = components::pin_mismatch(pin, &resolved, &found).to_string();
                    (Some(resolved.path), "mismatch", detail)
                }
            }
        },
    };
    Verified {
        name: pin.name.clone(),
        version: pin.version.clone(),
        sha256: pin.sha256.clone(),
        path,
        status,
        detail,
    }
}

// remove

#[derive(Serialize)]
struct Removed {
    pin: Option<Pin>,
    deleted: Vec<PathBuf>,
}

pub fn remove(args: NameArgs) -> i32 {
    let outcome = (|| {
        let project = project(&args.project)?;
        let name = components::canonical_name(&project, &args.handler);
        let mut lock = LockFile::load(&project)?;
        let pin = lock.remove(&name);
        let deleted = project_copies(&components::project_dir(&project), &name);
        if pin.is_none() && deleted.is_empty() {
            return Err(
                Failure::new(format!("Handler {name} is not pinned in this project"))
                    .help("See what is pinned with: faber-db handler list"),
            );
        }
        for file in &deleted {
            std::fs::remove_file(file).map_err(|err| {
                Failure::new(format!("Cannot delete {}", file.display())).cause(err)
            })?;
        }
        lock.save(&project)?;
        let mut done = Done::ok(Removed { pin, deleted }, format!("Removed {name}"));
        if let Ok(config) = config::load(&project) {
            let cloud = config.integration.cloud_plugin.as_deref();
            let used =
                components::migration_tool_handler(&project, &config.database.migration_tool)
                    == name
                    || cloud.is_some_and(|plugin| {
                        components::cloud_provider_handler(&project, plugin) == name
                    });
            if used {
                done = done.next(format!(
                    "The configuration still uses {name}: change it, or the next run pins it again"
                ));
            }
        }
        Ok(done)
    })();
    emit(
        args.project.output.json(),
        "handler-remove",
        outcome,
        |_| {},
    )
}

// info

pub async fn info(args: NameArgs) -> i32 {
    let outcome = async {
        let given = Path::new(&args.handler);
        let (path, project) = if given.is_file() {
            (given.to_path_buf(), None)
        } else {
            let project = project(&args.project)?;
            let name = components::canonical_name(&project, &args.handler);
            let path = match LockFile::load(&project)?.get(&name) {
                Some(pin) => components::resolve_pinned(&project, pin)?.path,
                None => components::resolve(&project, &name, None)?.path,
            };
            (path, Some(project))
        };
        let runtime = runtime_for(project.as_deref())?;
        let description = describe(&runtime, &args.handler, &path, &read(&path)?).await?;
        let message = format!(
            "{} {} for faber:db@{}",
            description.name, description.version, description.wit_version
        );
        Ok(Done::ok(description, message))
    }
    .await;
    emit(
        args.project.output.json(),
        "handler-info",
        outcome,
        print_description,
    )
}

// test

pub async fn test(args: TestArgs) -> i32 {
    let outcome = async {
        let server = match &args.database_url {
            Some(url) => Some(conformance_server(url)?),
            None => None,
        };
        let checks = conformance::run(&args.path, server.as_ref()).await;
        let failed = checks.iter().filter(|check| !check.passed).count();
        let mut done = Done::ok(checks, String::new());
        done.ok = failed == 0;
        done.message = if failed == 0 {
            format!(
                "{} conforms: {} check(s) passed",
                args.path.display(),
                done.result.len()
            )
        } else {
            format!(
                "{} does not conform: {failed} of {} check(s) failed",
                args.path.display(),
                done.result.len()
            )
        };
        Ok(done)
    }
    .await;
    emit(
        args.output.json(),
        "handler-test",
        outcome,
        |checks: &Vec<conformance::Check>| {
            for check in checks {
                let mark = if check.passed { "✓" } else { "✗" };
                println!("{mark} {}: {}", check.name, check.detail);
            }
        },
    )
}

/// The server `handler test --database-url` runs on; a relative SQLite
/// path is relative to the current directory.
fn conformance_server(url: &str) -> Outcome<crate::db::ConnectionString> {
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    // Named by its variable, so the help shows an `export` line that works.
    crate::db::ConnectionString::parse(url, "FABER_DB_HANDLER_TEST_DATABASE_URL", &here)
}

// new

#[derive(Serialize)]
struct Created {
    path: PathBuf,
}

pub fn new(args: NewArgs) -> i32 {
    let outcome = template::sdk_home()
        .and_then(|home| template::create(&args.dir, &args.name, &home))
        .map(|path| {
        let wasm = format!(
            "target/wasm32-wasip2/release/{}.wasm",
            args.name.replace('-', "_")
        );
        let message = format!("Created {}", path.display());
        Done::ok(Created { path: path.clone() }, message)
            .next(format!(
                "Build it: cd {} && cargo build --release --target wasm32-wasip2",
                path.display()
            ))
            .next(format!(
                "Test it: faber-db handler test {wasm} (and with --database-url URL on a PostgreSQL or MySQL server)"
            ))
            .next(format!(
                "Use it in a project: faber-db handler add {wasm} --cwd PROJECT"
            ))
    });
    emit(args.output.json(), "handler-new", outcome, |_| {})
}
