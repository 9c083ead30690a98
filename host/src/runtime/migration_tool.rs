//! Calling a migration-tool handler (world `migration-tool-handler`).

use wasmtime::component::HasSelf;

use super::bindings::latest::migration_tool::MigrationToolHandlerPre;
use super::bindings::latest::{
    HandlerInfo, InitializeOutcome, InitializeRequest, MigrationToolHandler,
};
use super::state::Grant;
use super::state::HandlerState;
use super::{HandlerFailure, LoadedComponent, Runtime};
use crate::db::Database;

/// A loaded migration-tool handler, linked and ready to instantiate per call.
pub struct MigrationTool {
    runtime: Runtime,
    component: LoadedComponent,
    pre: MigrationToolHandlerPre<HandlerState>,
}

impl MigrationTool {
    /// Links the capabilities of the migration-tool world (SQL and logging);
    /// a component that imports anything else, or lacks an export, is refused.
    pub fn new(runtime: &Runtime, component: LoadedComponent) -> Result<Self, HandlerFailure> {
        let pre = runtime
            .linker()
            .and_then(|mut linker| {
                MigrationToolHandler::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
                linker.instantiate_pre(&component.component)
            })
            .and_then(MigrationToolHandlerPre::new)
            .map_err(|err| HandlerFailure::Incompatible {
                handler: component.name.clone(),
                reason: format!("{err:#}"),
            })?;
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
            .runtime
            .call(
                &self.component.name,
                Grant::default(),
                async |store| self.pre.instantiate_async(store).await,
                async |handler, store| handler.faber_db_migration_tool().call_info(store).await,
            )
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
        let handler = &self.component.name;
        let (state, result) = self
            .runtime
            .call(
                handler,
                grant,
                async |store| self.pre.instantiate_async(store).await,
                async |instance, store| {
                    instance
                        .faber_db_migration_tool()
                        .call_initialize_schema(store, request)
                        .await
                },
            )
            .await;
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
        (state.and_then(|state| state.database), result)
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
