//! `faber-db handler add oci://…`, `publish`, `install`, `outdated` and
//! `update`: handlers shared through OCI registries, pinned by digest.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{
    Added, Description, Origin, copy_into_project, describe, file_hint, print_description, project,
    project_copies, read, record, replaced_bundled, runtime_for,
};
use crate::cli::{ProjectArgs, PublishArgs, UpdateArgs};
use crate::components::lock::{self, LockFile, Pin};
use crate::components::registry::{self, OciRef, Package, Published};
use crate::components::{self, Source, cache, conformance};
use crate::failure::{Failure, Outcome};
use crate::report::output::{Done, emit};
use crate::runtime::World;

/// How a handler is added from a registry.
pub(super) struct AddOptions<'a> {
    pub replace_bundled: bool,
    pub vendor: bool,
    /// For `update`: the name the component must have.
    pub expected_name: Option<&'a str>,
}

/// Fetches, checks and pins the component `reference` names; writes (to the
/// cache, the project and the lock) only once every check has passed.
pub(super) async fn add(
    project: &Path,
    reference: &OciRef,
    options: AddOptions<'_>,
) -> Outcome<Done<Added>> {
    let fetched = registry::fetch(reference).await?;
    let runtime = runtime_for(Some(project))?;
    let cached = cache::path_for(&fetched.sha256).unwrap_or_default();
    let handler = describe(&runtime, reference.name(), &cached, &fetched.bytes).await?;
    if let Some(expected) = options.expected_name
        && handler.name != expected
    {
        return Err(Failure::new(format!(
            "{reference} holds handler {}, not {expected}",
            handler.name
        ))
        .help("Nothing was changed. Add it under its own name: faber-db handler add REFERENCE"));
    }
    let replaces_bundled = replaced_bundled(&handler, options.replace_bundled)?;
    let vendor = options.vendor;

    let cached = cache::store(&fetched.bytes)?;
    let dir = components::project_dir(project);
    let installed = if vendor {
        let target = dir.join(components::installed_file_name(
            &handler.name,
            &handler.version,
        ));
        copy_into_project(&dir, &handler.name, &target, &fetched.bytes)?;
        target
    } else {
        // A copy left in the project would be found before the cache's.
        for old in project_copies(&dir, &handler.name) {
            std::fs::remove_file(&old).map_err(|err| {
                Failure::new(format!("Cannot delete {}", old.display())).cause(err)
            })?;
        }
        cached
    };
    let origin = Origin {
        reference: reference.to_string(),
        digest: fetched.digest.clone(),
    };
    let commit = if vendor {
        format!(
            "Commit {} and {}",
            lock::path(project).display(),
            dir.display()
        )
    } else {
        format!(
            "Commit {}; on another machine or in CI, run: faber-db handler install",
            lock::path(project).display()
        )
    };
    record(project, handler, installed, replaces_bundled, Some(origin)).map(|done| {
        let message = format!("{} from {reference} ({})", done.message, fetched.digest);
        Done { message, ..done }.next(commit)
    })
}

// publish

#[derive(Serialize)]
struct PublishReport {
    handler: Description,
    conformance: Vec<conformance::Check>,
    published: Published,
}

pub async fn publish(args: PublishArgs) -> i32 {
    let outcome = publish_handler(&args).await;
    emit(
        args.output.json(),
        "handler-publish",
        outcome,
        |report: &PublishReport| {
            print_description(&report.handler);
            println!(
                "  conformance:  {} check(s) passed",
                report.conformance.len()
            );
            println!("  manifest:     {}", report.published.digest);
            if let Some(previous) = &report.published.moved_from {
                println!("  moved tag:    was {previous}");
            }
        },
    )
}

