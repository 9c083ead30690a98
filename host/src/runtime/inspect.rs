//! What a component is, read from its own type before it runs: which world
//! it exports, for which version of the contract, and which capabilities it
//! imports (shown to a team before they pin it).

use serde::Serialize;
use wasmtime::component::types::ComponentItem;

use super::{HandlerFailure, LoadedComponent, Runtime, World};

impl World {
    /// The contract versions this host loads for the world, oldest first.
    pub fn supported_versions(self) -> Vec<&'static str> {
        super::bindings::supported(self)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Shape {
    pub world: World,
    /// The `faber:db` package version the component was built against.
    pub wit_version: String,
    /// Exported interfaces with their functions, e.g. `faber:db/migration-tool@0.2.0: info, initialize-schema`.
    pub exports: Vec<String>,
    /// Every interface the component imports.
    pub imports: Vec<String>,
    /// What those imports let it do, in words.
    pub capabilities: Vec<String>,
}

impl Runtime {
    /// Reads the component's world and contract version; a component for no
    /// known world, or for an unsupported version, is refused here.
    pub fn inspect(&self, component: &LoadedComponent) -> Result<Shape, HandlerFailure> {
        let ty = component.component.component_type();
        let engine = component.component.engine();
        let mut world = None;
        let mut exports = Vec::new();
        for (name, item) in ty.exports(engine) {
            let functions = match item.ty {
                ComponentItem::ComponentInstance(instance) => instance
                    .exports(engine)
                    .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
                    .map(|(function, _)| function.to_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            exports.push(format!("{name}: {functions}"));
            for (candidate, interface) in [
                (World::MigrationTool, "faber:db/migration-tool@"),
                (World::CloudProvider, "faber:db/cloud-provider@"),
            ] {
                if let Some(version) = name.strip_prefix(interface) {
                    world = Some((candidate, version.to_owned()));
                }
            }
        }
        let imports: Vec<String> = ty
            .imports(engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let Some((world, wit_version)) = world else {
            return Err(HandlerFailure::Incompatible {
                handler: component.name.clone(),
                reason: "it exports neither faber:db/migration-tool nor faber:db/cloud-provider; is it a faber-db handler?".to_owned(),
            });
        };
        let supported = world.supported_versions();
        if !supported.contains(&wit_version.as_str()) {
            return Err(HandlerFailure::Incompatible {
                handler: component.name.clone(),
                reason: format!(
                    "it was built for faber:db@{wit_version}, and this host (faber-db {}) supports {} for {} handlers",
                    env!("CARGO_PKG_VERSION"),
                    supported
                        .iter()
                        .map(|version| format!("faber:db@{version}"))
                        .collect::<Vec<_>>()
                        .join(" and "),
                    world.as_str()
                ),
            });
        }
        let capabilities = describe_capabilities(&imports);
        Ok(Shape {
            world,
            wit_version,
            exports,
            imports,
            capabilities,
        })
    }
}

/// One line per kind of access, in the order a reviewer cares about.
fn describe_capabilities(imports: &[String]) -> Vec<String> {
    let rules: [(&str, &str); 8] = [
        (
            "faber:db/sql",
            "SQL on the target database only (the host opens the one database; the handler never sees a connection string)",
        ),
        (
            "faber:db/rds",
            "AWS RDS: describe and create DB clusters and instances, with the host's credentials (never visible to the handler; passwords are RDS-managed)",
        ),
        (
            "wasi:filesystem",
            "files under the migrations folder only (the one directory the host grants)",
        ),
        ("faber:db/log", "messages to the faber-db log"),
        ("wasi:sockets", "network: requested, always denied"),
        (
            "wasi:cli/environment",
            "environment variables and arguments: requested, always empty",
        ),
        ("wasi:clocks", "clocks"),
        ("wasi:random", "random numbers"),
    ];
    rules
        .iter()
        .filter(|(prefix, _)| imports.iter().any(|import| import.starts_with(prefix)))
        .map(|(_, description)| (*description).to_owned())
        .collect()
}
