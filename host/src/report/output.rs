//! How every command but `init` ends: what it did ([`Done`], or the
//! [`Failure`] that stopped it) becomes the one report envelope
//! ([`super::Report`]), printed as JSON, as one NDJSON line or readably.
//! (`init` builds the same envelope with its failed step and cleanup, in
//! `workflow/respond.rs`.)

use serde::Serialize;

use super::style::Style;
use super::{Recovery, Report, Status};
use crate::failure::Failure;

/// What a command produced when it did its job (possibly finding problems:
/// `ok: false` makes the status `error` while still showing the result,
/// with `failure`'s cause and help when given; `cancelled` makes it
/// `cancelled`).
pub struct Done<R> {
    pub result: R,
    pub ok: bool,
    pub message: String,
    pub next_steps: Vec<String>,
    pub failure: Option<Failure>,
    pub cancelled: bool,
}

impl<R> Done<R> {
    pub fn ok(result: R, message: impl Into<String>) -> Done<R> {
        Done {
            result,
            ok: true,
            message: message.into(),
            next_steps: Vec::new(),
            failure: None,
            cancelled: false,
        }
    }

    /// The command stopped with `failure`, having got as far as `result`.
    pub fn failed(result: R, failure: Failure) -> Done<R> {
        Done {
            result,
            ok: false,
            message: failure.error.clone(),
            next_steps: Vec::new(),
            failure: Some(failure),
            cancelled: false,
        }
    }

    pub fn cancelled(result: R, message: impl Into<String>) -> Done<R> {
        Done {
            result,
            ok: false,
            message: message.into(),
            next_steps: Vec::new(),
            failure: None,
            cancelled: true,
        }
    }

    pub fn next(mut self, step: impl Into<String>) -> Done<R> {
        self.next_steps.push(step.into());
        self
    }
}

/// Prints the outcome (JSON, or `human` then the message) and returns the exit code.
pub fn emit<R: Serialize>(
    json: bool,
    operation: &'static str,
    outcome: Result<Done<R>, Failure>,
    human: impl Fn(&R),
) -> i32 {
    let report = report(operation, outcome);
    if json {
        print_json(&report);
    } else {
        print_human(&report, human);
    }
    report.status.exit_code()
}

/// [`emit`]'s JSON document on one line: the last line of `--output ndjson`.
pub fn emit_line<R: Serialize>(operation: &'static str, outcome: Result<Done<R>, Failure>) -> i32 {
    let report = report(operation, outcome);
    match serde_json::to_string(&report) {
        Ok(line) => println!("{line}"),
        Err(err) => eprintln!("error: cannot render the report: {err}"),
    }
    report.status.exit_code()
}

fn report<R: Serialize>(operation: &'static str, outcome: Result<Done<R>, Failure>) -> Report<R> {
    match outcome {
        Ok(done) => {
            let status = match (done.ok, done.cancelled) {
                (_, true) => Status::Cancelled,
                (true, false) => Status::Success,
                (false, false) => Status::Error,
            };
            let (cause, recovery) = match done.failure {
                Some(failure) => (
                    (!failure.causes.is_empty()).then(|| failure.causes.join(": ")),
                    Some(Recovery {
                        suggestions: failure.suggestions,
                        cleanup: None,
                    }),
                ),
                None => (None, None),
            };
            Report {
                status,
                operation,
                error: (status == Status::Error).then(|| done.message.clone()),
                result: Some(done.result),
                message: done.message,
                next_steps: done.next_steps,
                cause,
                step: None,
                recovery,
            }
        }
        Err(failure) => Report {
            status: Status::Error,
            operation,
            result: None,
            message: failure.error.clone(),
            next_steps: Vec::new(),
            error: Some(failure.error),
            cause: (!failure.causes.is_empty()).then(|| failure.causes.join(": ")),
            step: None,
            recovery: Some(Recovery {
                suggestions: failure.suggestions,
                cleanup: None,
            }),
        },
    }
}

/// A usage error as one JSON document (operation `usage`), for a command
/// line that asked for JSON; returns clap's exit code for it, 2.
pub fn usage_error(error: String, suggestions: Vec<String>) -> i32 {
    let report: Report<()> = Report {
        status: Status::Error,
        operation: "usage",
        result: None,
        message: error.clone(),
        next_steps: Vec::new(),
        error: Some(error),
        cause: None,
        step: None,
        recovery: Some(Recovery {
            suggestions,
            cleanup: None,
        }),
    };
    print_json(&report);
    2
}

fn print_human<R: Serialize>(report: &Report<R>, human: impl Fn(&R)) {
    if let Some(result) = &report.result {
        human(result);
    }
    if report.status == Status::Success {
        let style = Style::for_stdout();
        println!("{} {}", style.green("✓"), report.message);
    } else if report.status == Status::Cancelled {
        let style = Style::for_stderr();
        eprintln!(
            "{} {}",
            style.yellow(&style.bold("cancelled:")),
            report.message
        );
    } else {
        let style = Style::for_stderr();
        eprintln!("{} {}", style.red(&style.bold("error:")), report.message);
        if let Some(cause) = &report.cause {
            eprintln!("  {} {cause}", style.bold("caused by:"));
        }
        for suggestion in report.recovery.iter().flat_map(|r| &r.suggestions) {
            eprintln!("{} {suggestion}", style.green(&style.bold("help:")));
        }
    }
    if !report.next_steps.is_empty() {
        println!("\nNext steps:");
        for next in &report.next_steps {
            println!("  • {next}");
        }
    }
}

/// Prints a JSON document on stdout.
pub fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(err) => eprintln!("error: cannot render the report: {err}"),
    }
}
