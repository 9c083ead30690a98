//! Host bindings, one module per supported version of the `faber:db` WIT
//! package (frozen in `wit/v<version>/`), so handlers built against an older
//! version keep loading while the contract grows.
//!
//! [`VERSIONS`] is the one list of supported versions: it declares each
//! version's bindings module and drives detection (which versions a world
//! accepts) and dispatch (how a component of that version is linked). Each
//! module converts its generated types to and from the host's own
//! ([`super::contract`]) and implements the world traits below, so nothing
//! outside `runtime/` names a generated type. The capabilities (`sql`, `log`,
//! `migration-script`) are implemented once, for [`latest`]; older modules
//! delegate to it. Every version serves `rds` alike, in the host's records.
//!
//! A new contract version: copy `wit/faber-db.wit` to `wit/v<version>/`, add
//! its module and one line to the table, and move [`latest`].

pub(super) mod adapt;
mod legacy;

use std::future::Future;
use std::pin::Pin;

use wasmtime::Store;
use wasmtime::component::{Component, Linker};

use super::contract::{
    ApplyFailure, CreateRequest, HandlerError, HandlerInfo, Infrastructure, InfrastructureRequest,
    InitializeOutcome, InitializeRequest, MigrationForm, MigrationLock, ProjectFile,
    ProjectReading, Provider, Resolution, TrackingRequest, TrackingRow, TrackingState, World,
};
use super::state::HandlerState;

/// The version the capabilities are written against.
pub(super) use v0_6_0 as latest;

/// Lists every supported version once: its module, its number (the folder
/// under `wit/`), and the worlds it defines.
macro_rules! contract_versions {
    ($($module:ident = $number:literal { $($world:ident),* })*) => {
        $(pub(super) mod $module;)*

        /// Every supported contract version, oldest first.
        #[allow(clippy::needless_update, reason = "a version need not define every world")]
        pub const VERSIONS: &[Version] = &[$(Version {
            number: $number,
            $($world: Some(link!($world, $module)),)*
            ..Version::NONE
        }),*];
    };
}

/// The function that links a component of `$module`'s `$world`.
macro_rules! link {
    (migration_tool, $module:ident) => {
        <$module::migration_tool::MigrationToolHandlerPre<HandlerState> as LinkedMigrationTool>::link
    };
    (cloud_provider, $module:ident) => {
        <$module::cloud_provider::CloudProviderHandlerPre<HandlerState> as LinkedCloudProvider>::link
    };
}

contract_versions! {
    v0_1_0 = "0.1.0" { migration_tool }
    v0_2_0 = "0.2.0" { migration_tool, cloud_provider }
    v0_3_0 = "0.3.0" { migration_tool, cloud_provider }
    v0_4_0 = "0.4.0" { migration_tool, cloud_provider }
    v0_5_0 = "0.5.0" { migration_tool, cloud_provider }
    v0_6_0 = "0.6.0" { migration_tool, cloud_provider }
}

/// The newest version: what `handler new` builds against.
pub const CURRENT: &str = VERSIONS[VERSIONS.len() - 1].number;

/// One supported contract version and how to link each world it defines.
pub struct Version {
    pub number: &'static str,
    migration_tool: Option<Link<dyn LinkedMigrationTool>>,
    cloud_provider: Option<Link<dyn LinkedCloudProvider>>,
}

type Link<T> = fn(&mut Linker<HandlerState>, &Component) -> wasmtime::Result<Box<T>>;

impl Version {
    const NONE: Version = Version {
        number: "",
        migration_tool: None,
        cloud_provider: None,
    };

    fn find(number: &str) -> Option<&'static Version> {
        VERSIONS.iter().find(|version| version.number == number)
    }

    fn defines(&self, world: World) -> bool {
        match world {
            World::MigrationTool => self.migration_tool.is_some(),
            World::CloudProvider => self.cloud_provider.is_some(),
        }
    }
}

/// The versions in which `world` exists, oldest first.
pub fn supported(world: World) -> Vec<&'static str> {
    VERSIONS
        .iter()
        .filter(|version| version.defines(world))
        .map(|version| version.number)
        .collect()
}

/// Links `component`, built for `number`, as a migration-tool handler.
pub(super) fn link_migration_tool(
    number: &str,
    linker: &mut Linker<HandlerState>,
    component: &Component,
) -> wasmtime::Result<Box<dyn LinkedMigrationTool>> {
    match Version::find(number).and_then(|version| version.migration_tool) {
        Some(link) => link(linker, component),
        None => Err(unsupported(number, World::MigrationTool)),
    }
}

