//! `status` of a fleet environment: every chosen tenant read as a single
//! environment would be, summed up as counts (tenants per state, tenants
//! per applied migration) with the laggards and the failed by name, not
//! one column per tenant.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;

use super::{Context, EnvironmentState, EnvironmentStatus, Folder, check_environment};
use crate::config::fleet::Fleet;
use crate::failure::Failure;
use crate::fleet::Chosen;
use crate::fleet::tenants::{Placement, Tenant};

/// How many laggards and problem tenants are named; the rest are counted.
const NAMED: usize = 50;

/// A fleet environment's summary.
#[derive(Debug, Default, Serialize)]
pub struct FleetStatus {
    /// The tenants the source lists.
    pub listed: usize,
    /// The tenants read (`--tenant`, `--shard`).
    pub tenants: usize,
    pub shard: Option<String>,
    /// Tenants per state.
    pub counts: BTreeMap<&'static str, usize>,
    /// Per migration of the folder, on how many tenants it is applied.
    pub applied: BTreeMap<String, usize>,
    /// Tenants with migrations pending, the most behind first.
    pub laggards: Vec<TenantStatus>,
    /// Tenants failed, drifted, unreachable, uninitialized or unreadable.
    pub problems: Vec<TenantStatus>,
    /// Laggards and problems beyond those named.
    pub unnamed: usize,
}

#[derive(Debug, Serialize)]
pub struct TenantStatus {
    pub tenant: String,
    pub state: EnvironmentState,
    pub database: Option<String>,
    pub pending: usize,
    pub detail: Option<String>,
}

/// Reads the fleet's chosen tenants into `env`.
pub(super) async fn check(
    context: &Context,
    env: &mut EnvironmentStatus,
    fleet: &Fleet,
    chosen: &Chosen,
) -> Result<Option<Folder>, Failure> {
    let placement = Placement::settle(
        &context.project.dir,
        &context.project.config,
        &env.name,
        fleet,
    )?;
    let provider = context.project.config.database.provider;
    let taken = chosen.take(&placement, provider, true).await?;
    let mut status = FleetStatus {
        listed: taken.listed,
        tenants: taken.selected.len(),
        shard: chosen.shard.map(|shard| shard.to_string()),
        ..FleetStatus::default()
    };
    let name = env.name.clone();
    let mut read = futures_util::stream::iter(taken.selected)
        .map(|tenant| read_tenant(context, &placement, &name, tenant))
        .buffer_unordered(taken.concurrency);
    let mut summaries = Vec::new();
    let mut folder: Option<Folder> = None;
    while let Some((tenant, tenant_env, tenant_folder)) = read.next().await {
        folder = folder.or(tenant_folder);
        *status.counts.entry(tenant_env.state.as_str()).or_default() += 1;
        for (migration, state) in &tenant_env.migrations {
            if *state == "applied" {
                *status.applied.entry(migration.clone()).or_default() += 1;
            }
        }
        let pending = tenant_env
            .migrations
            .values()
            .filter(|state| **state == "pending")
            .count();
        // A failed tenant's detail is the migration that failed there.
        let failed = tenant_env
            .migrations
            .iter()
            .find(|(_, state)| **state == "failed")
            .map(|(name, _)| format!("migration {name} failed"));
        summaries.push(TenantStatus {
            tenant: tenant.key,
            state: tenant_env.state,
            database: tenant_env.database_name,
            pending,
            detail: tenant_env.detail.or(failed),
        });
    }
    let folder = folder.unwrap_or_default();
    for migration in &folder {
        status.applied.entry(migration.clone()).or_default();
    }
    let (mut laggards, problems): (Vec<TenantStatus>, Vec<TenantStatus>) = summaries
        .into_iter()
        .filter(|tenant| tenant.state != EnvironmentState::UpToDate)
        .partition(|tenant| tenant.state == EnvironmentState::Pending);
    laggards.sort_by(|a, b| b.pending.cmp(&a.pending).then(a.tenant.cmp(&b.tenant)));
    let mut problems = problems;
    problems.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    status.unnamed = laggards.len().saturating_sub(NAMED) + problems.len().saturating_sub(NAMED);
    laggards.truncate(NAMED);
    problems.truncate(NAMED);
    status.laggards = laggards;
    status.problems = problems;
    summarize(env, &status, &folder);
    env.fleet = Some(status);
    Ok(Some(folder).filter(|folder| !folder.is_empty()))
}

async fn read_tenant(
    context: &Context,
    placement: &Placement,
    environment: &str,
    tenant: Tenant,
) -> (Tenant, EnvironmentStatus, Option<Folder>) {
    let target = placement.target(&tenant);
    let (env, folder) = check_environment(context, environment, Some(target)).await;
    (tenant, env, folder)
}

/// The fleet's column: a migration is `applied` when every tenant read has
/// it, else `pending`; the state is the worst tenant's.
fn summarize(env: &mut EnvironmentStatus, status: &FleetStatus, folder: &[String]) {
    use EnvironmentState as S;
    for migration in folder {
        let everywhere = status.applied.get(migration).copied() == Some(status.tenants);
        let word = match everywhere {
            true => "applied",
            false => "pending",
        };
        env.migrations.insert(migration.clone(), word);
    }
    let worst = [
        S::Failed,
        S::Error,
        S::Drift,
        S::Unreachable,
        S::NotInitialized,
        S::NotConfigured,
        S::Pending,
    ]
    .into_iter()
    .find(|state| status.counts.contains_key(state.as_str()));
    env.state = worst.unwrap_or(S::UpToDate);
    env.database_name = Some(format!("{} tenants", status.tenants));
    let counted: Vec<String> = status
        .counts
        .iter()
        .map(|(state, count)| format!("{count} {state}"))
        .collect();
    env.detail = Some(format!(
        "fleet of {} tenant(s) read: {}",
        status.tenants,
        match counted.is_empty() {
            true => "none".to_owned(),
            false => counted.join(", "),
        }
    ));
}