async fn publish_handler(args: &PublishArgs) -> Outcome<Done<PublishReport>> {
    let reference = OciRef::parse(&args.reference)?;
    if reference.digest().is_some() || reference.tag().is_none() {
        return Err(Failure::new(format!("Cannot publish to {reference}"))
            .cause("a digest is what the registry computes; publishing needs a tag")
            .help("Publish to a version tag, e.g. oci://REGISTRY/REPOSITORY:1.2.0"));
    }
    let bytes = read(&args.path)?;
    if bytes.len() as u64 > registry::max_bytes() {
        return Err(Failure::new(format!(
            "{} is larger than the {}-byte limit for a handler",
            args.path.display(),
            registry::max_bytes()
        ))
        .help("Projects would refuse to fetch it; raise FABER_DB_HANDLER_MAX_BYTES if it really is this large"));
    }
    // Published handlers are checked on SQLite, which needs no server.
    let checks = conformance::run(&args.path, None).await;
    let failed: Vec<String> = checks
        .iter()
        .filter(|check| !check.passed)
        .map(|check| format!("{}: {}", check.name, check.detail))
        .collect();
    if !failed.is_empty() {
        return Err(Failure::new(format!(
            "{} does not pass the conformance suite; nothing was published",
            args.path.display()
        ))
        .cause(failed.join("; "))
        .help(format!(
            "See every check: faber-db handler test {}",
            args.path.display()
        )));
    }
    let runtime = runtime_for(None)?;
    let handler = describe(&runtime, &file_hint(&args.path), &args.path, &bytes).await?;
    let interface = |line: &String| line.split(": ").next().unwrap_or(line).to_owned();
    let package = Package {
        name: &handler.name,
        version: &handler.version,
        description: &handler.description,
        exports: handler.exports.iter().map(interface).collect(),
        imports: handler.imports.clone(),
    };
    let published = registry::publish(&reference, bytes, &package, args.overwrite).await?;
    let message = if published.pushed {
        format!(
            "Published {} {} as {reference} ({})",
            handler.name, handler.version, published.digest
        )
    } else {
        format!(
            "{reference} already holds this component ({}); nothing was pushed",
            published.digest
        )
    };
    let pinned = reference.at_digest(&published.digest);
    Ok(Done::ok(
        PublishReport {
            handler,
            conformance: checks,
            published,
        },
        message,
    )
    .next(format!(
        "Pin it in a project: faber-db handler add {reference}"
    ))
    .next(format!(
        "Or pin exactly this content: faber-db handler add {pinned}"
    )))
}

// install

#[derive(Serialize)]
struct Installed {
    name: String,
    version: String,
    source: Option<String>,
    digest: Option<String>,
    sha256: String,
    /// `present` (already on this machine), `installed` (fetched now) or `failed`.
    status: &'static str,
    path: Option<PathBuf>,
    detail: String,
    help: Vec<String>,
}

pub async fn install(args: ProjectArgs) -> i32 {
    let outcome = async {
        let project = project(&args)?;
        let lock = LockFile::load(&project)?;
        let mut results = Vec::new();
        for pin in lock.pins() {
            results.push(install_pin(&project, pin).await);
        }
        let count = |status| results.iter().filter(|r| r.status == status).count();
        let (fetched, failed) = (count("installed"), count("failed"));
        let mut done = Done::ok(
            Vec::new(),
            format!(
                "{} pinned handler(s): {fetched} installed, {} already present",
                lock.pins().len(),
                count("present")
            ),
        );
        if failed > 0 {
            done.ok = false;
            done.message = format!(
                "{failed} of {} pinned handler(s) could not be installed",
                lock.pins().len()
            );
            for help in results.iter().flat_map(|r| r.help.iter()) {
                if !done.next_steps.contains(help) {
                    done.next_steps.push(help.clone());
                }
            }
        }
        done.result = results;
        Ok(done)
    }
    .await;
    emit(
        args.output.json(),
        "handler-install",
        outcome,
        |results: &Vec<Installed>| {
            for result in results {
                println!(
                    "{:<10} {} {}: {}",
                    result.status, result.name, result.version, result.detail
                );
            }
        },
    )
}

async fn install_pin(project: &Path, pin: &Pin) -> Installed {
    let entry = |status, path, detail: String, help: Vec<String>| Installed {
        name: pin.name.clone(),
        version: pin.version.clone(),
        source: pin.source.clone(),
        digest: pin.digest.clone(),
        sha256: pin.sha256.clone(),
        status,
        path,
        detail,
        help,
    };
    if let Ok(resolved) = components::resolve_pinned(project, pin) {
        let found = read(&resolved.path)
            .map(|bytes| crate::runtime::sha256_hex(&bytes))
            .unwrap_or_default();
        if found == pin.sha256 {
            let detail = format!("{} ({})", resolved.path.display(), resolved.source.as_str());
            return entry("present", Some(resolved.path), detail, Vec::new());
        }
        if pin.source.is_none() || resolved.source == Source::Project {
            let failure = components::pin_mismatch(pin, &resolved, &found);
            return entry(
                "failed",
                Some(resolved.path),
                failure.to_string(),
                failure.suggestions,
            );
        }
    }
    match fetch_pinned(pin).await {
        Ok(path) => {
            let detail = format!(
                "{} from {}",
                path.display(),
                pin.source.as_deref().unwrap_or_default()
            );
            entry("installed", Some(path), detail, Vec::new())
        }
        Err(failure) => entry("failed", None, failure.to_string(), failure.suggestions),
    }
}

