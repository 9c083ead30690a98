//! A fleet's one approval: the whole plan shown once, read by a dry run of
//! every chosen tenant, before any tenant is changed.

use super::report::{FleetResult, Outcome, TenantState};
use super::run::{self, Pace};
use super::{Settled, migrate_one};
use crate::failure::Outcome as Settles;
use crate::report::output::Done;
use crate::workflow::approval::{self, Operation, Stop};
use crate::workflow::lifecycle::Options;

/// A dry run of every chosen tenant: what a protected fleet's approval shows.
pub(super) async fn preview(settled: &Settled, options: &Options) -> Vec<Outcome> {
    let reading = Options {
        dry_run: true,
        ..options.clone()
    };
    let mut seen = Vec::new();
    let pace = Pace {
        concurrency: settled.concurrency,
        max_failures: None,
        canary: None,
        proceed: false,
    };
    run::over(
        settled.selected.clone(),
        pace,
        |tenant| migrate_one(settled, &reading, tenant),
        |outcome| seen.push(outcome),
    )
    .await;
    seen
}

/// Asks once for the fleet: how many tenants, which migrations are pending
/// on how many, the destructive statements; `None` when declined.
pub(super) fn approve_migrations(
    settled: &Settled,
    options: &Options,
    plan: Option<&[Outcome]>,
    result: &mut FleetResult,
) -> Settles<bool> {
    let mut pending: indexmap::IndexMap<String, usize> = indexmap::IndexMap::new();
    let mut unread = 0;
    for outcome in plan.unwrap_or_default() {
        if outcome.state.is_failure() {
            unread += 1;
        }
        for name in &outcome.pending {
            *pending.entry(name.clone()).or_default() += 1;
        }
    }
    pending.sort_keys();
    let mut lines: Vec<String> = pending
        .iter()
        .map(|(name, count)| format!("{name} (pending on {count} tenant(s))"))
        .collect();
    if unread > 0 {
        lines.push(format!(
            "{unread} tenant(s) could not be read; each is tried and reported"
        ));
    }
    let flagged: Vec<String> = {
        let mut flagged: Vec<String> = plan
            .unwrap_or_default()
            .iter()
            .flat_map(|outcome| outcome.lint.iter().cloned())
            .collect();
        flagged.sort();
        flagged.dedup();
        flagged
    };
    let databases = tenant_databases(settled);
    let operation = Operation::Migrate {
        database: &databases,
        migrations: &lines,
        flagged: &flagged,
    };
    ask(settled, options, "migrate", operation, result)
}

/// The fleet's one approval; false when it was declined.
pub(super) fn ask(
    settled: &Settled,
    options: &Options,
    command: &str,
    operation: Operation<'_>,
    result: &mut FleetResult,
) -> Settles<bool> {
    let request = approval::Request {
        command,
        environment: &options.environment,
        operation,
        protected: settled.config().is_protected(&options.environment),
        approved_by_flag: options.approve,
        dry_run: options.dry_run,
    };
    match approval::require(&request) {
        Ok(how) => {
            result.approval = how;
            Ok(true)
        }
        Err(Stop::Cancelled(_)) => Ok(false),
        Err(Stop::Failed(failure)) => Err(failure),
    }
}

/// How the approval prompt names the fleet's databases.
pub(super) fn tenant_databases(settled: &Settled) -> String {
    let shown: Vec<&str> = settled
        .selected
        .iter()
        .take(3)
        .map(|t| t.key.as_str())
        .collect();
    let more = settled.selected.len().saturating_sub(shown.len());
    match more {
        0 => format!(
            "{} tenant database(s): {}",
            settled.selected.len(),
            shown.join(", ")
        ),
        more => format!(
            "{} tenant databases: {}, and {more} more",
            settled.selected.len(),
            shown.join(", ")
        ),
    }
}

pub(super) fn declined(settled: &Settled, mut result: FleetResult) -> Done<FleetResult> {
    result
        .counts
        .insert(TenantState::NotStarted.as_str(), settled.selected.len());
    Done::cancelled(
        result,
        "Operation cancelled: approval declined; nothing was changed",
    )
}
