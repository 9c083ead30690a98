//! Running one operation over a fleet's tenants: a bounded number at a
//! time, the failures counted against a threshold, an optional canary
//! first, each outcome handed on as it finishes.

use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::report::{Halt, Outcome, TenantState};
use super::tenants::Tenant;

/// `--max-failures`: how many failed tenants (or what share of those
/// selected) stop new ones from starting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Count(usize),
    Percent(f64),
}

impl Threshold {
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let fail = || format!("{text:?} is neither a count (10) nor a percentage (5%)");
        match text.trim().strip_suffix('%') {
            Some(percent) => {
                let percent: f64 = percent.trim().parse().map_err(|_| fail())?;
                match (0.0..=100.0).contains(&percent) {
                    true => Ok(Threshold::Percent(percent)),
                    false => Err(fail()),
                }
            }
            None => text
                .trim()
                .parse()
                .map(Threshold::Count)
                .map_err(|_| fail()),
        }
    }

    /// Whether `failed` of `total` tenants is past the threshold.
    fn exceeded(self, failed: usize, total: usize) -> bool {
        match self {
            Threshold::Count(count) => failed > count,
            Threshold::Percent(percent) => failed as f64 > total as f64 * percent / 100.0,
        }
    }
}

/// How a fleet run proceeds.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub concurrency: usize,
    pub max_failures: Option<Threshold>,
    /// The first N tenants, then a stop for a look (or, with `proceed`, on
    /// to the rest only if none of them failed).
    pub canary: Option<usize>,
    pub proceed: bool,
}

/// Runs `each` over `tenants` at `pace`, handing every outcome to
/// `finished` as it comes; tenants never started are handed on as
/// `not-started`. Returns why it stopped early, if it did.
pub async fn over<F, Fut>(
    tenants: Vec<Tenant>,
    pace: Pace,
    mut each: F,
    mut finished: impl FnMut(Outcome),
) -> Option<Halt>
where
    F: FnMut(Tenant) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let total = tenants.len();
    let mut queue = tenants.into_iter();
    let mut failed = 0;
    let mut halt = None;
    if let Some(canary) = pace.canary.filter(|canary| *canary < total) {
        let first: Vec<Tenant> = queue.by_ref().take(canary).collect();
        halt = phase(first, pace, total, &mut failed, &mut each, &mut finished).await;
        halt = halt.or(match (pace.proceed, failed) {
            (false, _) => Some(Halt::CanaryDone),
            (true, 0) => None,
            (true, _) => Some(Halt::CanaryFailed),
        });
    }
    if halt.is_none() {
        let rest: Vec<Tenant> = queue.by_ref().collect();
        halt = phase(rest, pace, total, &mut failed, &mut each, &mut finished).await;
    }
    for tenant in queue {
        finished(Outcome::of(&tenant, TenantState::NotStarted));
    }
    halt
}

/// `tenants`, at most `pace.concurrency` at a time, until the failures
/// (counted in `failed` across phases) pass the threshold.
async fn phase<F, Fut>(
    tenants: Vec<Tenant>,
    pace: Pace,
    total: usize,
    failed: &mut usize,
    each: &mut F,
    finished: &mut impl FnMut(Outcome),
) -> Option<Halt>
where
    F: FnMut(Tenant) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let mut queue = tenants.into_iter();
    let mut running = FuturesUnordered::new();
    let mut halt = None;
    loop {
        while halt.is_none() && running.len() < pace.concurrency.max(1) {
            let Some(tenant) = queue.next() else { break };
            running.push(each(tenant));
        }
        let Some(outcome) = running.next().await else {
            break;
        };
        if outcome.state.is_failure() {
            *failed += 1;
            let exceeded = pace
                .max_failures
                .is_some_and(|threshold| threshold.exceeded(*failed, total));
            if exceeded {
                halt = Some(Halt::MaxFailures);
            }
        }
        finished(outcome);
    }
    for tenant in queue {
        finished(Outcome::of(&tenant, TenantState::NotStarted));
    }
    halt
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenants(count: usize) -> Vec<Tenant> {
        (0..count)
            .map(|i| Tenant {
                key: format!("t{i:03}"),
                server: None,
            })
            .collect()
    }

    fn pace(concurrency: usize) -> Pace {
        Pace {
            concurrency,
            max_failures: None,
            canary: None,
            proceed: false,
        }
    }

    async fn run(count: usize, pace: Pace, failing: &[&str]) -> (Vec<Outcome>, Option<Halt>) {
        let mut seen = Vec::new();
        let halt = over(
            tenants(count),
            pace,
            async |tenant: Tenant| {
                let state = match failing.contains(&tenant.key.as_str()) {
                    true => TenantState::Failed,
                    false => TenantState::Migrated,
                };
                Outcome::of(&tenant, state)
            },
            |outcome| seen.push(outcome),
        )
        .await;
        (seen, halt)
    }

    fn count(seen: &[Outcome], state: TenantState) -> usize {
        seen.iter().filter(|outcome| outcome.state == state).count()
    }

    #[tokio::test]
    async fn one_failure_stops_nobody_below_the_threshold() {
        let (seen, halt) = run(20, pace(4), &["t003"]).await;
        assert_eq!(halt, None);
        assert_eq!(count(&seen, TenantState::Migrated), 19);
        assert_eq!(count(&seen, TenantState::Failed), 1);
    }

    #[tokio::test]
    async fn past_the_threshold_no_new_tenant_starts() {
        let mut limited = pace(1);
        limited.max_failures = Some(Threshold::Count(1));
        let (seen, halt) = run(10, limited, &["t001", "t002"]).await;
        assert_eq!(halt, Some(Halt::MaxFailures));
        assert_eq!(seen.len(), 10);
        assert_eq!(count(&seen, TenantState::Failed), 2);
        assert_eq!(count(&seen, TenantState::NotStarted), 7);
        limited.max_failures = Some(Threshold::Percent(50.0));
        let (_, halt) = run(10, limited, &["t001", "t002"]).await;
        assert_eq!(halt, None);
    }

    #[tokio::test]
    async fn a_canary_runs_first_and_gates_the_rest() {
        let mut canary = pace(8);
        canary.canary = Some(3);
        let (seen, halt) = run(10, canary, &[]).await;
        assert_eq!(halt, Some(Halt::CanaryDone));
        assert_eq!(count(&seen, TenantState::Migrated), 3);
        assert_eq!(count(&seen, TenantState::NotStarted), 7);
        canary.proceed = true;
        let (seen, halt) = run(10, canary, &[]).await;
        assert_eq!(halt, None);
        assert_eq!(count(&seen, TenantState::Migrated), 10);
        let (seen, halt) = run(10, canary, &["t001"]).await;
        assert_eq!(halt, Some(Halt::CanaryFailed));
        assert_eq!(count(&seen, TenantState::NotStarted), 7);
    }

    #[test]
    fn thresholds_are_counts_or_shares() {
        assert_eq!(Threshold::parse("3"), Ok(Threshold::Count(3)));
        assert_eq!(Threshold::parse("5%"), Ok(Threshold::Percent(5.0)));
        assert!(Threshold::parse("x").is_err());
        assert!(Threshold::parse("120%").is_err());
    }
}
