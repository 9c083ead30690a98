//! Calling a migration-tool handler (world `migration-tool-handler`).

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Store, Trap};

use super::bindings::latest::{
    HandlerInfo, InitializeOutcome, InitializeRequest, MigrationToolHandler,
    MigrationToolHandlerPre,
};
use super::state::{Grant, HandlerState};
use super::{HandlerFailure, LoadedComponent, Runtime};
use crate::db::Database;

/// A loaded migration-tool handler, linked and ready to instantiate per call.
pub struct MigrationTool {
    runtime: Runtime,
    component: LoadedComponent,
    pre: MigrationToolHandlerPre<HandlerState>,
}

impl MigrationTool {
    /// Links the capabilities of the migration-tool world; a component that
    /// imports anything else, or lacks an export, is refused here.
    pub fn new(runtime: &Runtime, component: LoadedComponent) -> Result<Self, HandlerFailure> {
        let incompatible = |err: wasmtime::Error| HandlerFailure::Incompatible {
            handler: component.name.clone(),
            reason: format!("{err:#}"),
        };
        let mut linker = Linker::<HandlerState>::new(&runtime.engine);
        // Rust guests import wasi:cli, io and clocks through the standard
        // library even when unused; the WASI context grants nothing through them.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(incompatible)?;
        MigrationToolHandler::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(incompatible)?;
        let pre = linker
            .instantiate_pre(&component.component)
            .and_then(MigrationToolHandlerPre::new)
            .map_err(incompatible)?;
        Ok(MigrationTool {
            runtime: runtime.clone(),
            component,
            pre,
        })
    }

    pub fn component(&self) -> &LoadedComponent {
        &self.component
    }

    pub async fn info(&self) -> Result<HandlerInfo, HandlerFailure> {
        let (_, result) = self
            .call(Grant::default(), async |handler, store| {
                handler.faber_db_migration_tool().call_info(store).await
            })
            .await;
        result
    }

    /// Runs `initialize-schema`. The database comes back (also after a
    /// failure) so the caller can close it before any cleanup.
    pub async fn initialize_schema(
        &self,
        grant: Grant,
        request: &InitializeRequest,
    ) -> (Option<Database>, Result<InitializeOutcome, HandlerFailure>) {
        let (database, result) = self
            .call(grant, async |handler, store| {
                handler
                    .faber_db_migration_tool()
                    .call_initialize_schema(store, request)
                    .await
            })
            .await;
        let handler = &self.component.name;
        let result = result
            .and_then(|reported| {
                reported.map_err(|error| HandlerFailure::Reported {
                    handler: handler.clone(),
                    error,
                })
            })
            .and_then(|outcome| {
                check_outcome_size(&outcome).map_err(|reason| HandlerFailure::Oversized {
                    handler: handler.clone(),
                    reason,
                })?;
                Ok(outcome)
            });
        (database, result)
    }

    /// One sandboxed call: a fresh store and instance, the limits applied,
    /// and any trap or limit turned into a [`HandlerFailure`].
    async fn call<T>(
        &self,
        grant: Grant,
        body: impl AsyncFnOnce(&MigrationToolHandler, &mut Store<HandlerState>) -> wasmtime::Result<T>,
    ) -> (Option<Database>, Result<T, HandlerFailure>) {
        let name = &self.component.name;
        let limits = self.runtime.limits;
        let mut store = match self.runtime.store(name, grant) {
            Ok(store) => store,
            Err(failure) => return (None, Err(failure)),
        };
        let run = async {
            let handler = self.pre.instantiate_async(&mut store).await?;
            body(&handler, &mut store).await
        };
        let outcome = tokio::time::timeout(limits.timeout, run).await;
        let result = match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(self.classify(store.data(), err)),
            Err(_elapsed) => Err(HandlerFailure::Timeout {
                handler: name.clone(),
                limit: limits.timeout,
            }),
        };
        (store.into_data().database, result)
    }

    fn classify(&self, state: &HandlerState, err: wasmtime::Error) -> HandlerFailure {
        let handler = self.component.name.clone();
        let limits = self.runtime.limits;
        if state.limiter.hit {
            return HandlerFailure::MemoryLimit {
                handler,
                mib: limits.memory_bytes >> 20,
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => HandlerFailure::CpuLimit {
                handler,
                fuel: limits.fuel,
            },
            Some(Trap::Interrupt) => HandlerFailure::Timeout {
                handler,
                limit: limits.timeout,
            },
            _ => {
                let stderr = state.stderr();
                let message = if stderr.is_empty() {
                    format!("{err:#}")
                } else {
                    format!("{err:#}; handler said: {stderr}")
                };
                HandlerFailure::Trap { handler, message }
            }
        }
    }
}

/// A report is a handful of names; anything near this size is a broken or
/// hostile handler, and is refused before it reaches output or logs.
const MAX_OUTCOME_BYTES: usize = 1 << 20;

fn check_outcome_size(outcome: &InitializeOutcome) -> Result<(), String> {
    let lists = [&outcome.applied, &outcome.pending, &outcome.files_written];
    let size: usize = lists
        .iter()
        .flat_map(|list| list.iter())
        .map(String::len)
        .sum::<usize>()
        + outcome.tracking_table.len()
        + outcome.baseline_migration.len();
    if size > MAX_OUTCOME_BYTES {
        return Err(format!(
            "{size} bytes of names, the limit is {MAX_OUTCOME_BYTES}"
        ));
    }
    Ok(())
}
