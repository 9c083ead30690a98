//! faber-db cloud-provider handler for AWS.
//!
//! For `database.hosting = "aws-aurora"` it manages an Aurora cluster and one
//! writer instance; for `"aws-rds"` a standalone RDS instance. Every AWS call
//! goes through the host's `rds` interface: the handler never sees a
//! credential and never chooses a password (the host creates resources with an
//! RDS-managed master password). The `cloud` settings it reads are documented
//! in [`settings`].

mod infra;
mod plan;
mod settings;

use faber_db_handler::cloud_provider::{Infrastructure, InfrastructureRequest};
use faber_db_handler::log::{Level, log};
use faber_db_handler::rds::{self, CreateCluster, CreateInstance, DbCluster, DbInstance, RdsError};
use faber_db_handler::types::{HandlerError, Provider};
use faber_db_handler::{CloudProvider, export_cloud_provider};

struct AwsHandler;

impl CloudProvider for AwsHandler {
    const NAME: &'static str = "handler-cloud-aws";
    const DESCRIPTION: &'static str = "AWS: an Aurora cluster with a writer instance (aws-aurora) \
                                       or a standalone RDS instance (aws-rds)";
    const PROVIDERS: &'static [Provider] = &[Provider::Postgresql, Provider::Mysql];

    fn hostings() -> Vec<String> {
        settings::HOSTINGS.iter().map(|h| h.to_string()).collect()
    }

    fn plan(request: InfrastructureRequest) -> Result<Vec<String>, HandlerError> {
        Ok(plan::lines(&settings::resolve(&request)?))
    }

    fn find(request: InfrastructureRequest) -> Result<Option<Infrastructure>, HandlerError> {
        infra::find(&HostRds, &settings::resolve(&request)?)
    }

    fn provision(request: InfrastructureRequest) -> Result<Infrastructure, HandlerError> {
        infra::provision(&HostRds, &settings::resolve(&request)?, &mut |line| {
            log(Level::Info, &line)
        })
    }

    fn poll(request: InfrastructureRequest) -> Result<Infrastructure, HandlerError> {
        infra::poll(&HostRds, &settings::resolve(&request)?)
    }
}

/// The host's `rds` import.
struct HostRds;

impl infra::Rds for HostRds {
    fn describe_db_cluster(&self, identifier: &str) -> Result<Option<DbCluster>, RdsError> {
        rds::describe_db_cluster(identifier)
    }

    fn describe_db_instance(&self, identifier: &str) -> Result<Option<DbInstance>, RdsError> {
        rds::describe_db_instance(identifier)
    }

    fn create_db_cluster(&self, request: &CreateCluster) -> Result<DbCluster, RdsError> {
        rds::create_db_cluster(request)
    }

    fn create_db_instance(&self, request: &CreateInstance) -> Result<DbInstance, RdsError> {
        rds::create_db_instance(request)
    }
}

export_cloud_provider!(AwsHandler);
