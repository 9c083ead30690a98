//! `find`, `provision` and `poll`: what exists, what to create, and how ready
//! it is. AWS is reached through the [`Rds`] trait so that the decisions can be
//! tested without the host.

use crate::settings::{Hosting, Settings};
use faber_db_handler::cloud_provider::Infrastructure;
use faber_db_handler::rds::{CreateCluster, CreateInstance, DbCluster, DbInstance, RdsError};
use faber_db_handler::types::HandlerError;

/// The slice of the imported `rds` interface the logic uses.
pub trait Rds {
    fn describe_db_cluster(&self, identifier: &str) -> Result<Option<DbCluster>, RdsError>;
    fn describe_db_instance(&self, identifier: &str) -> Result<Option<DbInstance>, RdsError>;
    fn create_db_cluster(&self, request: &CreateCluster) -> Result<DbCluster, RdsError>;
    fn create_db_instance(&self, request: &CreateInstance) -> Result<DbInstance, RdsError>;
}

const AVAILABLE: &str = "available";
/// The status reported for an Aurora cluster without its writer instance.
const WRITER_MISSING: &str = "writer-missing";

/// The environment's infrastructure, or `None` if its primary resource does not exist.
pub fn find(rds: &impl Rds, settings: &Settings) -> Result<Option<Infrastructure>, HandlerError> {
    match settings.hosting {
        Hosting::Aurora => {
            let Some(cluster) = describe_cluster(rds, settings)? else {
                return Ok(None);
            };
            let writer = describe_writer(rds, settings)?;
            Ok(Some(aurora_state(settings, &cluster, writer.as_ref())))
        }
        Hosting::Rds => {
            Ok(describe_instance(rds, settings)?
                .map(|instance| instance_state(settings, &instance)))
        }
    }
}

/// Creates whatever is missing, then reports the state as `find` does.
pub fn provision(
    rds: &impl Rds,
    settings: &Settings,
    log: &mut impl FnMut(String),
) -> Result<Infrastructure, HandlerError> {
    match settings.hosting {
        Hosting::Aurora => {
            let cluster = &settings.identifier;
            match describe_cluster(rds, settings)? {
                Some(found) => log(format!("found Aurora cluster {cluster} ({})", found.status)),
                None => {
                    let created = rds.create_db_cluster(&create_cluster(settings));
                    log(created_or_raced(
                        "Aurora cluster",
                        cluster,
                        created.map(|c| c.status),
                        "CreateDBCluster",
                    )?);
                }
            }
            let writer = settings.writer_identifier();
            match describe_writer(rds, settings)? {
                Some(found) => log(format!("found writer instance {writer} ({})", found.status)),
                None => {
                    let created = rds.create_db_instance(&create_writer(settings));
                    log(created_or_raced(
                        "writer instance",
                        &writer,
                        created.map(|i| i.status),
                        "CreateDBInstance",
                    )?);
                }
            }
        }
        Hosting::Rds => {
            let instance = &settings.identifier;
            match describe_instance(rds, settings)? {
                Some(found) => log(format!("found RDS instance {instance} ({})", found.status)),
                None => {
                    let created = rds.create_db_instance(&create_instance(settings));
                    log(created_or_raced(
                        "RDS instance",
                        instance,
                        created.map(|i| i.status),
                        "CreateDBInstance",
                    )?);
                }
            }
        }
    }
    find(rds, settings)?.ok_or_else(|| {
        HandlerError::Internal(format!(
            "{} {} was created but AWS does not report it",
            primary_kind(settings),
            settings.identifier
        ))
    })
}

/// The state of infrastructure being provisioned; it must exist.
pub fn poll(rds: &impl Rds, settings: &Settings) -> Result<Infrastructure, HandlerError> {
    find(rds, settings)?.ok_or_else(|| {
        HandlerError::Cloud(format!(
            "{} {} disappeared while being provisioned",
            primary_kind(settings),
            settings.identifier
        ))
    })
}

