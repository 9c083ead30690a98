//! `faber:db/rds`: a narrow slice of AWS RDS for cloud-provider handlers,
//! confined to the environment's own, planned resources (see [`access`]).

mod access;
mod aws;
mod plan;
mod scope;

pub use access::RdsAccess;
pub use aws::{port, sdk_config};
pub use plan::{Kind, Resource};
pub use scope::{MAX_IDENTIFIER, Scope, base_identifier};

use crate::runtime::bindings::latest::rds::{
    CreateCluster, CreateInstance, DbCluster, DbInstance, Host, RdsError,
};
use crate::runtime::state::HandlerState;

impl HandlerState {
    fn rds(&self) -> Result<&RdsAccess, RdsError> {
        self.rds.as_ref().ok_or_else(|| {
            RdsError::AccessDenied("the RDS capability was not granted to this call".to_owned())
        })
    }
}

impl Host for HandlerState {
    async fn describe_db_cluster(
        &mut self,
        identifier: String,
    ) -> Result<Option<DbCluster>, RdsError> {
        self.rds()?.describe_cluster(&identifier).await
    }

    async fn describe_db_instance(
        &mut self,
        identifier: String,
    ) -> Result<Option<DbInstance>, RdsError> {
        self.rds()?.describe_instance(&identifier).await
    }

    async fn create_db_cluster(&mut self, request: CreateCluster) -> Result<DbCluster, RdsError> {
        self.rds()?.create_cluster(request).await
    }

    async fn create_db_instance(
        &mut self,
        request: CreateInstance,
    ) -> Result<DbInstance, RdsError> {
        self.rds()?.create_instance(request).await
    }
}