/// Links `component`, built for `number`, as a cloud-provider handler.
pub(super) fn link_cloud_provider(
    number: &str,
    linker: &mut Linker<HandlerState>,
    component: &Component,
) -> wasmtime::Result<Box<dyn LinkedCloudProvider>> {
    match Version::find(number).and_then(|version| version.cloud_provider) {
        Some(link) => link(linker, component),
        None => Err(unsupported(number, World::CloudProvider)),
    }
}

fn unsupported(number: &str, world: World) -> wasmtime::Error {
    wasmtime::Error::msg(format!(
        "faber:db@{number} has no {} world in this host",
        world.as_str()
    ))
}

/// A call into a guest, speaking the host's types.
pub(super) type Call<'a, T> = Pin<Box<dyn Future<Output = wasmtime::Result<T>> + Send + 'a>>;

/// A reported result: the handler's answer, or its error.
type Answer<'a, T> = Call<'a, Result<T, HandlerError>>;

/// A migration-tool component linked for its contract version.
pub(super) trait LinkedMigrationTool: Send + Sync {
    fn link(
        linker: &mut Linker<HandlerState>,
        component: &Component,
    ) -> wasmtime::Result<Box<dyn LinkedMigrationTool>>
    where
        Self: Sized;

    fn instantiate<'a>(
        &'a self,
        store: &'a mut Store<HandlerState>,
    ) -> Call<'a, Box<dyn MigrationToolCalls>>;
}

/// A cloud-provider component linked for its contract version.
pub(super) trait LinkedCloudProvider: Send + Sync {
    fn link(
        linker: &mut Linker<HandlerState>,
        component: &Component,
    ) -> wasmtime::Result<Box<dyn LinkedCloudProvider>>
    where
        Self: Sized;

    fn instantiate<'a>(
        &'a self,
        store: &'a mut Store<HandlerState>,
    ) -> Call<'a, Box<dyn CloudProviderCalls>>;
}

/// One instance of a migration-tool handler. The migration operations came
/// with 0.3.0: an older handler is refused before it is asked for one (see
/// `MigrationTool::operation`), so the defaults only say what is missing.
pub(super) trait MigrationToolCalls: Send + Sync {
    fn info<'a>(&'a self, store: &'a mut Store<HandlerState>) -> Call<'a, HandlerInfo>;

    fn initialize_schema<'a>(
        &'a self,
        store: &'a mut Store<HandlerState>,
        request: &'a InitializeRequest,
    ) -> Answer<'a, InitializeOutcome>;

    fn migration_lock_for<'a>(
        &'a self,
        _store: &'a mut Store<HandlerState>,
        _provider: Provider,
    ) -> Call<'a, MigrationLock> {
        absent("migration-lock-for")
    }

    fn read_state<'a>(
        &'a self,
        _store: &'a mut Store<HandlerState>,
        _request: &'a TrackingRequest,
    ) -> Answer<'a, TrackingState> {
        absent("read-state")
    }

    /// Before 0.4.0: one migration, its SQL sent by the handler.
    fn apply_migration<'a>(
        &'a self,
        _store: &'a mut Store<HandlerState>,
        _request: &'a TrackingRequest,
        _name: &'a str,
    ) -> Answer<'a, TrackingRow> {
        absent("apply-migration")
    }

    /// Since 0.4.0: whether the host runs the migrations' SQL.
    fn migration_form_for<'a>(
        &'a self,
        _store: &'a mut Store<HandlerState>,
        _provider: Provider,
    ) -> Call<'a, MigrationForm> {
        absent("migration-form-for")
    }

    /// Since 0.4.0: the table the handler's restricted session may write.
    fn tracking_table_for<'a>(
        &'a self,
        _store: &'a mut Store<HandlerState>,
        _request: &'a TrackingRequest,
    ) -> Call<'a, String> {
        absent("tracking-table-for")
    }

    /// Since 0.4.0: every pending migration in one call, their SQL run by
    /// the host from their files.
    fn apply_migrations<'a>(
        &'a self,
        _store: &'a mut Store<HandlerState>,
        _request: &'a TrackingRequest,
        _names: &'a [String],
    ) -> Call<'a, Result<Vec<TrackingRow>, ApplyFailure>> {
        absent("apply-migrations")
    }

    fn resolve_migration<'a>(
        &'a self,
        _store: &'a mut Store<HandlerState>,
        _request: &'a TrackingRequest,
        _name: &'a str,
        _resolution: Resolution,
    ) -> Answer<'a, TrackingRow> {
        absent("resolve-migration")
    }

    fn create_migration<'a>(
        &'a self,
        _store: &'a mut Store<HandlerState>,
        _request: &'a CreateRequest,
    ) -> Answer<'a, String> {
        absent("create-migration")
    }

    /// Since 0.6.0: what the tool's files in a project say, one round of
    /// reading at a time.
    fn read_project<'a>(
        &'a self,
        _store: &'a mut Store<HandlerState>,
        _files: &'a [ProjectFile],
    ) -> Call<'a, ProjectReading> {
        absent("read-project")
    }
}