fn primary_kind(settings: &Settings) -> &'static str {
    match settings.hosting {
        Hosting::Aurora => "Aurora cluster",
        Hosting::Rds => "RDS instance",
    }
}

/// The log line for a create call; `already-exists` means a concurrent run
/// created the resource, which is as good as creating it here.
fn created_or_raced(
    kind: &str,
    identifier: &str,
    result: Result<String, RdsError>,
    action: &str,
) -> Result<String, HandlerError> {
    match result {
        Ok(status) => Ok(format!("creating {kind} {identifier} ({status})")),
        Err(RdsError::AlreadyExists(_)) => Ok(format!(
            "{kind} {identifier} already exists (created by a concurrent run)"
        )),
        Err(error) => Err(rds_failure(action, identifier, error)),
    }
}

fn describe_cluster(
    rds: &impl Rds,
    settings: &Settings,
) -> Result<Option<DbCluster>, HandlerError> {
    let identifier = &settings.identifier;
    let cluster = rds
        .describe_db_cluster(identifier)
        .map_err(|error| rds_failure("DescribeDBClusters", identifier, error))?;
    if let Some(cluster) = &cluster {
        check_engine(
            "Aurora cluster",
            identifier,
            &cluster.engine,
            settings.engine,
        )?;
    }
    Ok(cluster)
}

/// The Aurora writer, checked to be an instance of our cluster.
fn describe_writer(
    rds: &impl Rds,
    settings: &Settings,
) -> Result<Option<DbInstance>, HandlerError> {
    let identifier = settings.writer_identifier();
    let writer = rds
        .describe_db_instance(&identifier)
        .map_err(|error| rds_failure("DescribeDBInstances", &identifier, error))?;
    if let Some(writer) = &writer {
        check_engine(
            "writer instance",
            &identifier,
            &writer.engine,
            settings.engine,
        )?;
        let cluster = &settings.identifier;
        match &writer.cluster_identifier {
            Some(member_of) if member_of.eq_ignore_ascii_case(cluster) => {}
            Some(member_of) => {
                return Err(HandlerError::Conflict(format!(
                    "instance {identifier} exists but belongs to cluster {member_of}, not \
                     {cluster}; it is not this environment's writer (set another `identifier` \
                     in the cloud settings)"
                )));
            }
            None => {
                return Err(HandlerError::Conflict(format!(
                    "instance {identifier} exists but is a standalone instance, not a member of \
                     cluster {cluster}; it is not this environment's writer (set another \
                     `identifier` in the cloud settings)"
                )));
            }
        }
    }
    Ok(writer)
}

fn describe_instance(
    rds: &impl Rds,
    settings: &Settings,
) -> Result<Option<DbInstance>, HandlerError> {
    let identifier = &settings.identifier;
    let instance = rds
        .describe_db_instance(identifier)
        .map_err(|error| rds_failure("DescribeDBInstances", identifier, error))?;
    if let Some(instance) = &instance {
        check_engine(
            "RDS instance",
            identifier,
            &instance.engine,
            settings.engine,
        )?;
    }
    Ok(instance)
}

/// A resource with our name but another engine is someone else's.
fn check_engine(
    kind: &str,
    identifier: &str,
    found: &str,
    expected: &str,
) -> Result<(), HandlerError> {
    if found == expected {
        return Ok(());
    }
    Err(HandlerError::Conflict(format!(
        "{kind} {identifier} exists with engine {found}, but this environment needs {expected}; \
         it is not this environment's (set another `identifier` in the cloud settings, or \
         change the provider or hosting)"
    )))
}

