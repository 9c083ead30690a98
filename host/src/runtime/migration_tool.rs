//! Calling a migration-tool handler (world `migration-tool-handler`), whatever
//! supported version of the contract it was built for.

use wasmtime::component::HasSelf;

use super::bindings::{latest, v0_1_0};
use super::inspect::{Shape, World};
use super::state::{Grant, HandlerState, SqlTally};
use super::{HandlerFailure, LoadedComponent, Runtime, untrusted};
use crate::db::Database;
use latest::{HandlerError, HandlerInfo, InitializeOutcome, InitializeRequest};

/// The linked component, per contract version.
enum Pre {
    V0_1_0(v0_1_0::MigrationToolHandlerPre<HandlerState>),
    V0_2_0(latest::migration_tool::MigrationToolHandlerPre<HandlerState>),
}

/// What the host takes back from a call, whatever its outcome: the database
/// it granted, and what became of the handler's statements.
pub struct Returned {
    pub database: Option<Database>,
    pub sql: SqlTally,
}

/// A loaded migration-tool handler, linked and ready to instantiate per call.
pub struct MigrationTool {
    runtime: Runtime,
    component: LoadedComponent,
    shape: Shape,
    pre: Pre,
}

impl MigrationTool {
    /// Links the capabilities of the migration-tool world (SQL and logging)
    /// for the contract version the component was built against; anything
    /// else it imports, or a missing export, is refused.
    pub fn new(runtime: &Runtime, component: LoadedComponent) -> Result<Self, HandlerFailure> {
        let shape = runtime.inspect(&component)?;
        if shape.world != World::MigrationTool {
            return Err(HandlerFailure::Incompatible {
                handler: component.name.clone(),
                reason: format!(
                    "it is a {} handler, not a migration-tool handler",
                    shape.world.as_str()
                ),
            });
        }
        let linked = runtime
            .linker()
            .and_then(|mut linker| match shape.wit_version.as_str() {
                v0_1_0::WIT_VERSION => {
                    v0_1_0::MigrationToolHandler::add_to_linker::<_, HasSelf<_>>(
                        &mut linker,
                        |state| state,
                    )?;
                    let pre = linker.instantiate_pre(&component.component)?;
                    Ok(Pre::V0_1_0(v0_1_0::MigrationToolHandlerPre::new(pre)?))
                }
                _ => {
                    latest::MigrationToolHandler::add_to_linker::<_, HasSelf<_>>(
                        &mut linker,
                        |state| state,
                    )?;
                    let pre = linker.instantiate_pre(&component.component)?;
                    Ok(Pre::V0_2_0(
                        latest::migration_tool::MigrationToolHandlerPre::new(pre)?,
                    ))
                }
            });
        let pre = linked.map_err(|err| HandlerFailure::Incompatible {
            handler: component.name.clone(),
            reason: format!("{err:#}"),
        })?;
        Ok(MigrationTool {
            runtime: runtime.clone(),
            component,
            shape,
            pre,
        })
    }

    pub fn component(&self) -> &LoadedComponent {
        &self.component
    }

    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    pub async fn info(&self) -> Result<HandlerInfo, HandlerFailure> {
        let handler = &self.component.name;
        let (_, result) = match &self.pre {
            Pre::V0_1_0(pre) => {
                self.runtime
                    .call(
                        handler,
                        Grant::default(),
                        async |store| pre.instantiate_async(store).await,
                        async |instance, store| {
                            let info = instance.faber_db_migration_tool().call_info(store).await?;
                            Ok(v0_1_0::info(info))
                        },
                    )
                    .await
            }
            Pre::V0_2_0(pre) => {
                self.runtime
                    .call(
                        handler,
                        Grant::default(),
                        async |store| pre.instantiate_async(store).await,
                        async |instance, store| {
                            instance.faber_db_migration_tool().call_info(store).await
                        },
                    )
                    .await
            }
        };
        result.and_then(|info| super::check_info(&self.component, &self.shape, info))
    }

    /// Runs `initialize-schema`. The database comes back (also after a
    /// failure) so the caller can close it before any cleanup.
    pub async fn initialize_schema(
        &self,
        grant: Grant,
        request: &InitializeRequest,
    ) -> (Returned, Result<InitializeOutcome, HandlerFailure>) {
        let handler = &self.component.name;
        let (state, result) = match &self.pre {
            Pre::V0_1_0(pre) => {
                let legacy = v0_1_0::request(request);
                self.runtime
                    .call(
                        handler,
                        grant,
                        async |store| pre.instantiate_async(store).await,
                        async |instance, store| {
                            let reported = instance
                                .faber_db_migration_tool()
                                .call_initialize_schema(store, &legacy)
                                .await?;
                            Ok(reported.map(v0_1_0::outcome).map_err(v0_1_0::error))
                        },
                    )
                    .await
            }
            Pre::V0_2_0(pre) => {
                self.runtime
                    .call(
                        handler,
                        grant,
                        async |store| pre.instantiate_async(store).await,
                        async |instance, store| {
                            instance
                                .faber_db_migration_tool()
                                .call_initialize_schema(store, request)
                                .await
                        },
                    )
                    .await
            }
        };
        let result = result.and_then(|reported| self.accept(reported));
        let returned = match state {
            Some(state) => Returned {
                database: state.database,
                sql: state.sql,
            },
            None => Returned {
                database: None,
                sql: SqlTally::default(),
            },
        };
        (returned, result)
    }

    fn accept(
        &self,
        reported: Result<InitializeOutcome, HandlerError>,
    ) -> Result<InitializeOutcome, HandlerFailure> {
        let handler = self.component.name.clone();
        let outcome = reported.map_err(|error| HandlerFailure::Reported {
            handler: handler.clone(),
            error,
        })?;
        check_outcome_size(&outcome).map_err(|reason| HandlerFailure::Oversized {
            handler: handler.clone(),
            reason,
        })?;
        check_outcome_names(&outcome)
            .map_err(|reason| HandlerFailure::Untruthful { handler, reason })?;
        Ok(InitializeOutcome {
            next_steps: outcome
                .next_steps
                .iter()
                .map(|s| untrusted::clean(s))
                .collect(),
            ..outcome
        })
    }
}

/// Every name the host will use in SQL, paths or output is a plain name.
fn check_outcome_names(outcome: &InitializeOutcome) -> Result<(), String> {
    untrusted::check_plain_name("tracking table", &outcome.tracking_table)?;
    untrusted::check_plain_name("baseline migration", &outcome.baseline_migration)?;
    for name in outcome.applied.iter().chain(&outcome.pending) {
        untrusted::check_plain_name("migration", name)?;
    }
    for file in &outcome.files_written {
        untrusted::check_relative_path("file written", file)?;
    }
    Ok(())
}

/// A report is a handful of names; anything near this size is a broken or
/// hostile handler, and is refused before it reaches output or logs.
const MAX_OUTCOME_BYTES: usize = 1 << 20;

fn check_outcome_size(outcome: &InitializeOutcome) -> Result<(), String> {
    let lists = [
        &outcome.applied,
        &outcome.pending,
        &outcome.files_written,
        &outcome.next_steps,
    ];
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