fn absent<'a, T>(operation: &'static str) -> Call<'a, T> {
    Box::pin(async move {
        Err(wasmtime::Error::msg(format!(
            "the handler's contract version has no `{operation}`"
        )))
    })
}

/// One instance of a cloud-provider handler; every version has every call.
pub(super) trait CloudProviderCalls: Send + Sync {
    fn info<'a>(&'a self, store: &'a mut Store<HandlerState>) -> Call<'a, HandlerInfo>;

    fn hostings<'a>(&'a self, store: &'a mut Store<HandlerState>) -> Call<'a, Vec<String>>;

    fn plan<'a>(
        &'a self,
        store: &'a mut Store<HandlerState>,
        request: &'a InfrastructureRequest,
    ) -> Answer<'a, Vec<String>>;

    fn find<'a>(
        &'a self,
        store: &'a mut Store<HandlerState>,
        request: &'a InfrastructureRequest,
    ) -> Answer<'a, Option<Infrastructure>>;

    fn provision<'a>(
        &'a self,
        store: &'a mut Store<HandlerState>,
        request: &'a InfrastructureRequest,
    ) -> Answer<'a, Infrastructure>;

    fn poll<'a>(
        &'a self,
        store: &'a mut Store<HandlerState>,
        request: &'a InfrastructureRequest,
    ) -> Answer<'a, Infrastructure>;
}

/// `LinkedMigrationTool` for a version module's generated pre-instance, and
/// the calls every version has (`info`, `initialize-schema`); `$more` are the
/// version's other operations.
macro_rules! migration_tool_calls {
    ($($more:tt)*) => {
        impl $crate::runtime::bindings::LinkedMigrationTool
            for migration_tool::MigrationToolHandlerPre<HandlerState>
        {
            fn link(
                linker: &mut wasmtime::component::Linker<HandlerState>,
                component: &wasmtime::component::Component,
            ) -> wasmtime::Result<Box<dyn $crate::runtime::bindings::LinkedMigrationTool>> {
                migration_tool::MigrationToolHandler::add_to_linker::<
                    _,
                    wasmtime::component::HasSelf<_>,
                >(linker, |state| state)?;
                let pre = linker.instantiate_pre(component)?;
                Ok(Box::new(migration_tool::MigrationToolHandlerPre::new(pre)?))
            }

            fn instantiate<'a>(
                &'a self,
                store: &'a mut wasmtime::Store<HandlerState>,
            ) -> $crate::runtime::bindings::Call<
                'a,
                Box<dyn $crate::runtime::bindings::MigrationToolCalls>,
            > {
                Box::pin(async move {
                    let instance = self.instantiate_async(store).await?;
                    Ok(Box::new(instance) as Box<dyn $crate::runtime::bindings::MigrationToolCalls>)
                })
            }
        }

        impl $crate::runtime::bindings::MigrationToolCalls for migration_tool::MigrationToolHandler {
            fn info<'a>(
                &'a self,
                store: &'a mut wasmtime::Store<HandlerState>,
            ) -> $crate::runtime::bindings::Call<'a, $crate::runtime::contract::HandlerInfo> {
                Box::pin(async move {
                    Ok(self.faber_db_migration_tool().call_info(store).await?.adapt())
                })
            }

            $crate::runtime::bindings::request_call!(
                faber_db_migration_tool, initialize_schema, call_initialize_schema,
                $crate::runtime::contract::InitializeRequest
                    => $crate::runtime::contract::InitializeOutcome
            );

            $($more)*
        }
    };
}

