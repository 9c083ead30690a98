//! The numbered steps of `init` and the record of each one.

use std::time::Instant;

use super::approval::Stop;
use crate::failure::Failure;
use crate::report::{StepRecord, StepStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    ValidateParameters = 1,
    WorkingDirectory,
    LoadConfiguration,
    Environment,
    ConnectionString,
    Approval,
    HostingType,
    InfrastructureCheck,
    Provisioning,
    DatabaseName,
    ExistenceCheck,
    CreateDatabase,
    InitializeSchema,
    VerifyConnectivity,
    HealthCheck,
    LogOperation,
    Respond,
}

impl Step {
    pub const ALL: [Step; 17] = [
        Step::ValidateParameters,
        Step::WorkingDirectory,
        Step::LoadConfiguration,
        Step::Environment,
        Step::ConnectionString,
        Step::Approval,
        Step::HostingType,
        Step::InfrastructureCheck,
        Step::Provisioning,
        Step::DatabaseName,
        Step::ExistenceCheck,
        Step::CreateDatabase,
        Step::InitializeSchema,
        Step::VerifyConnectivity,
        Step::HealthCheck,
        Step::LogOperation,
        Step::Respond,
    ];

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            Step::ValidateParameters => "Validate parameters",
            Step::WorkingDirectory => "Set working directory",
            Step::LoadConfiguration => "Load configuration",
            Step::Environment => "Validate environment",
            Step::ConnectionString => "Verify connection string variable",
            Step::Approval => "Production safety check",
            Step::HostingType => "Determine hosting type",
            Step::InfrastructureCheck => "Check infrastructure",
            Step::Provisioning => "Provision infrastructure",
            Step::DatabaseName => "Determine database name",
            Step::ExistenceCheck => "Check database existence",
            Step::CreateDatabase => "Create database",
            Step::InitializeSchema => "Initialize schema",
            Step::VerifyConnectivity => "Verify connectivity",
            Step::HealthCheck => "Health check",
            Step::LogOperation => "Log operation",
            Step::Respond => "Return response",
        }
    }
}

/// Where the workflow stopped before its end, and why.
#[derive(Debug)]
pub struct Halt {
    pub step: Step,
    pub stop: Stop,
}

/// What a step reports when it completes normally.
pub enum Progress<T> {
    Done(T, String),
    Skipped(T, String),
}

/// Collects step records in order and hands each to an observer as it
/// completes (the human output prints them live).
pub struct Recorder {
    records: Vec<StepRecord>,
    observer: Box<dyn FnMut(&StepRecord)>,
}

impl Recorder {
    pub fn new(observer: Box<dyn FnMut(&StepRecord)>) -> Recorder {
        Recorder {
            records: Vec::new(),
            observer,
        }
    }

    pub fn record<T>(
        &mut self,
        step: Step,
        started: Instant,
        result: Result<Progress<T>, Halt>,
    ) -> Result<T, Halt> {
        let (status, detail, outcome) = match result {
            Ok(Progress::Done(value, detail)) => (StepStatus::Done, detail, Ok(value)),
            Ok(Progress::Skipped(value, detail)) => (StepStatus::Skipped, detail, Ok(value)),
            Err(Halt { stop, .. }) => {
                let (status, detail) = match &stop {
                    Stop::Failed(failure) => (StepStatus::Failed, failure.to_string()),
                    Stop::Cancelled(reason) => (StepStatus::Cancelled, reason.clone()),
                };
                (status, detail, Err(Halt { step, stop }))
            }
        };
        self.push(step, status, detail, started);
        outcome
    }

    pub fn push(&mut self, step: Step, status: StepStatus, detail: String, started: Instant) {
        let record = StepRecord {
            number: step.number(),
            name: step.name(),
            status,
            detail,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        crate::logging::info(&format!(
            "step {} {}: {} in {} ms",
            record.number,
            record.name,
            record.status.as_str(),
            record.duration_ms
        ));
        (self.observer)(&record);
        self.records.push(record);
        #[cfg(feature = "failpoints")]
        crate::failpoint::after_step(step.number());
    }

    /// Every step, with those never reached marked `not-run`.
    pub fn finish(self) -> Vec<StepRecord> {
        let mut records = self.records;
        for step in Step::ALL {
            if !records.iter().any(|record| record.number == step.number()) {
                records.push(StepRecord {
                    number: step.number(),
                    name: step.name(),
                    status: StepStatus::NotRun,
                    detail: String::new(),
                    duration_ms: 0,
                });
            }
        }
        records.sort_by_key(|record| record.number);
        records
    }
}

impl From<Failure> for Halt {
    /// The step is filled in by [`Recorder::record`].
    fn from(failure: Failure) -> Halt {
        Halt {
            step: Step::ValidateParameters,
            stop: Stop::Failed(failure),
        }
    }
}
