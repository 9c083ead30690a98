//! The AWS RDS calls behind the `rds` capability, made with the host's own
//! credential chain (environment, profile, instance role …) so credentials
//! never enter the sandbox. Resources are always created with an RDS-managed
//! master password; no call accepts one. IAM database authentication is the
//! host's to switch on (the environment's `connect.auth`), not the handler's. What a handler may ask for is
//! decided in [`super::access`] before anything reaches these functions.
//!
//! `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_RDS` and `AWS_REGION` are honoured
//! as the AWS SDK does.

use aws_sdk_rds::Client;
use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_rds::types::{DbCluster, DbInstance, Tag as AwsTag};

use crate::runtime::contract::{
    CreateCluster, CreateInstance, DbCluster as WitCluster, DbInstance as WitInstance, RdsError,
    Tag,
};

/// The standard AWS configuration chain, as the AWS CLI reads it.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

pub async fn describe_cluster(
    client: &Client,
    identifier: &str,
) -> Result<Option<WitCluster>, RdsError> {
    match client
        .describe_db_clusters()
        .db_cluster_identifier(identifier)
        .send()
        .await
    {
        Ok(output) => Ok(output.db_clusters().first().map(cluster)),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_db_cluster_not_found_fault()) =>
        {
            Ok(None)
        }
        Err(err) => Err(rds_error("DescribeDBClusters", err)),
    }
}

pub async fn describe_instance(
    client: &Client,
    identifier: &str,
) -> Result<Option<WitInstance>, RdsError> {
    match client
        .describe_db_instances()
        .db_instance_identifier(identifier)
        .send()
        .await
    {
        Ok(output) => Ok(output.db_instances().first().map(instance)),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_db_instance_not_found_fault()) =>
        {
            Ok(None)
        }
        Err(err) => Err(rds_error("DescribeDBInstances", err)),
    }
}

pub async fn create_cluster(
    client: &Client,
    request: CreateCluster,
    iam_authentication: bool,
) -> Result<WitCluster, RdsError> {
    let created = client
        .create_db_cluster()
        .db_cluster_identifier(&request.identifier)
        .engine(request.engine)
        .set_engine_version(request.engine_version)
        .set_database_name(request.database_name)
        .master_username(request.master_username)
        .manage_master_user_password(true)
        .set_enable_iam_database_authentication(iam_authentication.then_some(true))
        .set_port(request.port.map(i32::from))
        .set_tags(Some(aws_tags(request.tags)))
        .send()
        .await;
    match created {
        Ok(output) => output
            .db_cluster()
            .map(cluster)
            .ok_or_else(|| RdsError::Service("CreateDBCluster returned no cluster".to_owned())),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_db_cluster_already_exists_fault()) =>
        {
            Err(RdsError::AlreadyExists(request.identifier))
        }
        Err(err) => Err(rds_error("CreateDBCluster", err)),
    }
}

pub async fn create_instance(
    client: &Client,
    request: CreateInstance,
    iam_authentication: bool,
) -> Result<WitInstance, RdsError> {
    // A cluster member takes its credentials and authentication from the cluster.
    let standalone = request.cluster_identifier.is_none();
    let created = client
        .create_db_instance()
        .db_instance_identifier(&request.identifier)
        .engine(request.engine)
        .set_engine_version(request.engine_version)
        .db_instance_class(request.instance_class)
        .set_port(request.port.map(i32::from))
        .set_db_cluster_identifier(request.cluster_identifier)
        .set_allocated_storage(request.allocated_storage_gib.map(|gib| gib as i32))
        .set_master_username(request.master_username)
        .set_manage_master_user_password(standalone.then_some(true))
        .set_enable_iam_database_authentication((standalone && iam_authentication).then_some(true))
        .set_db_name(request.database_name)
        .set_tags(Some(aws_tags(request.tags)))
        .send()
        .await;
    match created {
        Ok(output) => output
            .db_instance()
            .map(instance)
            .ok_or_else(|| RdsError::Service("CreateDBInstance returned no instance".to_owned())),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_db_instance_already_exists_fault()) =>
        {
            Err(RdsError::AlreadyExists(request.identifier))
        }
        Err(err) => Err(rds_error("CreateDBInstance", err)),
    }
}

fn rds_error<E, R>(operation: &str, err: SdkError<E, R>) -> RdsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let Some(service) = err.as_service_error() else {
        // Connection failures, timeouts, credential problems: the chain says why.
        let mut message = format!("{operation}: {err}");
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        return RdsError::Service(message);
    };
    let code = service.code().unwrap_or("Unknown");
    let message = format!(
        "{operation}: {code}: {}",
        service.message().unwrap_or_default()
    );
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            RdsError::AccessDenied(message)
        }
        code if code.starts_with("InvalidParameter") => RdsError::InvalidRequest(message),
        _ => RdsError::Service(message),
    }
}

fn aws_tags(tags: Vec<Tag>) -> Vec<AwsTag> {
    tags.into_iter()
        .map(|tag| AwsTag::builder().key(tag.key).value(tag.value).build())
        .collect()
}

/// Tags as RDS reports them, in the contract's shape.
fn wit_tags(tags: &[AwsTag]) -> Vec<Tag> {
    tags.iter()
        .map(|tag| Tag {
            key: tag.key().unwrap_or_default().to_owned(),
            value: tag.value().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// A port as RDS reports it, if it is one.
pub fn port(value: Option<i32>) -> Option<u16> {
    value.and_then(|port| u16::try_from(port).ok())
}

fn cluster(cluster: &DbCluster) -> WitCluster {
    WitCluster {
        identifier: cluster
            .db_cluster_identifier()
            .unwrap_or_default()
            .to_owned(),
        status: cluster.status().unwrap_or_default().to_owned(),
        engine: cluster.engine().unwrap_or_default().to_owned(),
        engine_version: cluster.engine_version().map(str::to_owned),
        endpoint: cluster.endpoint().map(str::to_owned),
        port: port(cluster.port()),
        tags: wit_tags(cluster.tag_list()),
    }
}

fn instance(instance: &DbInstance) -> WitInstance {
    let endpoint = instance.endpoint();
    WitInstance {
        identifier: instance
            .db_instance_identifier()
            .unwrap_or_default()
            .to_owned(),
        status: instance.db_instance_status().unwrap_or_default().to_owned(),
        engine: instance.engine().unwrap_or_default().to_owned(),
        engine_version: instance.engine_version().map(str::to_owned),
        instance_class: instance.db_instance_class().unwrap_or_default().to_owned(),
        cluster_identifier: instance.db_cluster_identifier().map(str::to_owned),
        endpoint: endpoint.and_then(|e| e.address()).map(str::to_owned),
        port: port(endpoint.and_then(|e| e.port())),
        tags: wit_tags(instance.tag_list()),
    }
}