/// `LinkedCloudProvider` for a version module's generated pre-instance, and
/// its calls: the cloud-provider world has kept its operations since 0.2.0,
/// so only the records' conversions differ between versions.
macro_rules! cloud_provider_calls {
    () => {
        impl $crate::runtime::bindings::LinkedCloudProvider
            for cloud_provider::CloudProviderHandlerPre<HandlerState>
        {
            fn link(
                linker: &mut wasmtime::component::Linker<HandlerState>,
                component: &wasmtime::component::Component,
            ) -> wasmtime::Result<Box<dyn $crate::runtime::bindings::LinkedCloudProvider>> {
                cloud_provider::CloudProviderHandler::add_to_linker::<
                    _,
                    wasmtime::component::HasSelf<_>,
                >(linker, |state| state)?;
                let pre = linker.instantiate_pre(component)?;
                Ok(Box::new(cloud_provider::CloudProviderHandlerPre::new(pre)?))
            }

            fn instantiate<'a>(
                &'a self,
                store: &'a mut wasmtime::Store<HandlerState>,
            ) -> $crate::runtime::bindings::Call<
                'a,
                Box<dyn $crate::runtime::bindings::CloudProviderCalls>,
            > {
                Box::pin(async move {
                    let instance = self.instantiate_async(store).await?;
                    Ok(Box::new(instance)
                        as Box<dyn $crate::runtime::bindings::CloudProviderCalls>)
                })
            }
        }

        impl $crate::runtime::bindings::CloudProviderCalls
            for cloud_provider::CloudProviderHandler
        {
            fn info<'a>(
                &'a self,
                store: &'a mut wasmtime::Store<HandlerState>,
            ) -> $crate::runtime::bindings::Call<'a, $crate::runtime::contract::HandlerInfo> {
                Box::pin(async move {
                    Ok(self
                        .faber_db_cloud_provider()
                        .call_info(store)
                        .await?
                        .adapt())
                })
            }

            fn hostings<'a>(
                &'a self,
                store: &'a mut wasmtime::Store<HandlerState>,
            ) -> $crate::runtime::bindings::Call<'a, Vec<String>> {
                Box::pin(async move { self.faber_db_cloud_provider().call_hostings(store).await })
            }

            $crate::runtime::bindings::request_call!(
                faber_db_cloud_provider, plan, call_plan,
                $crate::runtime::contract::InfrastructureRequest => Vec<String>
            );
            $crate::runtime::bindings::request_call!(
                faber_db_cloud_provider, find, call_find,
                $crate::runtime::contract::InfrastructureRequest
                    => Option<$crate::runtime::contract::Infrastructure>
            );
            $crate::runtime::bindings::request_call!(
                faber_db_cloud_provider, provision, call_provision,
                $crate::runtime::contract::InfrastructureRequest
                    => $crate::runtime::contract::Infrastructure
            );
            $crate::runtime::bindings::request_call!(
                faber_db_cloud_provider, poll, call_poll,
                $crate::runtime::contract::InfrastructureRequest
                    => $crate::runtime::contract::Infrastructure
            );
        }
    };
}

/// A call that takes one request and answers with the handler's result,
/// both converted between the version's types and the host's.
macro_rules! request_call {
    ($interface:ident, $name:ident, $call:ident, $request:ty => $answer:ty) => {
        fn $name<'a>(
            &'a self,
            store: &'a mut wasmtime::Store<HandlerState>,
            request: &'a $request,
        ) -> $crate::runtime::bindings::Call<
            'a,
            Result<$answer, $crate::runtime::contract::HandlerError>,
        > {
            Box::pin(async move {
                let request = request.clone().adapt();
                let answer = self.$interface().$call(store, &request).await?;
                Ok(answer.adapt())
            })
        }
    };
}

pub(crate) use {cloud_provider_calls, migration_tool_calls, request_call};

#[cfg(test)]
mod tests {
    use super::*;

    /// Each listed version is the package frozen in its folder, and the
    /// newest is the contract third parties build against (`wit/`).
    #[test]
    fn every_version_is_frozen_in_its_folder_and_the_newest_is_current() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        for version in VERSIONS {
            let frozen =
                std::fs::read_to_string(wit.join(format!("v{}/faber-db.wit", version.number)))
                    .unwrap();
            assert!(
                frozen.contains(&format!("package faber:db@{};", version.number)),
                "wit/v{} declares another version",
                version.number
            );
        }
        let current = std::fs::read_to_string(wit.join("faber-db.wit")).unwrap();
        let frozen = std::fs::read_to_string(wit.join(format!("v{CURRENT}/faber-db.wit"))).unwrap();
        assert_eq!(
            current, frozen,
            "wit/faber-db.wit changed after faber:db@{CURRENT} was published: copy it to a new wit/v<version>/ and add that version to VERSIONS"
        );
    }

    #[test]
    fn the_worlds_are_supported_from_the_version_that_brought_them() {
        assert_eq!(
            supported(World::MigrationTool),
            ["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0"]
        );
        assert_eq!(
            supported(World::CloudProvider),
            ["0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0"]
        );
        assert_eq!(CURRENT, "0.6.0");
    }
}
