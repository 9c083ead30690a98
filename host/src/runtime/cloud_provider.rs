//! Calling a cloud-provider handler (world `cloud-provider-handler`).

use wasmtime::Store;

use super::World;
use super::bindings::{self, CloudProviderCalls, LinkedCloudProvider};
use super::contract::{HandlerError, HandlerInfo, Infrastructure, InfrastructureRequest};
use super::inspect::Shape;
use super::rds::RdsAccess;
use super::state::{Grant, HandlerState};
use super::{HandlerFailure, LoadedComponent, Runtime};

/// A loaded cloud-provider handler. The calls that reach AWS take the
/// [`RdsAccess`] that confines them.
pub struct CloudProvider {
    runtime: Runtime,
    component: LoadedComponent,
    shape: Shape,
    linked: Box<dyn LinkedCloudProvider>,
}

type Answer<T> = wasmtime::Result<Result<T, HandlerError>>;

impl CloudProvider {
    /// Links the capabilities of the cloud-provider world (AWS RDS and
    /// logging); a component that imports anything else is refused.
    pub fn new(runtime: &Runtime, component: LoadedComponent) -> Result<Self, HandlerFailure> {
        let (shape, linked) = runtime.link(
            &component,
            World::CloudProvider,
            bindings::link_cloud_provider,
        )?;
        Ok(CloudProvider {
            runtime: runtime.clone(),
            component,
            shape,
            linked,
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
        body: impl AsyncFnOnce(&dyn CloudProviderCalls, &mut Store<HandlerState>) -> Answer<T>,
    ) -> Result<T, HandlerFailure> {
        let grant = Grant {
            rds,
            ..Grant::default()
        };
        let handler = &self.component.name;
        let (_, result) = self
            .runtime
            .call(
                &self.component,
                grant,
                async |store| self.linked.instantiate(store).await,
                async |instance, store| body(instance.as_ref(), store).await,
            )
            .await;
        result?.map_err(|error| HandlerFailure::Reported {
            handler: handler.clone(),
            error,
        })
    }
}