fn aurora_state(
    settings: &Settings,
    cluster: &DbCluster,
    writer: Option<&DbInstance>,
) -> Infrastructure {
    let mut resources = vec![settings.identifier.clone()];
    if writer.is_some() {
        resources.push(settings.writer_identifier());
    }
    let status = if cluster.status != AVAILABLE {
        cluster.status.clone()
    } else {
        match writer {
            None => WRITER_MISSING.to_string(),
            Some(writer) => writer.status.clone(),
        }
    };
    Infrastructure {
        identifier: settings.identifier.clone(),
        resources,
        ready: cluster.status == AVAILABLE && writer.is_some_and(|w| w.status == AVAILABLE),
        status,
        endpoint: cluster.endpoint.clone(),
        port: cluster.port,
    }
}

fn instance_state(settings: &Settings, instance: &DbInstance) -> Infrastructure {
    Infrastructure {
        identifier: settings.identifier.clone(),
        resources: vec![settings.identifier.clone()],
        status: instance.status.clone(),
        ready: instance.status == AVAILABLE,
        endpoint: instance.endpoint.clone(),
        port: instance.port,
    }
}

fn create_cluster(settings: &Settings) -> CreateCluster {
    CreateCluster {
        identifier: settings.identifier.clone(),
        engine: settings.engine.to_string(),
        engine_version: Some(settings.engine_version.clone()),
        database_name: settings.database_name.clone(),
        master_username: settings.master_username.clone(),
        port: settings.port,
        tags: settings.tags.clone(),
    }
}

/// The Aurora writer: storage and credentials come from the cluster.
fn create_writer(settings: &Settings) -> CreateInstance {
    CreateInstance {
        identifier: settings.writer_identifier(),
        engine: settings.engine.to_string(),
        engine_version: Some(settings.engine_version.clone()),
        instance_class: settings.instance_class.clone(),
        // A cluster member listens on the cluster's port, set in create_cluster.
        port: None,
        cluster_identifier: Some(settings.identifier.clone()),
        allocated_storage_gib: None,
        master_username: None,
        database_name: None,
        tags: settings.tags.clone(),
    }
}

/// A standalone RDS instance.
fn create_instance(settings: &Settings) -> CreateInstance {
    CreateInstance {
        identifier: settings.identifier.clone(),
        engine: settings.engine.to_string(),
        engine_version: Some(settings.engine_version.clone()),
        instance_class: settings.instance_class.clone(),
        port: settings.port,
        cluster_identifier: None,
        allocated_storage_gib: settings.allocated_storage_gib,
        master_username: Some(settings.master_username.clone()),
        database_name: settings.database_name.clone(),
        tags: settings.tags.clone(),
    }
}

