//! What a fleet run reports: one entry per tenant, the counts per state,
//! and on the way a progress line (or a line per tenant).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Instant;

use serde::Serialize;

use super::tenants::Tenant;
use crate::failure::Failure;
use crate::report::output::Done;
use crate::report::style::Style;

/// Where a tenant ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TenantState {
    /// Migrations applied by this run.
    Migrated,
    /// Nothing was pending.
    UpToDate,
    /// A dry run found migrations to apply.
    Pending,
    /// `resolve` recorded the migration's outcome.
    Resolved,
    /// `init` created and initialized its database.
    Initialized,
    /// `init` found it there already.
    Exists,
    Failed,
    /// Its server could not be reached.
    Unreachable,
    /// Its database does not exist (`init --tenant KEY` creates it).
    Missing,
    /// A stop (`--max-failures`, `--canary`, a declined approval) came first.
    NotStarted,
}

impl TenantState {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantState::Migrated => "migrated",
            TenantState::UpToDate => "up-to-date",
            TenantState::Pending => "pending",
            TenantState::Resolved => "resolved",
            TenantState::Initialized => "initialized",
            TenantState::Exists => "exists",
            TenantState::Failed => "failed",
            TenantState::Unreachable => "unreachable",
            TenantState::Missing => "missing",
            TenantState::NotStarted => "not-started",
        }
    }

    pub fn is_failure(self) -> bool {
        TenantState::FAILURES.contains(&self)
    }

    /// The states a fleet counts as a tenant's failure.
    const FAILURES: [TenantState; 3] = [
        TenantState::Failed,
        TenantState::Unreachable,
        TenantState::Missing,
    ];
}

/// Why a run left tenants unstarted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    MaxFailures,
    CanaryDone,
    CanaryFailed,
}

/// One tenant's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub tenant: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    pub state: TenantState,
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_migration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// What to do about a failure, as commands for this tenant.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recovery: Vec<String>,
    /// Destructive statements among the migrations it applied (or would).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lint: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub duration_ms: u64,
}

impl Outcome {
    pub fn of(tenant: &Tenant, state: TenantState) -> Outcome {
        Outcome {
            tenant: tenant.key.clone(),
            server: tenant.server.clone(),
            state,
            database: None,
            applied: Vec::new(),
            pending: Vec::new(),
            failed_migration: None,
            error: None,
            cause: None,
            recovery: Vec::new(),
            lint: Vec::new(),
            warnings: Vec::new(),
            duration_ms: 0,
        }
    }

    /// A tenant stopped before its command ran, by `failure`.
    pub fn failed(
        tenant: &Tenant,
        state: TenantState,
        failure: crate::failure::Failure,
    ) -> Outcome {
        let mut outcome = Outcome::of(tenant, state);
        outcome.set_failure(Some(failure));
        outcome
    }

    /// A single command's report, `state` deciding how it counts.
    pub fn from_done<R>(tenant: &Tenant, state: TenantState, done: &Done<R>) -> Outcome {
        let mut outcome = Outcome::of(tenant, state);
        if !done.ok && !done.cancelled {
            outcome.error = Some(done.message.clone());
        }
        outcome.set_failure(done.failure.clone());
        outcome
    }

    fn set_failure(&mut self, failure: Option<crate::failure::Failure>) {
        if let Some(failure) = failure {
            self.error = Some(failure.error);
            self.cause = (!failure.causes.is_empty()).then(|| failure.causes.join(": "));
            self.recovery = failure.suggestions;
        }
    }
}

/// `result` of a fleet command's report.
#[derive(Debug, Serialize)]
pub struct FleetResult {
    pub environment: String,
    /// The tenants the source lists.
    pub listed: usize,
    /// Those this run took (`--tenant`, `--shard`).
    pub selected: usize,
    pub shard: Option<String>,
    pub concurrency: usize,
    /// The most connections this run opens at once, on all servers together.
    pub connection_limit: usize,
    pub dry_run: bool,
    /// How a protected fleet's approval was given; null when none was needed.
    pub approval: Option<&'static str>,
    /// Why tenants were left unstarted, if any were.
    pub halted: Option<String>,
    /// How many tenants ended in each state.
    pub counts: BTreeMap<&'static str, usize>,
    /// One entry per tenant, in the order they finished (absent with
    /// `--output ndjson`, which printed them as they did).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<Outcome>,
    pub duration_ms: u64,
}

impl FleetResult {
    pub fn count(&self, state: TenantState) -> usize {
        self.counts.get(state.as_str()).copied().unwrap_or_default()
    }

    pub fn failures(&self) -> usize {
        self.counts
            .iter()
            .filter(|(state, _)| ["failed", "unreachable", "missing"].contains(state))
            .map(|(_, count)| count)
            .sum()
    }
}

/// How outcomes are shown as they come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// A line per tenant on stdout (`--output ndjson`).
    Ndjson,
    /// A progress line on a terminal's stderr, else a line per tenant.
    Human,
    /// Nothing until the one document at the end (`--json`).
    Quiet,
}

/// Counts tenants as they start and finish, shows progress, and keeps
/// the outcomes for the report.
pub struct Progress {
    show: Show,
    live: bool,
    total: usize,
    started_at: Instant,
    started: Cell<usize>,
    finished: Cell<usize>,
    failed: Cell<usize>,
    counts: RefCell<BTreeMap<&'static str, usize>>,
    outcomes: RefCell<Vec<Outcome>>,
}