/// Fetches exactly what `pin` pins: its manifest digest, whatever its tag
/// points at now, and content with the pinned sha256.
async fn fetch_pinned(pin: &Pin) -> Outcome<PathBuf> {
    let (Some(source), Some(digest)) = (&pin.source, &pin.digest) else {
        return Err(Failure::new(format!(
            "Handler {} is pinned but not on this machine, and was not added from a registry",
            pin.name
        ))
        .help(
            "Restore its .wasm from version control, or add it again: faber-db handler add PATH",
        ));
    };
    let reference = OciRef::parse(source)?.at_digest(digest);
    let fetched = registry::fetch(&reference).await?;
    if fetched.sha256 != pin.sha256 {
        return Err(Failure::new(format!(
            "{reference} does not hold the component {} pins",
            lock::FILE_NAME
        ))
        .cause(format!(
            "the lock pins sha256 {}, the registry's component has sha256 {}",
            pin.sha256, fetched.sha256
        ))
        .help(
            "Nothing was written. If the lock file was edited, restore it from version control",
        ));
    }
    cache::store(&fetched.bytes)
}

// outdated

#[derive(Serialize)]
struct TagMove {
    tag: String,
    pinned: String,
    now: String,
}

#[derive(Serialize)]
struct Newer {
    tag: String,
    digest: String,
    /// The `faber:db` version its config says it exports; `None` when it says none.
    contract: Option<String>,
    supported: bool,
}

#[derive(Serialize)]
struct Status {
    name: String,
    version: String,
    source: String,
    digest: Option<String>,
    /// Set when the pinned tag now points at other content.
    tag_moved: Option<TagMove>,
    /// Semver-greater tags, newest first.
    newer: Vec<Newer>,
    /// What `handler update` would pin: the newest supported tag, else the
    /// pinned tag if it moved.
    update_to: Option<String>,
}

/// Tags inspected per handler, newest first: enough to find a supported one.
const NEWER_TAGS_INSPECTED: usize = 10;

fn semver(text: &str) -> Option<semver::Version> {
    semver::Version::parse(text.strip_prefix('v').unwrap_or(text)).ok()
}

fn world_of(pin: &Pin) -> Option<World> {
    [World::MigrationTool, World::CloudProvider]
        .into_iter()
        .find(|world| world.as_str() == pin.world)
}

/// What the registry holds beyond what `pin` pins; `None` for a handler not
/// pinned from a registry by tag.
async fn status(pin: &Pin) -> Outcome<Option<Status>> {
    let Some(source) = &pin.source else {
        return Ok(None);
    };
    let reference = OciRef::parse(source)?;
    let Some(tag) = reference.tag().map(str::to_owned) else {
        return Ok(None);
    };
    let now = registry::inspect_tag(&reference).await?.digest;
    let tag_moved = (pin.digest.as_deref() != Some(now.as_str())).then(|| TagMove {
        tag: tag.clone(),
        pinned: pin.digest.clone().unwrap_or_default(),
        now,
    });
    let base = semver(&tag).or_else(|| semver(&pin.version));
    let mut candidates: Vec<(semver::Version, String)> = registry::tags(&reference)
        .await?
        .into_iter()
        .filter_map(|tag| semver(&tag).map(|version| (version, tag)))
        .filter(|(version, _)| base.as_ref().is_some_and(|base| version > base))
        .collect();
    candidates.sort_by(|a, b| b.0.cmp(&a.0));
    let supported = world_of(pin)
        .map(World::supported_versions)
        .unwrap_or_default();
    let mut newer = Vec::new();
    for (_, tag) in candidates.into_iter().take(NEWER_TAGS_INSPECTED) {
        let info = registry::inspect_tag(&reference.at_tag(&tag)).await?;
        newer.push(Newer {
            supported: info
                .contract
                .as_deref()
                .is_some_and(|contract| supported.contains(&contract)),
            tag,
            digest: info.digest,
            contract: info.contract,
        });
    }
    let update_to = newer
        .iter()
        .find(|newer| newer.supported)
        .map(|newer| newer.tag.clone())
        .or_else(|| tag_moved.as_ref().map(|moved| moved.tag.clone()));
    Ok(Some(Status {
        name: pin.name.clone(),
        version: pin.version.clone(),
        source: source.clone(),
        digest: pin.digest.clone(),
        tag_moved,
        newer,
        update_to,
    }))
}

