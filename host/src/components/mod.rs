//! Handler components: finding them by name, pinning them per project, and
//! verifying the pin before a handler is loaded.
//!
//! Search order: the project's folder (`.fractary/plugins/faber-db/handlers/`),
//! the user's folder (`FABER_DB_HANDLERS_DIR`, else the user data directory's
//! `faber-db/handlers/`), then the handlers bundled with the host (embedded
//! in the binary: see [`bundled`]). In each folder, `NAME@VERSION.wasm` for
//! the pinned version comes first, then `NAME.wasm`. A handler pinned from a
//! registry is found in the project's folder (vendored) or in the user's
//! content-addressed cache, and nowhere else: nothing is fetched here.

pub mod bundled;
pub mod cache;
pub mod conformance;
pub mod lock;
pub mod registry;
pub mod template;

use std::path::{Path, PathBuf};

use crate::config::config_dir;
use crate::failure::{Failure, Outcome};
use crate::runtime::{HandlerFailure, LoadedComponent, Runtime, Shape};
use lock::{LockFile, Pin};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Project,
    User,
    Bundled,
    /// The user's cache of handlers fetched from registries.
    Cache,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Project => "project",
            Source::User => "user",
            Source::Bundled => "bundled",
            Source::Cache => "cache",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: String,
    pub path: PathBuf,
    pub source: Source,
}

/// The handler for a configured migration tool (`prisma` → `handler-db-prisma`).
pub fn migration_tool_handler(project: &Path, tool: &str) -> String {
    configured_handler(project, tool, "handler-db-")
}

/// The handler for `integration.cloud_plugin` (`aws` → `handler-cloud-aws`).
pub fn cloud_provider_handler(project: &Path, plugin: &str) -> String {
    configured_handler(project, plugin, "handler-cloud-")
}

/// A configured handler name is taken as is when it is a handler's name
/// (`handler-…`), or when the project pins or has a handler of exactly that
/// name (`faber-db handler add` suggests configuring the name it pinned);
/// otherwise it is short for the conventional `<prefix><name>`.
fn configured_handler(project: &Path, configured: &str, prefix: &str) -> String {
    if configured.starts_with("handler-") {
        return configured.to_owned();
    }
    let pinned = LockFile::load(project)
        .map(|lock| lock.get(configured).is_some())
        .unwrap_or(false);
    let installed =
        resolve_in(&[(Source::Project, project_dir(project))], configured, None).is_some();
    if pinned || installed {
        configured.to_owned()
    } else {
        format!("{prefix}{configured}")
    }
}

/// Whether handler `name` can be found, as [`load_checked`] will look for
/// it: the pinned version's `NAME@VERSION.wasm` included.
/// A handler pinned from a registry but not installed is an error that says
/// how to install it, not a handler that is absent.
pub fn is_installed(project: &Path, name: &str) -> Outcome<bool> {
    let lock = LockFile::load(project)?;
    let version = match lock.get(name) {
        Some(pin) if pin.source.is_some() => return resolve_pinned(project, pin).map(|_| true),
        Some(pin) => Some(pin.version.as_str()),
        None => None,
    };
    Ok(resolve_in(&search_path(project), name, version).is_some() || bundled::get(name).is_some())
}

/// The handler a name given on the command line means: a handler pinned or
/// installed under exactly that name, else the bundled handler it is the
/// short name of (`prisma` → `handler-db-prisma`), else the name as given.
pub fn canonical_name(project: &Path, given: &str) -> String {
    let pinned = LockFile::load(project).is_ok_and(|lock| lock.get(given).is_some());
    if pinned || resolve_in(&search_path(project), given, None).is_some() {
        return given.to_owned();
    }
    bundled::by_short_name(given)
        .map(|embedded| embedded.name.to_owned())
        .unwrap_or_else(|| given.to_owned())
}

pub fn project_dir(project: &Path) -> PathBuf {
    config_dir(project).join("handlers")
}