impl Progress {
    pub fn new(show: Show, total: usize) -> Progress {
        Progress {
            show,
            live: show == Show::Human && std::io::stderr().is_terminal(),
            total,
            started_at: Instant::now(),
            started: Cell::new(0),
            finished: Cell::new(0),
            failed: Cell::new(0),
            counts: RefCell::default(),
            outcomes: RefCell::default(),
        }
    }

    pub fn started(&self) {
        self.started.set(self.started.get() + 1);
        self.redraw();
    }

    pub fn finished(&self, outcome: Outcome) {
        *self
            .counts
            .borrow_mut()
            .entry(outcome.state.as_str())
            .or_default() += 1;
        if outcome.state != TenantState::NotStarted {
            self.finished.set(self.finished.get() + 1);
        }
        if outcome.state.is_failure() {
            self.failed.set(self.failed.get() + 1);
        }
        match self.show {
            Show::Ndjson => {
                if let Ok(line) = serde_json::to_string(&outcome) {
                    println!("{line}");
                }
            }
            Show::Human if !self.live || outcome.state.is_failure() => {
                self.clear();
                print_outcome(&outcome);
            }
            _ => {}
        }
        self.redraw();
        if self.show != Show::Ndjson {
            self.outcomes.borrow_mut().push(outcome);
        }
    }

    /// `done / failed / running / left, rate, time left`, redrawn in place.
    fn redraw(&self) {
        if !self.live {
            return;
        }
        let (done, started) = (self.finished.get(), self.started.get());
        let elapsed = self.started_at.elapsed().as_secs_f64();
        let rate = done as f64 / elapsed.max(0.001);
        let left = self.total.saturating_sub(done);
        let eta = match rate > 0.0 {
            true => format!("~{:.0}s left", left as f64 / rate),
            false => "…".to_owned(),
        };
        let mut stderr = std::io::stderr();
        let _ = write!(
            stderr,
            "\r\x1b[2K{done}/{} done · {} failed · {} running · {left} left · {rate:.1}/s · {eta}",
            self.total,
            self.failed.get(),
            started.saturating_sub(done),
        );
        let _ = stderr.flush();
    }

    fn clear(&self) {
        if self.live {
            eprint!("\r\x1b[2K");
        }
    }

    /// The counts and outcomes, the progress line cleared.
    pub fn end(self) -> (BTreeMap<&'static str, usize>, Vec<Outcome>, u64) {
        self.clear();
        let elapsed = self.started_at.elapsed().as_millis() as u64;
        (
            self.counts.into_inner(),
            self.outcomes.into_inner(),
            elapsed,
        )
    }
}

fn print_outcome(outcome: &Outcome) {
    let style = Style::for_stdout();
    let mark = match outcome.state {
        state if state.is_failure() => style.red("✗"),
        TenantState::NotStarted => "·".to_owned(),
        _ => style.green("✓"),
    };
    let detail = match (&outcome.error, outcome.applied.len(), outcome.pending.len()) {
        (Some(error), _, _) => format!(": {error}"),
        (None, 0, 0) => String::new(),
        (None, 0, pending) => format!(" ({pending} pending)"),
        (None, applied, _) => format!(" ({applied} applied)"),
    };
    println!(
        "{mark} {} {}{detail}",
        outcome.tenant,
        outcome.state.as_str()
    );
}

/// The report of `command` over the fleet: the counts and entries the
/// progress kept, why it stopped early, and what to do next.
pub fn finish(
    mut result: FleetResult,
    progress: Progress,
    halt: Option<Halt>,
    command: &str,
) -> Done<FleetResult> {
    let environment = result.environment.clone();
    let (counts, outcomes, elapsed) = progress.end();
    result.counts = counts;
    result.tenants = outcomes;
    result.duration_ms = elapsed;
    result.halted = halt.as_ref().map(|halt| match halt {
        Halt::MaxFailures => "max-failures".to_owned(),
        Halt::CanaryDone => "canary".to_owned(),
        Halt::CanaryFailed => "canary-failed".to_owned(),
    });
    let failures = result.failures();
    let counted: Vec<String> = result
        .counts
        .iter()
        .map(|(state, count)| format!("{count} {state}"))
        .collect();
    let message = format!(
        "{command} over {} tenant(s) of {environment}: {}",
        result.selected,
        counted.join(", ")
    );
    let mut done = match failures {
        0 => Done::ok(result, message),
        _ => {
            let failure = Failure::new(message)
                .cause(format!("{failures} tenant(s) failed; every entry in result.tenants says why and how to recover"))
                .help(format!("Fix them, then run the same command again: tenants already done cost one check (or name them: faber-db {command} {environment} --tenant KEY)"));
            Done::failed(result, failure)
        }
    };
    match halt {
        Some(Halt::CanaryDone) => {
            done = done.next(format!(
                "Look at the canary tenants, then go on: faber-db {command} {environment} (tenants already done cost one check)"
            ))
        }
        Some(Halt::CanaryFailed) => {
            done = done.next("The canary failed: nothing after it was started".to_owned())
        }
        Some(Halt::MaxFailures) => {
            done = done.next("--max-failures was exceeded: no new tenant was started after it".to_owned())
        }
        None => {}
    }
    done
}
