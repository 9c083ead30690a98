//! What one cloud-provider call may do through the `rds` capability.
//!
//! Every call is confined to the environment's [`Scope`]. Beyond that, the
//! access is one of three modes:
//!
//! - read-only (`find`, `poll`): creates are refused;
//! - rehearsal (the first `provision`): creates are recorded, not sent, and
//!   answered with a resource in status `creating`; what was recorded is the
//!   plan the user sees (and approves, for a protected environment);
//! - execution (the real `provision`): each create must repeat one entry of
//!   the rehearsed plan exactly, and each entry is used at most once.
//!
//! What the host needs of every resource it creates is set here, whatever
//! the handler asked: the ownership tags, and IAM database authentication
//! when the environment logs in with IAM tokens.
//!
//! A refused request fails with `access-denied` for the handler, and is also
//! kept here: a handler that swallows the error and reports success has
//! still tried, and the host fails the step. The access is shared (cheap to
//! clone) so that the host reads back what the call did after the handler's
//! instance is gone.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use super::aws;
use super::plan::Resource;
use super::scope::Scope;
use crate::runtime::contract::Infrastructure;
use crate::runtime::contract::{
    CreateCluster, CreateInstance, DbCluster, DbInstance, RdsError, Tag,
};

#[derive(Clone)]
pub struct RdsAccess {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    client: aws_sdk_rds::Client,
    scope: Scope,
    mode: Mode,
    /// Rehearsal: the plan; execution: what was created.
    accepted: Vec<Resource>,
    refusals: Vec<String>,
    /// Where each resource read or created in this call listens, by
    /// lowercase identifier: a reported endpoint must be one of these.
    observed: BTreeMap<String, Location>,
    /// Created resources accept IAM authentication tokens.
    iam_authentication: bool,
}

