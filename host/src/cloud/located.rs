//! Where a cloud environment's database listens and who may log in, as RDS
//! itself reports it to the host: the handler's word decided only which
//! resource to ask about (and that identifier was checked against the
//! environment's scope before it got here).

use aws_sdk_rds::Client;
use aws_sdk_rds::error::ProvideErrorMetadata;
use aws_sdk_rds::types::{Tag, VpcSecurityGroupMembership};

use crate::config::Hosting;
use crate::failure::{Failure, Outcome};
use crate::provider::Provider;
use crate::runtime::Infrastructure;
use crate::runtime::rds::{Kind, Scope, port};

/// The primary resource (Aurora: the cluster; RDS: the instance).
#[derive(Debug, Clone)]
pub struct Located {
    pub identifier: String,
    pub kind: Kind,
    pub engine: String,
    pub endpoint: String,
    pub port: u16,
    pub master_username: Option<String>,
    pub secret: Option<ManagedSecret>,
    pub iam_enabled: bool,
    /// From the instance that serves connections (Aurora: the writer).
    pub publicly_accessible: Option<bool>,
    /// The instance whose network settings decide reachability.
    pub instance: Option<String>,
    pub security_groups: Vec<String>,
    /// What an IAM policy names in `rds-db:connect`.
    pub resource_id: Option<String>,
}

/// The RDS-managed master user secret: where it is, never what it holds.
#[derive(Debug, Clone)]
pub struct ManagedSecret {
    pub arn: String,
    /// `creating`, `active`, `rotating` or `impaired`.
    pub status: String,
}

impl Located {
    /// The engine family, to compare with `database.provider`.
    pub fn provider(&self) -> Option<Provider> {
        let engine = self.engine.to_ascii_lowercase();
        if engine.contains("postgres") {
            Some(Provider::Postgresql)
        } else if engine.contains("mysql") || engine.contains("mariadb") {
            Some(Provider::Mysql)
        } else {
            None
        }
    }

    /// The AWS CLI command that changes the primary resource with `flags`.
    pub fn modify_command(&self, flags: &str) -> String {
        match self.kind {
            Kind::Cluster => format!(
                "aws rds modify-db-cluster --db-cluster-identifier {} {flags} --apply-immediately",
                self.identifier
            ),
            Kind::Instance => format!(
                "aws rds modify-db-instance --db-instance-identifier {} {flags} --apply-immediately",
                self.identifier
            ),
        }
    }
}

/// Reads the primary resource of `infrastructure` (and, for Aurora, the
/// instance that serves it) from RDS.
pub async fn locate(
    rds: &Client,
    hosting: Hosting,
    scope: &Scope,
    infrastructure: &Infrastructure,
) -> Outcome<Located> {
    let identifier = infrastructure.identifier.as_str();
    scope
        .check(identifier)
        .map_err(|reason| Failure::new(format!("Cannot connect to {identifier}")).cause(reason))?;
    let (owner_tags, mut located) = match hosting {
        Hosting::AwsAurora => cluster(rds, identifier).await?,
        _ => instance(rds, identifier).await?,
    };
    scope
        .check_owner(
            identifier,
            owner_tags.iter().map(|tag| {
                (
                    tag.key().unwrap_or_default(),
                    tag.value().unwrap_or_default(),
                )
            }),
        )
        .map_err(|reason| Failure::new(format!("Cannot connect to {identifier}")).cause(reason))?;
    if located.kind == Kind::Cluster {
        let member = infrastructure.resources.iter().find(|resource| {
            !resource.eq_ignore_ascii_case(identifier) && scope.contains(resource)
        });
        if let Some(member) = member {
            let (_, writer) = instance(rds, member).await?;
            located.publicly_accessible = writer.publicly_accessible;
            located.instance = Some(writer.identifier);
        }
    }
    Ok(located)
}

async fn cluster(rds: &Client, identifier: &str) -> Outcome<(Vec<Tag>, Located)> {
    let described = rds
        .describe_db_clusters()
        .db_cluster_identifier(identifier)
        .send()
        .await
        .map_err(|err| describe_failed(identifier, "DescribeDBClusters", err))?;
    let Some(cluster) = described.db_clusters().first() else {
        return Err(vanished(identifier));
    };
    let located = Located {
        identifier: identifier.to_owned(),
        kind: Kind::Cluster,
        engine: cluster.engine().unwrap_or_default().to_owned(),
        endpoint: cluster.endpoint().unwrap_or_default().to_owned(),
        port: port(cluster.port()).unwrap_or_default(),
        master_username: cluster.master_username().map(str::to_owned),
        secret: cluster.master_user_secret().and_then(managed_secret),
        iam_enabled: cluster.iam_database_authentication_enabled() == Some(true),
        publicly_accessible: cluster.publicly_accessible(),
        instance: None,
        security_groups: security_groups(cluster.vpc_security_groups()),
        resource_id: cluster.db_cluster_resource_id().map(str::to_owned),
    };
    Ok((cluster.tag_list().to_vec(), located))
}

async fn instance(rds: &Client, identifier: &str) -> Outcome<(Vec<Tag>, Located)> {
    let described = rds
        .describe_db_instances()
        .db_instance_identifier(identifier)
        .send()
        .await
        .map_err(|err| describe_failed(identifier, "DescribeDBInstances", err))?;
    let Some(instance) = described.db_instances().first() else {
        return Err(vanished(identifier));
    };
    let endpoint = instance.endpoint();
    let located = Located {
        identifier: identifier.to_owned(),
        kind: Kind::Instance,
        engine: instance.engine().unwrap_or_default().to_owned(),
        endpoint: endpoint
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_owned(),
        port: port(endpoint.and_then(|e| e.port())).unwrap_or_default(),
        master_username: instance.master_username().map(str::to_owned),
        secret: instance.master_user_secret().and_then(managed_secret),
        iam_enabled: instance.iam_database_authentication_enabled() == Some(true),
        publicly_accessible: instance.publicly_accessible(),
        instance: Some(identifier.to_owned()),
        security_groups: security_groups(instance.vpc_security_groups()),
        resource_id: instance.dbi_resource_id().map(str::to_owned),
    };
    Ok((instance.tag_list().to_vec(), located))
}

fn managed_secret(secret: &aws_sdk_rds::types::MasterUserSecret) -> Option<ManagedSecret> {
    Some(ManagedSecret {
        arn: secret.secret_arn()?.to_owned(),
        status: secret.secret_status().unwrap_or("unknown").to_owned(),
    })
}

fn security_groups(groups: &[VpcSecurityGroupMembership]) -> Vec<String> {
    groups
        .iter()
        .filter_map(|group| group.vpc_security_group_id().map(str::to_owned))
        .collect()
}

fn describe_failed<E: ProvideErrorMetadata + std::fmt::Display>(
    identifier: &str,
    operation: &str,
    err: E,
) -> Failure {
    let reason = match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{operation}: {code}: {message}"),
        _ => format!("{operation}: {err}"),
    };
    Failure::new(format!("Cannot read {identifier} from RDS"))
        .cause(reason)
        .help("Check the AWS credentials and region on this machine (aws sts get-caller-identity), and that they allow rds:Describe*")
}

fn vanished(identifier: &str) -> Failure {
    Failure::new(format!("{identifier} is no longer reported by RDS"))
        .help("Run the same command again: it finds what exists and provisions what is missing")
}
