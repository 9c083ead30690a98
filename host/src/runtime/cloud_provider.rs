//! Calling a cloud-provider handler (world `cloud-provider-handler`).

use wasmtime::Store;
use wasmtime::component::HasSelf;

use super::bindings::latest::cloud_provider::CloudProviderHandlerPre;
use super::bindings::latest::{
    CloudProviderHandler, HandlerError, HandlerInfo, Infrastructure, InfrastructureRequest,
};
use super::bindings::v0_2_0;
use super::capabilities::rds::RdsAccess;
use super::inspect::{Shape, World};
use super::state::{Grant, HandlerState};
use super::{HandlerFailure, LoadedComponent, Runtime};

/// A loaded cloud-provider handler. The calls that reach AWS take the
/// [`RdsAccess`] that confines them.
pub struct CloudProvider {
    runtime: Runtime,
    component: LoadedComponent,
    shape: Shape,
    pre: Pre,
}

/// The linked component, per contract version.
enum Pre {
    V0_2_0(v0_2_0::CloudProviderHandlerPre<HandlerState>),
    Latest(CloudProviderHandlerPre<HandlerState>),
}

/// One instance, per contract version; its calls speak the latest types.
enum Instance {
    V0_2_0(v0_2_0::CloudProviderHandler),
    Latest(CloudProviderHandler),
}

type Answer<T> = wasmtime::Result<Result<T, HandlerError>>;

impl Instance {
    async fn info(&self, store: &mut Store<HandlerState>) -> wasmtime::Result<HandlerInfo> {
        match self {
            Instance::V0_2_0(h) => Ok(v0_2_0::info(
                h.faber_db_cloud_provider().call_info(store).await?,
            )),
            Instance::Latest(h) => h.faber_db_cloud_provider().call_info(store).await,
        }
    }

    async fn hostings(&self, store: &mut Store<HandlerState>) -> wasmtime::Result<Vec<String>> {
        match self {
            Instance::V0_2_0(h) => h.faber_db_cloud_provider().call_hostings(store).await,
            Instance::Latest(h) => h.faber_db_cloud_provider().call_hostings(store).await,
        }
    }

    async fn plan(
        &self,
        store: &mut Store<HandlerState>,
        request: &InfrastructureRequest,
    ) -> Answer<Vec<String>> {
        match self {
            Instance::V0_2_0(h) => {
                let request = v0_2_0::infrastructure_request(request);
                let answer = h
                    .faber_db_cloud_provider()
                    .call_plan(store, &request)
                    .await?;
                Ok(answer.map_err(v0_2_0::error))
            }
            Instance::Latest(h) => h.faber_db_cloud_provider().call_plan(store, request).await,
        }
    }

    async fn find(
        &self,
        store: &mut Store<HandlerState>,
        request: &InfrastructureRequest,
    ) -> Answer<Option<Infrastructure>> {
        match self {
            Instance::V0_2_0(h) => {
                let request = v0_2_0::infrastructure_request(request);
                let answer = h
                    .faber_db_cloud_provider()
                    .call_find(store, &request)
                    .await?;
                Ok(answer
                    .map(|found| found.map(v0_2_0::infrastructure))
                    .map_err(v0_2_0::error))
            }
            Instance::Latest(h) => h.faber_db_cloud_provider().call_find(store, request).await,
        }
    }

    async fn provision(
        &self,
        store: &mut Store<HandlerState>,
        request: &InfrastructureRequest,
    ) -> Answer<Infrastructure> {
        match self {
            Instance::V0_2_0(h) => {
                let request = v0_2_0::infrastructure_request(request);
                let answer = h
                    .faber_db_cloud_provider()
                    .call_provision(store, &request)
                    .await?;
                Ok(answer.map(v0_2_0::infrastructure).map_err(v0_2_0::error))
            }
            Instance::Latest(h) => {
                h.faber_db_cloud_provider()
                    .call_provision(store, request)
                    .await
            }
        }
    }

    async fn poll(
        &self,
        store: &mut Store<HandlerState>,
        request: &InfrastructureRequest,
    ) -> Answer<Infrastructure> {
        match self {
            Instance::V0_2_0(h) => {
                let request = v0_2_0::infrastructure_request(request);
                let answer = h
                    .faber_db_cloud_provider()
                    .call_poll(store, &request)
                    .await?;
                Ok(answer.map(v0_2_0::infrastructure).map_err(v0_2_0::error))
            }
            Instance::Latest(h) => h.faber_db_cloud_provider().call_poll(store, request).await,
        }
    }
}