enum Mode {
    ReadOnly,
    Rehearsal {
        clusters: Vec<DbCluster>,
        instances: Vec<DbInstance>,
    },
    /// The plan entries not used yet.
    Execution(Vec<Resource>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Location {
    endpoint: Option<String>,
    port: Option<u16>,
}

/// What RDS reports about a resource, cluster or instance alike.
trait Described {
    fn identifier(&self) -> &str;
    fn tags(&self) -> &[Tag];
    fn location(&self) -> Location;
}

impl Described for DbCluster {
    fn identifier(&self) -> &str {
        &self.identifier
    }
    fn tags(&self) -> &[Tag] {
        &self.tags
    }
    fn location(&self) -> Location {
        Location {
            endpoint: self.endpoint.clone(),
            port: self.port,
        }
    }
}

impl Described for DbInstance {
    fn identifier(&self) -> &str {
        &self.identifier
    }
    fn tags(&self) -> &[Tag] {
        &self.tags
    }
    fn location(&self) -> Location {
        Location {
            endpoint: self.endpoint.clone(),
            port: self.port,
        }
    }
}

impl RdsAccess {
    pub fn read_only(client: aws_sdk_rds::Client, scope: Scope) -> RdsAccess {
        RdsAccess::new(client, scope, Mode::ReadOnly, false)
    }

    pub fn rehearsal(client: aws_sdk_rds::Client, scope: Scope) -> RdsAccess {
        let mode = Mode::Rehearsal {
            clusters: Vec::new(),
            instances: Vec::new(),
        };
        RdsAccess::new(client, scope, mode, false)
    }

    /// `iam_authentication`: what it creates accepts IAM tokens.
    pub fn execution(
        client: aws_sdk_rds::Client,
        scope: Scope,
        plan: Vec<Resource>,
        iam_authentication: bool,
    ) -> RdsAccess {
        RdsAccess::new(client, scope, Mode::Execution(plan), iam_authentication)
    }

    fn new(
        client: aws_sdk_rds::Client,
        scope: Scope,
        mode: Mode,
        iam_authentication: bool,
    ) -> RdsAccess {
        RdsAccess {
            inner: Arc::new(Mutex::new(Inner {
                client,
                scope,
                mode,
                accepted: Vec::new(),
                refusals: Vec::new(),
                observed: BTreeMap::new(),
                iam_authentication,
            })),
        }
    }

    /// Rehearsal: the plan; execution: what was created.
    pub async fn accepted(&self) -> Vec<Resource> {
        self.inner.lock().await.accepted.clone()
    }

    /// Every request refused so far, each with its reason.
    pub async fn refusals(&self) -> Vec<String> {
        self.inner.lock().await.refusals.clone()
    }

    /// Checks what a handler reports as the environment's infrastructure:
    /// its identifiers are in scope, and an endpoint it gives is the one RDS
    /// reported for that resource in this call, so a handler cannot pass
    /// off another resource's endpoint as this environment's.
    pub async fn verify(&self, reported: &Infrastructure) -> Result<(), String> {
        let inner = self.inner.lock().await;
        for identifier in std::iter::once(&reported.identifier).chain(&reported.resources) {
            inner.scope.check(identifier)?;
        }
        if reported.endpoint.is_none() && reported.port.is_none() {
            return Ok(());
        }
        let identifier = &reported.identifier;
        let Some(location) = inner.observed.get(&identifier.to_ascii_lowercase()) else {
            return Err(format!(
                "it reports an endpoint for {identifier:?} without having read {identifier:?} from RDS"
            ));
        };
        if agrees(&reported.endpoint, &location.endpoint) && agrees(&reported.port, &location.port)
        {
            return Ok(());
        }
        Err(format!(
            "it reports {} as {identifier:?}'s endpoint, but RDS reports {}",
            show(&reported.endpoint, reported.port),
            show(&location.endpoint, location.port)
        ))
    }

    pub async fn describe_cluster(&self, identifier: &str) -> Result<Option<DbCluster>, RdsError> {
        let mut inner = self.inner.lock().await;
        inner.admit(identifier)?;
        if let Mode::Rehearsal { clusters, .. } = &inner.mode
            && let Some(planned) = find(clusters, identifier)
        {
            return Ok(Some(planned.clone()));
        }
        let found = aws::describe_cluster(&inner.client, identifier).await?;
        inner.admit_found(found)
    }

    pub async fn describe_instance(
        &self,
        identifier: &str,
    ) -> Result<Option<DbInstance>, RdsError> {
        let mut inner = self.inner.lock().await;
        inner.admit(identifier)?;
        if let Mode::Rehearsal { instances, .. } = &inner.mode
            && let Some(planned) = find(instances, identifier)
        {
            return Ok(Some(planned.clone()));
        }
        let found = aws::describe_instance(&inner.client, identifier).await?;
        inner.admit_found(found)
    }

    pub async fn create_cluster(&self, request: CreateCluster) -> Result<DbCluster, RdsError> {
        let mut inner = self.inner.lock().await;
        let resource = inner.admit_create(Resource::from(&request))?;
        let request = CreateCluster {
            tags: inner.scope.tag(request.tags),
            ..request
        };
        if let Mode::Rehearsal { clusters, .. } = &mut inner.mode {
            let planned = rehearsed_cluster(request);
            clusters.push(planned.clone());
            inner.accepted.push(resource);
            return Ok(planned);
        }
        let created = aws::create_cluster(&inner.client, request, inner.iam_authentication).await?;
        inner.created(resource, &created);
        Ok(created)
    }

    pub async fn create_instance(&self, request: CreateInstance) -> Result<DbInstance, RdsError> {
        let mut inner = self.inner.lock().await;
        let resource = inner.admit_create(Resource::from(&request))?;
        let request = CreateInstance {
            tags: inner.scope.tag(request.tags),
            ..request
        };
        if let Mode::Rehearsal { instances, .. } = &mut inner.mode {
            let planned = rehearsed_instance(request);
            instances.push(planned.clone());
            inner.accepted.push(resource);
            return Ok(planned);
        }
        let created =
            aws::create_instance(&inner.client, request, inner.iam_authentication).await?;
        inner.created(resource, &created);
        Ok(created)
    }
}

impl Inner {
    fn refuse(&mut self, reason: String) -> RdsError {
        self.refusals.push(reason.clone());
        RdsError::AccessDenied(reason)
    }

    fn admit(&mut self, identifier: &str) -> Result<(), RdsError> {
        self.scope
            .check(identifier)
            .map_err(|reason| self.refuse(reason))
    }

    /// A resource RDS reported: refused if tagged for another environment.
    fn admit_found<T: Described>(&mut self, found: Option<T>) -> Result<Option<T>, RdsError> {
        let Some(resource) = found else {
            return Ok(None);
        };
        self.scope
            .check_owner(
                resource.identifier(),
                resource
                    .tags()
                    .iter()
                    .map(|tag| (tag.key.as_str(), tag.value.as_str())),
            )
            .map_err(|reason| self.refuse(reason))?;
        self.observe(&resource);
        Ok(Some(resource))
    }

    /// Whether a create may go ahead in this mode; in execution, it uses up
    /// the plan entry it matches (only once the create succeeds, see
    /// [`Inner::created`]).
    fn admit_create(&mut self, resource: Resource) -> Result<Resource, RdsError> {
        self.admit(&resource.identifier)?;
        let refusal = match &self.mode {
            Mode::ReadOnly => Some(format!(
                "creating {resource}: nothing may be created while finding or polling"
            )),
            Mode::Rehearsal { .. } if self.accepted.iter().any(|a| same_name(a, &resource)) => {
                return Err(RdsError::AlreadyExists(resource.identifier));
            }
            Mode::Rehearsal { .. } => None,
            Mode::Execution(plan) if plan.contains(&resource) => None,
            Mode::Execution(plan) => Some(format!(
                "creating {resource}: the plan does not list it{}",
                match plan.iter().find(|entry| same_name(entry, &resource)) {
                    Some(entry) => format!(" (it lists {entry})"),
                    None => String::new(),
                }
            )),
        };
        match refusal {
            Some(reason) => Err(self.refuse(reason)),
            None => Ok(resource),
        }
    }

    fn created<T: Described>(&mut self, resource: Resource, created: &T) {
        if let Mode::Execution(plan) = &mut self.mode
            && let Some(index) = plan.iter().position(|entry| *entry == resource)
        {
            plan.remove(index);
        }
        self.observe(created);
        self.accepted.push(resource);
    }

    fn observe<T: Described>(&mut self, resource: &T) {
        self.observed.insert(
            resource.identifier().to_ascii_lowercase(),
            resource.location(),
        );
    }
}

fn same_name(a: &Resource, b: &Resource) -> bool {
    a.kind == b.kind && a.identifier == b.identifier
}

fn find<'a, T: Described>(resources: &'a [T], identifier: &str) -> Option<&'a T> {
    resources
        .iter()
        .find(|resource| resource.identifier().eq_ignore_ascii_case(identifier))
}