pub fn user_dir() -> Option<PathBuf> {
    std::env::var_os("FABER_DB_HANDLERS_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|dir| dir.join("faber-db").join("handlers")))
}

/// Every folder handlers are looked up in, in order (the bundled handlers,
/// which live in the binary, come after them).
pub fn search_path(project: &Path) -> Vec<(Source, PathBuf)> {
    let mut places = vec![(Source::Project, project_dir(project))];
    places.extend(user_dir().map(|dir| (Source::User, dir)));
    places
}

/// The file name a handler is installed under in a project.
pub fn installed_file_name(name: &str, version: &str) -> String {
    format!("{name}@{version}.wasm")
}

/// Finds handler `name`, preferring `version` where one is given.
pub fn resolve(project: &Path, name: &str, version: Option<&str>) -> Outcome<Resolved> {
    if let Some(found) = resolve_in(&search_path(project), name, version) {
        return Ok(found);
    }
    if let Some(embedded) = bundled::get(name) {
        return embedded.resolved();
    }
    let searched: Vec<String> = search_path(project)
        .iter()
        .map(|(_, dir)| dir.display().to_string())
        .collect();
    let bundled: Vec<&str> = bundled::all().iter().map(|e| e.name).collect();
    Err(Failure::new(format!("Handler {name} not found"))
        .cause(format!(
            "searched {}, and the handlers bundled with faber-db ({})",
            searched.join(", "),
            bundled.join(", ")
        ))
        .help(format!(
            "Install it into the project with: faber-db handler add PATH/TO/{name}.wasm"
        ))
        .help("See the handlers available to the project with: faber-db handler list"))
}

/// Finds the handler `pin` names. One pinned from a registry comes from the
/// project's folder (vendored) or the handler cache; the others as [`resolve`].
pub fn resolve_pinned(project: &Path, pin: &Pin) -> Outcome<Resolved> {
    let Some(source) = &pin.source else {
        return resolve(project, &pin.name, Some(&pin.version));
    };
    resolve_in(
        &[(Source::Project, project_dir(project))],
        &pin.name,
        Some(&pin.version),
    )
    .or_else(|| {
        cache::lookup(&pin.sha256).map(|path| Resolved {
            name: pin.name.clone(),
            path,
            source: Source::Cache,
        })
    })
    .ok_or_else(|| {
        let cache = cache::dir()
            .map(|dir| dir.display().to_string())
            .unwrap_or_else(|| "the handler cache".to_owned());
        Failure::new(format!(
            "Handler {} is pinned from a registry but not installed on this machine",
            pin.name
        ))
        .cause(format!(
            "{} pins {} {} from {source} (sha256 {}); neither {} nor {cache} holds it",
            lock::FILE_NAME,
            pin.name,
            pin.version,
            pin.sha256,
            project_dir(project).display()
        ))
        .help("Fetch every pinned handler into the cache: faber-db handler install")
    })
}

pub fn resolve_in(
    places: &[(Source, PathBuf)],
    name: &str,
    version: Option<&str>,
) -> Option<Resolved> {
    // Cargo names a cdylib with underscores.
    let mut file_names: Vec<String> = version
        .map(|version| installed_file_name(name, version))
        .into_iter()
        .collect();
    file_names.push(format!("{name}.wasm"));
    file_names.push(format!("{}.wasm", name.replace('-', "_")));
    places.iter().find_map(|(source, dir)| {
        file_names
            .iter()
            .map(|file| dir.join(file))
            .find(|path| path.is_file())
            .map(|path| Resolved {
                name: name.to_owned(),
                path,
                source: *source,
            })
    })
}

/// The bundled handler that `name` would stand in for: the same name, or the
/// short name of a bundled migration tool or cloud provider (`prisma`).
pub fn bundled(name: &str) -> Outcome<Option<Resolved>> {
    bundled::by_short_name(name)
        .map(bundled::Embedded::resolved)
        .transpose()
}

/// A handler outside the bundled folder that takes a bundled handler's name
/// replaces it only by an explicit, pinned decision (`handler add
/// --replace-bundled`): dropping a file into a folder is not one.
fn check_takeover(resolved: &Resolved, pin: Option<&Pin>) -> Outcome<()> {
    if resolved.source == Source::Bundled || pin.is_some() {
        return Ok(());
    }
    let Some(original) = bundled(&resolved.name)? else {
        return Ok(());
    };
    Err(Failure::new(format!(
        "Handler {} takes the name of a bundled handler and is not pinned",
        resolved.name
    ))
    .cause(format!(
        "{} would stand in for {} without anyone having chosen it",
        resolved.path.display(),
        original.path.display()
    ))
    .help(format!(
        "If you mean to replace it, review it and pin it: faber-db handler add {} --replace-bundled",
        resolved.path.display()
    ))
    .help("Otherwise remove the file; nothing was loaded"))
}

/// A handler resolved, checked against the project's pin, and loaded.
pub struct Checked {
    pub resolved: Resolved,
    pub component: LoadedComponent,
    /// `None` when the project has no pin for it yet.
    pub pin: Option<Pin>,
}

/// Resolves `name`, refuses it if it does not match the project's pin (before
/// anything of it runs), and loads it.
pub fn load_checked(project: &Path, runtime: &Runtime, name: &str) -> Outcome<Checked> {
    let lock = LockFile::load(project)?;
    let pin = lock.get(name).cloned();
    let resolved = match &pin {
        Some(pin) => resolve_pinned(project, pin)?,
        None => resolve(project, name, None)?,
    };
    check_takeover(&resolved, pin.as_ref())?;
    let bytes = std::fs::read(&resolved.path).map_err(|err| {
        Failure::new(format!("Cannot read handler {}", resolved.path.display())).cause(err)
    })?;
    let sha256 = crate::runtime::sha256_hex(&bytes);
    if let Some(pin) = &pin
        && pin.sha256 != sha256
    {
        return Err(pin_mismatch(pin, &resolved, &sha256));
    }
    crate::logging::info(&format!(
        "handler {name}: {} ({}, sha256 {sha256}, {})",
        resolved.path.display(),
        resolved.source.as_str(),
        if pin.is_some() {
            "matches its pin"
        } else {
            "not pinned"
        }
    ));
    let component = runtime
        .load_digested(name, &resolved.path, &bytes, sha256)
        .map_err(|failure| Failure::new(format!("Cannot load handler {name}")).cause(failure))?;
    Ok(Checked {
        resolved,
        component,
        pin,
    })
}

pub fn pin_mismatch(pin: &Pin, resolved: &Resolved, found: &str) -> Failure {
    let failure =
        Failure::new(format!("Handler {} does not match its pin", pin.name)).cause(format!(
            "{} pins {} {} with sha256 {}, but {} has sha256 {found}",
            lock::FILE_NAME,
            pin.name,
            pin.version,
            pin.sha256,
            resolved.path.display()
        ));
    if let Some(source) = &pin.source {
        return failure
            .help(format!(
                "Delete {} and fetch the pinned handler again: faber-db handler install",
                resolved.path.display()
            ))
            .help(format!(
                "To pin something else, review it and add it: faber-db handler add {source}"
            ));
    }
    // The pinned bytes came inside a faber-db build, not from the project:
    // there is no file to restore, only a build to use or a pin to move.
    if resolved.source == Source::Bundled {
        let pinned_by = pin.bundled_with.as_deref().map_or_else(
            || "the faber-db build that pinned it (not recorded in this older lock)".to_owned(),
            |version| format!("faber-db {version}"),
        );
        return failure
            .cause(format!(
                "the pin is of the {} bundled with {pinned_by}; this faber-db {} bundles other bytes",
                pin.name,
                env!("CARGO_PKG_VERSION")
            ))
            .help(format!(
                "To use the pinned handler, run {pinned_by}; nothing was loaded"
            ))
            .help(format!(
                "To move the pin to this faber-db's, review it (faber-db handler info {0}) and vendor it into the project: faber-db handler add {0} (then commit the handlers folder and {1}: every faber-db build uses that file)",
                pin.name,
                lock::FILE_NAME
            ));
    }
    failure
        .help(format!(
            "If you changed the handler on purpose, review it and pin it again: faber-db handler add {}",
            resolved.path.display()
        ))
        .help("Otherwise restore the pinned file (or the lock file) from version control; nothing was loaded")
}

/// Pins `component` (as handler version `version`, found as `resolved`) in
/// the project's lock file; returns the pin it replaced, if any.
pub fn pin(
    project: &Path,
    resolved: &Resolved,
    component: &LoadedComponent,
    version: &str,
    shape: &Shape,
) -> Outcome<Option<Pin>> {
    let mut lock = LockFile::load(project)?;
    let replaced = lock.pin(Pin {
        name: component.name.clone(),
        version: version.to_owned(),
        wit: format!("faber:db@{}", shape.wit_version),
        world: shape.world.as_str().to_owned(),
        sha256: component.sha256.clone(),
        source: None,
        digest: None,
        bundled_with: (resolved.source == Source::Bundled)
            .then(|| env!("CARGO_PKG_VERSION").to_owned()),
    });
    lock.save(project)?;
    Ok(replaced)
}

/// Turns a runtime failure into the user's error, with what to do about it.
pub fn failure(failure: HandlerFailure) -> Failure {
    let help = match &failure {
        HandlerFailure::Load { .. } => {
            "Reinstall the handler, or check the path it was loaded from"
        }
        HandlerFailure::Sandbox { .. } => "Check that the migrations folder exists and is readable",
        HandlerFailure::Incompatible { .. } => {
            "Install a build of the handler for a contract version this host supports (faber-db handler info NAME shows both)"
        }
        HandlerFailure::Outdated { .. } => {
            "Install a newer build of the handler (faber-db handler add PATH.wasm), or keep using it for init only"
        }
        HandlerFailure::CpuLimit { .. }
        | HandlerFailure::MemoryLimit { .. }
        | HandlerFailure::Timeout { .. } => {
            "If the handler legitimately needs more, raise sandbox.fuel, sandbox.memory_mib or sandbox.timeout_seconds in the configuration; otherwise report it to the handler's author"
        }
        HandlerFailure::DiskLimit { .. } => {
            "This is a bug in the handler, or a hostile one: report it to its author; what it wrote was removed"
        }
        HandlerFailure::Untruthful { .. } => {
            "Do not use this handler: what it reports does not match what it did or what it is; report it to its author"
        }
        HandlerFailure::Trap { .. } | HandlerFailure::Oversized { .. } => {
            "This is a bug in the handler: report it to its author with the message above"
        }
        HandlerFailure::Reported { .. } => {
            "Fix what the handler reports above, then run the command again"
        }
    };
    let headline = match &failure {
        HandlerFailure::Load { handler, .. }
        | HandlerFailure::Incompatible { handler, .. }
        | HandlerFailure::Outdated { handler, .. } => {
            format!("Cannot use handler {handler}")
        }
        other => format!("Handler {} failed", other.handler()),
    };
    Failure::new(headline).cause(failure).help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(project: &Path, name: &str, version: &str) {
        let mut lock = LockFile::load(project).unwrap();
        lock.pin(Pin {
            name: name.to_owned(),
            version: version.to_owned(),
            wit: "faber:db@0.2.0".to_owned(),
            world: "cloud-provider".to_owned(),
            sha256: String::new(),
            source: None,
            digest: None,
            bundled_with: None,
        });
        lock.save(project).unwrap();
    }

    #[test]
    fn a_cloud_handler_added_to_the_project_is_found_by_its_pinned_version() {
        let project = tempfile::tempdir().unwrap();
        let project = project.path();
        let dir = project_dir(project);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(installed_file_name("acme-cloud", "1.2.3")), b"").unwrap();
        assert!(!is_installed(project, "acme-cloud").unwrap());
        assert_eq!(
            cloud_provider_handler(project, "acme-cloud"),
            "handler-cloud-acme-cloud"
        );

        pin(project, "acme-cloud", "1.2.3");
        assert!(is_installed(project, "acme-cloud").unwrap());
        assert_eq!(cloud_provider_handler(project, "acme-cloud"), "acme-cloud");
        assert_eq!(cloud_provider_handler(project, "aws"), "handler-cloud-aws");
    }
}