impl CloudProvider {
    /// Links the capabilities of the cloud-provider world (AWS RDS and
    /// logging); a component that imports anything else is refused.
    pub fn new(runtime: &Runtime, component: LoadedComponent) -> Result<Self, HandlerFailure> {
        let shape = runtime.inspect(&component)?;
        if shape.world != World::CloudProvider {
            return Err(HandlerFailure::Incompatible {
                handler: component.name.clone(),
                reason: format!(
                    "it is a {} handler, not a cloud-provider handler",
                    shape.world.as_str()
                ),
            });
        }
        let pre = runtime
            .linker()
            .and_then(|mut linker| match shape.wit_version.as_str() {
                v0_2_0::WIT_VERSION => {
                    v0_2_0::CloudProviderHandler::add_to_linker::<_, HasSelf<_>>(
                        &mut linker,
                        |state| state,
                    )?;
                    let pre = linker.instantiate_pre(&component.component)?;
                    Ok(Pre::V0_2_0(v0_2_0::CloudProviderHandlerPre::new(pre)?))
                }
                _ => {
                    CloudProviderHandler::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| {
                        state
                    })?;
                    let pre = linker.instantiate_pre(&component.component)?;
                    Ok(Pre::Latest(CloudProviderHandlerPre::new(pre)?))
                }
            })
            .map_err(|err| HandlerFailure::Incompatible {
                handler: component.name.clone(),
                reason: format!("{err:#}"),
            })?;
        Ok(CloudProvider {
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
        let info = self
            .call(None, async |handler, store| {
                Ok(Ok(handler.info(store).await?))
            })
            .await?;
        super::check_info(&self.component, &self.shape, info)
    }

    pub async fn hostings(&self) -> Result<Vec<String>, HandlerFailure> {
        self.call(None, async |handler, store| {
            Ok(Ok(handler.hostings(store).await?))
        })
        .await
    }

    /// The handler's own description of what provisioning would create;
    /// makes no AWS calls. Informational only: the host shows the plan it
    /// rehearsed (see [`RdsAccess::rehearsal`]).
    pub async fn plan(
        &self,
        request: &InfrastructureRequest,
    ) -> Result<Vec<String>, HandlerFailure> {
        self.call(None, async |handler, store| {
            handler.plan(store, request).await
        })
        .await
    }

    pub async fn find(
        &self,
        request: &InfrastructureRequest,
        rds: &RdsAccess,
    ) -> Result<Option<Infrastructure>, HandlerFailure> {
        self.call(Some(rds.clone()), async |handler, store| {
            handler.find(store, request).await
        })
        .await
    }

    pub async fn provision(
        &self,
        request: &InfrastructureRequest,
        rds: &RdsAccess,
    ) -> Result<Infrastructure, HandlerFailure> {
        self.call(Some(rds.clone()), async |handler, store| {
            handler.provision(store, request).await
        })
        .await
    }

    pub async fn poll(
        &self,
        request: &InfrastructureRequest,
        rds: &RdsAccess,
    ) -> Result<Infrastructure, HandlerFailure> {
        self.call(Some(rds.clone()), async |handler, store| {
            handler.poll(store, request).await
        })
        .await
    }

    /// One call on a fresh instance; `rds` grants the RDS capability.
    async fn call<T>(
        &self,
        rds: Option<RdsAccess>,
        body: impl AsyncFnOnce(&Instance, &mut Store<HandlerState>) -> Answer<T>,
    ) -> Result<T, HandlerFailure> {
        let grant = Grant {
            rds,
            ..Grant::default()
        };
        let handler = &self.component.name;
        let (_, result) = self
            .runtime
            .call(
                handler,
                grant,
                async |store| match &self.pre {
                    Pre::V0_2_0(pre) => pre.instantiate_async(store).await.map(Instance::V0_2_0),
                    Pre::Latest(pre) => pre.instantiate_async(store).await.map(Instance::Latest),
                },
                async |instance, store| body(&instance, store).await,
            )
            .await;
        result?.map_err(|error| HandlerFailure::Reported {
            handler: handler.clone(),
            error,
        })
    }
}