/// What a rehearsal answers a create with: the request as RDS would begin
/// creating it, without an endpoint yet.
fn rehearsed_cluster(request: CreateCluster) -> DbCluster {
    DbCluster {
        identifier: request.identifier.to_ascii_lowercase(),
        status: "creating".to_owned(),
        engine: request.engine,
        engine_version: request.engine_version,
        endpoint: None,
        port: request.port,
        tags: request.tags,
    }
}

fn rehearsed_instance(request: CreateInstance) -> DbInstance {
    DbInstance {
        identifier: request.identifier.to_ascii_lowercase(),
        status: "creating".to_owned(),
        engine: request.engine,
        engine_version: request.engine_version,
        instance_class: request.instance_class,
        cluster_identifier: request
            .cluster_identifier
            .as_deref()
            .map(str::to_ascii_lowercase),
        endpoint: None,
        port: request.port,
        tags: request.tags,
    }
}

/// A reported value agrees with RDS's when it is RDS's, or not given.
fn agrees<T: PartialEq>(reported: &Option<T>, actual: &Option<T>) -> bool {
    reported.is_none() || reported == actual
}

fn show(endpoint: &Option<String>, port: Option<u16>) -> String {
    let endpoint = endpoint.as_deref().unwrap_or("no endpoint");
    match port {
        Some(port) => format!("{endpoint}:{port}"),
        None => endpoint.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rehearsals and refusals never reach AWS: a client without a region
    /// or credentials is enough.
    fn client() -> aws_sdk_rds::Client {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        aws_sdk_rds::Client::new(&config)
    }

    fn scope() -> Scope {
        Scope::new("shop-dev", "shop", "dev")
    }

    fn instance(identifier: &str, class: &str) -> CreateInstance {
        CreateInstance {
            identifier: identifier.to_owned(),
            engine: "postgres".to_owned(),
            engine_version: Some("16.4".to_owned()),
            instance_class: class.to_owned(),
            port: None,
            cluster_identifier: None,
            allocated_storage_gib: Some(20),
            master_username: Some("admin".to_owned()),
            database_name: None,
            tags: vec![Tag {
                key: "faber-db:environment".to_owned(),
                value: "prod".to_owned(),
            }],
        }
    }

    fn denied<T: std::fmt::Debug>(result: Result<T, RdsError>) -> String {
        match result {
            Err(RdsError::AccessDenied(reason)) => reason,
            other => panic!("expected access-denied, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_rehearsal_records_the_plan_and_answers_from_it() {
        let access = RdsAccess::rehearsal(client(), scope());
        let created = access
            .create_instance(instance("shop-dev", "db.t3.medium"))
            .await
            .unwrap();
        assert_eq!(created.status, "creating");
        let environment = created
            .tags
            .iter()
            .find(|t| t.key == "faber-db:environment");
        assert_eq!(environment.unwrap().value, "dev");
        let described = access.describe_instance("SHOP-DEV").await.unwrap().unwrap();
        assert_eq!(described.instance_class, "db.t3.medium");
        assert!(matches!(
            access
                .create_instance(instance("shop-dev", "db.t3.medium"))
                .await,
            Err(RdsError::AlreadyExists(_))
        ));
        let plan = access.accepted().await;
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].instance_class.as_deref(), Some("db.t3.medium"));
        assert!(access.refusals().await.is_empty());
    }

    #[tokio::test]
    async fn nothing_outside_the_scope_is_read_or_created() {
        let access = RdsAccess::rehearsal(client(), scope());
        assert!(denied(access.describe_cluster("billing-prod").await).contains("billing-prod"));
        denied(
            access
                .create_instance(instance("shop-dev2", "db.t3.medium"))
                .await,
        );
        assert_eq!(access.refusals().await.len(), 2);
        assert!(access.accepted().await.is_empty());
    }

    #[tokio::test]
    async fn an_execution_creates_only_what_the_plan_lists() {
        let plan = vec![Resource::from(&instance("shop-dev", "db.t3.medium"))];
        let access = RdsAccess::execution(client(), scope(), plan, false);
        let costlier = denied(
            access
                .create_instance(instance("shop-dev", "db.r6g.16xlarge"))
                .await,
        );
        assert!(costlier.contains("db.r6g.16xlarge"), "{costlier}");
        assert!(
            costlier.contains("it lists instance shop-dev (db.t3.medium"),
            "{costlier}"
        );
        denied(
            access
                .create_instance(instance("shop-dev-extra", "db.t3.medium"))
                .await,
        );
        assert_eq!(access.refusals().await.len(), 2);
        assert!(access.accepted().await.is_empty());
    }

    #[tokio::test]
    async fn finding_and_polling_create_nothing() {
        let access = RdsAccess::read_only(client(), scope());
        denied(
            access
                .create_instance(instance("shop-dev", "db.t3.medium"))
                .await,
        );
        assert_eq!(access.refusals().await.len(), 1);
    }

    #[tokio::test]
    async fn a_reported_endpoint_must_be_one_read_in_the_call() {
        let access = RdsAccess::read_only(client(), scope());
        let reported = Infrastructure {
            identifier: "shop-dev".to_owned(),
            resources: vec!["shop-dev".to_owned()],
            status: "available".to_owned(),
            ready: true,
            endpoint: Some("billing-prod.cluster-x.rds.amazonaws.com".to_owned()),
            port: Some(5432),
        };
        let refusal = access.verify(&reported).await.unwrap_err();
        assert!(refusal.contains("without having read"), "{refusal}");
        let elsewhere = Infrastructure {
            identifier: "billing-prod".to_owned(),
            endpoint: None,
            port: None,
            ..reported
        };
        assert!(
            access
                .verify(&elsewhere)
                .await
                .unwrap_err()
                .contains("billing-prod")
        );
    }
}