fn print_moved(moved: &TagMove) {
    println!(
        "  tag {} moved to other content: pinned {}, now {}",
        moved.tag, moved.pinned, moved.now
    );
}

pub async fn outdated(args: ProjectArgs) -> i32 {
    let outcome = async {
        let project = project(&args)?;
        let lock = LockFile::load(&project)?;
        let mut statuses = Vec::new();
        for pin in lock.pins() {
            statuses.extend(status(pin).await?);
        }
        let updatable: Vec<&Status> = statuses.iter().filter(|s| s.update_to.is_some()).collect();
        let message = format!(
            "{} of {} registry handler(s) can be updated",
            updatable.len(),
            statuses.len()
        );
        let next: Vec<String> = updatable
            .iter()
            .map(|status| format!("faber-db handler update {}", status.name))
            .collect();
        let mut done = Done::ok(statuses, message);
        done.next_steps = next;
        Ok(done)
    }
    .await;
    emit(
        args.output.json(),
        "handler-outdated",
        outcome,
        |statuses: &Vec<Status>| {
            for status in statuses {
                println!("{} {} ({})", status.name, status.version, status.source);
                if let Some(moved) = &status.tag_moved {
                    print_moved(moved);
                }
                for newer in &status.newer {
                    let contract = newer.contract.as_deref().unwrap_or("unknown");
                    let verdict = if newer.supported {
                        "supported"
                    } else {
                        "not supported by this host"
                    };
                    println!("  {:<12} faber:db@{contract} ({verdict})", newer.tag);
                }
            }
        },
    )
}

// update

#[derive(Serialize)]
struct Updated {
    previous: Pin,
    /// `None` when there was nothing to update.
    added: Option<Added>,
    tag_moved: Option<TagMove>,
}

pub async fn update(args: UpdateArgs) -> i32 {
    let outcome = update_handler(&args).await;
    emit(
        args.project.output.json(),
        "handler-update",
        outcome,
        |updated: &Updated| {
            if let Some(moved) = &updated.tag_moved {
                print_moved(moved);
            }
            if let Some(added) = &updated.added {
                print_description(&added.handler);
            }
        },
    )
}

async fn update_handler(args: &UpdateArgs) -> Outcome<Done<Updated>> {
    let project = project(&args.project)?;
    let lock = LockFile::load(&project)?;
    let name = components::canonical_name(&project, &args.handler);
    let pin = lock.get(&name).cloned().ok_or_else(|| {
        Failure::new(format!("Handler {name} is not pinned in this project"))
            .help("See what is pinned with: faber-db handler list")
    })?;
    let Some(source) = &pin.source else {
        return Err(Failure::new(format!(
            "Handler {} was not added from a registry",
            pin.name
        ))
        .help("Upgrade it by adding the new version: faber-db handler add PATH"));
    };
    let reference = OciRef::parse(source)?;
    let current = status(&pin).await?;
    let target = match (&args.tag, &current) {
        (Some(tag), _) => Some(tag.clone()),
        (None, Some(status)) => status.update_to.clone(),
        (None, None) => {
            return Err(Failure::new(format!(
                "Handler {} is pinned by digest, not by tag",
                pin.name
            ))
            .help(format!(
                "Name the tag to move to: faber-db handler update {} --tag TAG",
                pin.name
            )));
        }
    };
    let tag_moved = current.and_then(|status| status.tag_moved);
    let Some(target) = target else {
        let message = format!(
            "{} {} is up to date; nothing was changed",
            pin.name, pin.version
        );
        return Ok(Done::ok(
            Updated {
                previous: pin,
                added: None,
                tag_moved,
            },
            message,
        ));
    };
    let vendored = components::resolve_pinned(&project, &pin)
        .is_ok_and(|resolved| resolved.source == Source::Project);
    let added = add(
        &project,
        &reference.at_tag(&target),
        AddOptions {
            replace_bundled: args.replace_bundled,
            vendor: vendored,
            expected_name: Some(&pin.name),
        },
    )
    .await?;
    let message = format!(
        "Updated {} from {} ({}) to {} ({})",
        pin.name,
        pin.version,
        source,
        added.result.pin.version,
        added.result.pin.source.as_deref().unwrap_or_default()
    );
    let mut done = Done::ok(
        Updated {
            previous: pin,
            added: Some(added.result),
            tag_moved,
        },
        message,
    );
    done.next_steps = added.next_steps;
    Ok(done)
}