/// An RDS call's failure, naming the call (its IAM action) and the identifier.
fn rds_failure(action: &str, identifier: &str, error: RdsError) -> HandlerError {
    HandlerError::Cloud(match error {
        RdsError::AccessDenied(message) => format!(
            "access denied: rds:{action} on {identifier}: {message} (check the AWS identity's \
             IAM permissions for rds:{action})"
        ),
        RdsError::AlreadyExists(message) => {
            format!("{action} {identifier}: the identifier is already taken: {message}")
        }
        RdsError::InvalidRequest(message) => {
            format!("{action} {identifier}: AWS refused the parameters: {message}")
        }
        RdsError::Service(message) => format!("{action} {identifier} failed: {message}"),
    })
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;
    use crate::settings::resolve;
    use faber_db_handler::cloud_provider::InfrastructureRequest;
    use faber_db_handler::types::Provider;

    /// An in-memory RDS that records the create calls.
    #[derive(Default)]
    struct FakeRds {
        clusters: RefCell<HashMap<String, DbCluster>>,
        instances: RefCell<HashMap<String, DbInstance>>,
        created_clusters: RefCell<Vec<CreateCluster>>,
        created_instances: RefCell<Vec<CreateInstance>>,
        /// Returned by the next describe call of either kind.
        describe_error: RefCell<Option<RdsError>>,
        /// Returned by create calls instead of creating (a resource is still
        /// stored for `already-exists`, as a concurrent run would have made it).
        create_error: RefCell<Option<RdsError>>,
        /// When set, create calls succeed but nothing is stored.
        forget_creations: bool,
    }

    impl FakeRds {
        fn with_cluster(self, identifier: &str, engine: &str, status: &str) -> Self {
            self.clusters
                .borrow_mut()
                .insert(identifier.to_string(), cluster(identifier, engine, status));
            self
        }

        fn with_instance(
            self,
            identifier: &str,
            engine: &str,
            status: &str,
            member_of: Option<&str>,
        ) -> Self {
            self.instances.borrow_mut().insert(
                identifier.to_string(),
                instance(identifier, engine, status, member_of),
            );
            self
        }

        fn failing_describe(self, error: RdsError) -> Self {
            *self.describe_error.borrow_mut() = Some(error);
            self
        }

        fn failing_create(self, error: RdsError) -> Self {
            *self.create_error.borrow_mut() = Some(error);
            self
        }

        fn created_clusters(&self) -> Vec<String> {
            let created = self.created_clusters.borrow();
            created.iter().map(|c| c.identifier.clone()).collect()
        }

        fn created_instances(&self) -> Vec<String> {
            let created = self.created_instances.borrow();
            created.iter().map(|i| i.identifier.clone()).collect()
        }
    }

    fn cluster(identifier: &str, engine: &str, status: &str) -> DbCluster {
        DbCluster {
            identifier: identifier.to_string(),
            status: status.to_string(),
            engine: engine.to_string(),
            engine_version: None,
            endpoint: Some(format!(
                "{identifier}.cluster-abc.eu-west-1.rds.amazonaws.com"
            )),
            port: Some(5432),
            tags: Vec::new(),
        }
    }

    fn instance(
        identifier: &str,
        engine: &str,
        status: &str,
        member_of: Option<&str>,
    ) -> DbInstance {
        DbInstance {
            identifier: identifier.to_string(),
            status: status.to_string(),
            engine: engine.to_string(),
            engine_version: None,
            instance_class: "db.t4g.micro".to_string(),
            cluster_identifier: member_of.map(str::to_string),
            endpoint: Some(format!("{identifier}.abc.eu-west-1.rds.amazonaws.com")),
            port: Some(3306),
            tags: Vec::new(),
        }
    }

    impl Rds for FakeRds {
        fn describe_db_cluster(&self, identifier: &str) -> Result<Option<DbCluster>, RdsError> {
            if let Some(error) = self.describe_error.borrow_mut().take() {
                return Err(error);
            }
            Ok(self.clusters.borrow().get(identifier).cloned())
        }

        fn describe_db_instance(&self, identifier: &str) -> Result<Option<DbInstance>, RdsError> {
            if let Some(error) = self.describe_error.borrow_mut().take() {
                return Err(error);
            }
            Ok(self.instances.borrow().get(identifier).cloned())
        }

        fn create_db_cluster(&self, request: &CreateCluster) -> Result<DbCluster, RdsError> {
            self.created_clusters.borrow_mut().push(request.clone());
            let made = cluster(&request.identifier, &request.engine, "creating");
            if let Some(error) = self.create_error.borrow().clone() {
                if matches!(error, RdsError::AlreadyExists(_)) {
                    self.clusters
                        .borrow_mut()
                        .insert(request.identifier.clone(), made);
                }
                return Err(error);
            }
            if !self.forget_creations {
                self.clusters
                    .borrow_mut()
                    .insert(request.identifier.clone(), made.clone());
            }
            Ok(made)
        }

        fn create_db_instance(&self, request: &CreateInstance) -> Result<DbInstance, RdsError> {
            self.created_instances.borrow_mut().push(request.clone());
            // Like AWS, report what was asked for and defaults for the rest.
            let made = DbInstance {
                engine_version: request.engine_version.clone(),
                port: request.port.or(Some(3306)),
                ..instance(
                    &request.identifier,
                    &request.engine,
                    "creating",
                    request.cluster_identifier.as_deref(),
                )
            };
            if let Some(error) = self.create_error.borrow().clone() {
                if matches!(error, RdsError::AlreadyExists(_)) {
                    self.instances
                        .borrow_mut()
                        .insert(request.identifier.clone(), made);
                }
                return Err(error);
            }
            if !self.forget_creations {
                self.instances
                    .borrow_mut()
                    .insert(request.identifier.clone(), made.clone());
            }
            Ok(made)
        }
    }

    fn settings(hosting: &str, provider: Provider, json: &str) -> Settings {
        resolve(&InfrastructureRequest {
            project: "myapp".to_string(),
            environment: "prod".to_string(),
            hosting: hosting.to_string(),
            provider,
            settings: json.to_string(),
        })
        .unwrap()
    }

    fn aurora() -> Settings {
        settings("aws-aurora", Provider::Postgresql, "{}")
    }

    fn rds_pg() -> Settings {
        settings("aws-rds", Provider::Postgresql, "{}")
    }

    fn provision_logged(
        rds: &FakeRds,
        settings: &Settings,
    ) -> (Result<Infrastructure, HandlerError>, Vec<String>) {
        let mut lines = Vec::new();
        let result = provision(rds, settings, &mut |line| lines.push(line));
        (result, lines)
    }

    fn cloud_message<T: std::fmt::Debug>(result: Result<T, HandlerError>) -> String {
        match result {
            Err(HandlerError::Cloud(message)) => message,
            other => panic!("expected a cloud error, got {other:?}"),
        }
    }

    fn conflict_message<T: std::fmt::Debug>(result: Result<T, HandlerError>) -> String {
        match result {
            Err(HandlerError::Conflict(message)) => message,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    // --- find ---

    #[test]
    fn find_aurora_nothing() {
        assert_eq!(find(&FakeRds::default(), &aurora()).unwrap(), None);
    }

    #[test]
    fn find_aurora_ready() {
        let rds = FakeRds::default()
            .with_cluster("myapp-prod", "aurora-postgresql", "available")
            .with_instance(
                "myapp-prod-writer",
                "aurora-postgresql",
                "available",
                Some("myapp-prod"),
            );
        let found = find(&rds, &aurora()).unwrap().unwrap();
        assert_eq!(
            found,
            Infrastructure {
                identifier: "myapp-prod".to_string(),
                resources: vec!["myapp-prod".to_string(), "myapp-prod-writer".to_string()],
                status: "available".to_string(),
                ready: true,
                endpoint: Some("myapp-prod.cluster-abc.eu-west-1.rds.amazonaws.com".to_string()),
                port: Some(5432),
            }
        );
    }

    #[test]
    fn find_aurora_cluster_status_comes_first() {
        let rds = FakeRds::default()
            .with_cluster("myapp-prod", "aurora-postgresql", "creating")
            .with_instance(
                "myapp-prod-writer",
                "aurora-postgresql",
                "creating",
                Some("myapp-prod"),
            );
        let found = find(&rds, &aurora()).unwrap().unwrap();
        assert_eq!(found.status, "creating");
        assert!(!found.ready);
        // Also when the writer is missing.
        let rds = FakeRds::default().with_cluster("myapp-prod", "aurora-postgresql", "modifying");
        let found = find(&rds, &aurora()).unwrap().unwrap();
        assert_eq!(found.status, "modifying");
        assert_eq!(found.resources, ["myapp-prod"]);
        assert!(!found.ready);
    }

    #[test]
    fn find_aurora_writer_missing() {
        let rds = FakeRds::default().with_cluster("myapp-prod", "aurora-postgresql", "available");
        let found = find(&rds, &aurora()).unwrap().unwrap();
        assert_eq!(found.status, "writer-missing");
        assert_eq!(found.resources, ["myapp-prod"]);
        assert!(!found.ready);
    }

    #[test]
    fn find_aurora_writer_status() {
        let rds = FakeRds::default()
            .with_cluster("myapp-prod", "aurora-postgresql", "available")
            .with_instance(
                "myapp-prod-writer",
                "aurora-postgresql",
                "backing-up",
                Some("myapp-prod"),
            );
        let found = find(&rds, &aurora()).unwrap().unwrap();
        assert_eq!(found.status, "backing-up");
        assert!(!found.ready);
    }

    #[test]
    fn find_aurora_engine_conflicts() {
        let rds = FakeRds::default().with_cluster("myapp-prod", "aurora-mysql", "available");
        let message = conflict_message(find(&rds, &aurora()));
        assert!(message.contains("aurora-mysql"), "{message}");
        assert!(message.contains("aurora-postgresql"), "{message}");
        assert!(message.contains("myapp-prod"), "{message}");

        let rds = FakeRds::default()
            .with_cluster("myapp-prod", "aurora-postgresql", "available")
            .with_instance("myapp-prod-writer", "postgres", "available", None);
        let message = conflict_message(find(&rds, &aurora()));
        assert!(message.contains("myapp-prod-writer"), "{message}");
        assert!(message.contains("postgres,"), "{message}");
    }

    #[test]
    fn find_aurora_writer_of_another_cluster_conflicts() {
        let rds = FakeRds::default()
            .with_cluster("myapp-prod", "aurora-postgresql", "available")
            .with_instance(
                "myapp-prod-writer",
                "aurora-postgresql",
                "available",
                Some("other"),
            );
        let message = conflict_message(find(&rds, &aurora()));
        assert!(message.contains("belongs to cluster other"), "{message}");

        let rds = FakeRds::default()
            .with_cluster("myapp-prod", "aurora-postgresql", "available")
            .with_instance("myapp-prod-writer", "aurora-postgresql", "available", None);
        let message = conflict_message(find(&rds, &aurora()));
        assert!(message.contains("standalone"), "{message}");
    }

    #[test]
    fn find_rds() {
        assert_eq!(find(&FakeRds::default(), &rds_pg()).unwrap(), None);

        let rds = FakeRds::default().with_instance("myapp-prod", "postgres", "creating", None);
        let found = find(&rds, &rds_pg()).unwrap().unwrap();
        assert_eq!(found.identifier, "myapp-prod");
        assert_eq!(found.resources, ["myapp-prod"]);
        assert_eq!(found.status, "creating");
        assert!(!found.ready);

        let rds = FakeRds::default().with_instance("myapp-prod", "postgres", "available", None);
        let found = find(&rds, &rds_pg()).unwrap().unwrap();
        assert!(found.ready);
        assert_eq!(
            found.endpoint.as_deref(),
            Some("myapp-prod.abc.eu-west-1.rds.amazonaws.com")
        );
        assert_eq!(found.port, Some(3306));
    }

    #[test]
    fn find_rds_engine_conflict() {
        let rds = FakeRds::default().with_instance("myapp-prod", "mariadb", "available", None);
        let mysql = settings("aws-rds", Provider::Mysql, "{}");
        let message = conflict_message(find(&rds, &mysql));
        assert!(message.contains("mariadb"), "{message}");
        assert!(message.contains("needs mysql"), "{message}");
    }

    // --- errors ---

    #[test]
    fn access_denied_names_the_permission() {
        let rds = FakeRds::default()
            .failing_describe(RdsError::AccessDenied("not authorized".to_string()));
        let message = cloud_message(find(&rds, &aurora()));
        assert!(message.starts_with("access denied: "), "{message}");
        assert!(message.contains("myapp-prod"), "{message}");
        assert!(message.contains("not authorized"), "{message}");
        assert!(
            message.contains("IAM permissions for rds:DescribeDBClusters"),
            "{message}"
        );
    }

    #[test]
    fn other_errors_name_the_call_and_identifier() {
        let rds = FakeRds::default().failing_describe(RdsError::Service("timed out".to_string()));
        let message = cloud_message(find(&rds, &rds_pg()));
        assert_eq!(message, "DescribeDBInstances myapp-prod failed: timed out");

        let rds = FakeRds::default()
            .failing_create(RdsError::InvalidRequest("bad engine version".to_string()));
        let message = cloud_message(provision_logged(&rds, &aurora()).0);
        assert!(
            message.starts_with("CreateDBCluster myapp-prod"),
            "{message}"
        );
        assert!(message.contains("bad engine version"), "{message}");

        let rds = FakeRds::default().failing_create(RdsError::AccessDenied("no".to_string()));
        let message = cloud_message(provision_logged(&rds, &rds_pg()).0);
        assert!(
            message.contains("IAM permissions for rds:CreateDBInstance"),
            "{message}"
        );
    }

    // --- provision ---

    #[test]
    fn provision_aurora_from_nothing() {
        let rds = FakeRds::default();
        let settings = settings(
            "aws-aurora",
            Provider::Postgresql,
            r#"{"database_name": "app", "port": 6543, "tags": {"team": "web"}}"#,
        );
        let (result, lines) = provision_logged(&rds, &settings);
        let state = result.unwrap();
        assert_eq!(state.status, "creating");
        assert!(!state.ready);
        assert_eq!(state.resources, ["myapp-prod", "myapp-prod-writer"]);
        assert_eq!(
            lines,
            [
                "creating Aurora cluster myapp-prod (creating)",
                "creating writer instance myapp-prod-writer (creating)",
            ]
        );

        let clusters = rds.created_clusters.borrow();
        assert_eq!(
            clusters[..],
            [CreateCluster {
                identifier: "myapp-prod".to_string(),
                engine: "aurora-postgresql".to_string(),
                engine_version: Some("16.4".to_string()),
                database_name: Some("app".to_string()),
                master_username: "faber_admin".to_string(),
                port: Some(6543),
                tags: settings.tags.clone(),
            }]
        );
        let instances = rds.created_instances.borrow();
        assert_eq!(
            instances[..],
            [CreateInstance {
                identifier: "myapp-prod-writer".to_string(),
                engine: "aurora-postgresql".to_string(),
                engine_version: Some("16.4".to_string()),
                instance_class: "db.t4g.medium".to_string(),
                port: None,
                cluster_identifier: Some("myapp-prod".to_string()),
                allocated_storage_gib: None,
                master_username: None,
                database_name: None,
                tags: settings.tags.clone(),
            }]
        );
        assert_eq!(settings.tags.len(), 4);
    }

    #[test]
    fn provision_aurora_resumes_with_the_writer() {
        let rds = FakeRds::default().with_cluster("myapp-prod", "aurora-postgresql", "available");
        let (result, lines) = provision_logged(&rds, &aurora());
        let state = result.unwrap();
        assert!(rds.created_clusters().is_empty());
        assert_eq!(rds.created_instances(), ["myapp-prod-writer"]);
        assert_eq!(state.status, "creating");
        assert_eq!(
            lines,
            [
                "found Aurora cluster myapp-prod (available)",
                "creating writer instance myapp-prod-writer (creating)",
            ]
        );
    }

    #[test]
    fn provision_aurora_complete_creates_nothing() {
        let rds = FakeRds::default()
            .with_cluster("myapp-prod", "aurora-postgresql", "available")
            .with_instance(
                "myapp-prod-writer",
                "aurora-postgresql",
                "available",
                Some("myapp-prod"),
            );
        let (result, lines) = provision_logged(&rds, &aurora());
        assert!(result.unwrap().ready);
        assert!(rds.created_clusters().is_empty());
        assert!(rds.created_instances().is_empty());
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|line| line.starts_with("found ")));
    }

    #[test]
    fn provision_aurora_refuses_a_foreign_cluster() {
        let rds = FakeRds::default().with_cluster("myapp-prod", "aurora-mysql", "available");
        conflict_message(provision_logged(&rds, &aurora()).0);
        assert!(rds.created_instances().is_empty());
    }

    #[test]
    fn provision_treats_already_exists_as_success() {
        let rds = FakeRds::default().failing_create(RdsError::AlreadyExists("taken".to_string()));
        let (result, lines) = provision_logged(&rds, &aurora());
        let state = result.unwrap();
        assert_eq!(state.resources, ["myapp-prod", "myapp-prod-writer"]);
        assert_eq!(
            lines,
            [
                "Aurora cluster myapp-prod already exists (created by a concurrent run)",
                "writer instance myapp-prod-writer already exists (created by a concurrent run)",
            ]
        );

        let rds = FakeRds::default().failing_create(RdsError::AlreadyExists("taken".to_string()));
        let (result, _) = provision_logged(&rds, &rds_pg());
        assert_eq!(result.unwrap().status, "creating");
    }

    #[test]
    fn provision_rds_from_nothing() {
        let rds = FakeRds::default();
        let settings = settings(
            "aws-rds",
            Provider::Mysql,
            r#"{"allocated_storage_gib": 50, "database_name": "shop"}"#,
        );
        let (result, lines) = provision_logged(&rds, &settings);
        let state = result.unwrap();
        assert_eq!(state.resources, ["myapp-prod"]);
        assert_eq!(lines, ["creating RDS instance myapp-prod (creating)"]);
        assert!(rds.created_clusters().is_empty());
        let instances = rds.created_instances.borrow();
        assert_eq!(
            instances[..],
            [CreateInstance {
                identifier: "myapp-prod".to_string(),
                engine: "mysql".to_string(),
                engine_version: Some("8.0.39".to_string()),
                instance_class: "db.t4g.micro".to_string(),
                port: None,
                cluster_identifier: None,
                allocated_storage_gib: Some(50),
                master_username: Some("faber_admin".to_string()),
                database_name: Some("shop".to_string()),
                tags: settings.tags.clone(),
            }]
        );
    }

    #[test]
    fn provision_rds_sets_the_instance_port() {
        let rds = FakeRds::default();
        let settings = settings("aws-rds", Provider::Postgresql, r#"{"port": 6543}"#);
        let state = provision_logged(&rds, &settings).0.unwrap();
        assert_eq!(state.port, Some(6543));
        let instances = rds.created_instances.borrow();
        assert_eq!(instances[0].port, Some(6543));
    }

    #[test]
    fn provision_rds_existing_creates_nothing() {
        let rds = FakeRds::default().with_instance("myapp-prod", "postgres", "available", None);
        let (result, lines) = provision_logged(&rds, &rds_pg());
        assert!(result.unwrap().ready);
        assert!(rds.created_instances().is_empty());
        assert_eq!(lines, ["found RDS instance myapp-prod (available)"]);
    }

    #[test]
    fn provision_that_aws_forgets_is_internal() {
        let rds = FakeRds {
            forget_creations: true,
            ..FakeRds::default()
        };
        let result = provision_logged(&rds, &rds_pg()).0;
        assert!(
            matches!(&result, Err(HandlerError::Internal(m)) if m.contains("myapp-prod")),
            "{result:?}"
        );
    }

    // --- poll ---

    #[test]
    fn poll_reports_state_or_disappearance() {
        let rds = FakeRds::default().with_instance("myapp-prod", "postgres", "creating", None);
        assert_eq!(poll(&rds, &rds_pg()).unwrap().status, "creating");

        let message = cloud_message(poll(&FakeRds::default(), &rds_pg()));
        assert_eq!(
            message,
            "RDS instance myapp-prod disappeared while being provisioned"
        );
        let message = cloud_message(poll(&FakeRds::default(), &aurora()));
        assert_eq!(
            message,
            "Aurora cluster myapp-prod disappeared while being provisioned"
        );
    }
}
