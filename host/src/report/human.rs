//! The readable form of a report: the step list (printed live as steps
//! complete), then the outcome, with Cargo-style `error:` / `help:` lines.

use std::io::Write;

use super::style::Style;
use super::{InitReport, Status};
use super::{StepRecord, StepStatus};

pub fn step_line(style: Style, record: &StepRecord) -> String {
    let (mark, detail) = match record.status {
        StepStatus::Done => (style.green("✓"), record.detail.clone()),
        StepStatus::Skipped => (
            style.dim("–"),
            style.dim(&format!("skipped: {}", record.detail)),
        ),
        StepStatus::Failed => (style.red("✗"), record.detail.clone()),
        StepStatus::Cancelled => (style.yellow("✗"), format!("cancelled: {}", record.detail)),
        StepStatus::NotRun => (style.dim("·"), style.dim("not run")),
    };
    format!("{:>4}. {mark} {}: {detail}", record.number, record.name)
}

pub fn print_step(record: &StepRecord) {
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        step_line(Style::for_stdout(), record)
    );
}

/// Prints what follows the live step list.
pub fn print_outcome(report: &InitReport) {
    let out = Style::for_stdout();
    let mut stdout = std::io::stdout();
    match report.status {
        Status::Success => {
            let _ = writeln!(stdout, "\n{} {}", out.green("✓"), out.bold(&report.message));
        }
        Status::Cancelled => {
            let _ = writeln!(stdout, "\n{} {}", out.yellow("✗"), report.message);
        }
        Status::Error => print_error(report),
    }
    if !report.next_steps.is_empty() {
        let _ = writeln!(stdout, "\nNext steps:");
        for next in &report.next_steps {
            let _ = writeln!(stdout, "  • {next}");
        }
    }
}

fn print_error(report: &InitReport) {
    let err = Style::for_stderr();
    let mut stderr = std::io::stderr();
    let error = report.error.as_deref().unwrap_or(&report.message);
    let _ = writeln!(stderr, "\n{} {error}", err.red(&err.bold("error:")));
    if let Some(cause) = &report.cause {
        let _ = writeln!(stderr, "  {} {cause}", err.bold("caused by:"));
    }
    if let Some(recovery) = &report.recovery {
        for cleaned in recovery.cleanup.iter().flatten() {
            let _ = writeln!(stderr, "  {} {cleaned}", err.bold("cleaned up:"));
        }
        for suggestion in &recovery.suggestions {
            let _ = writeln!(stderr, "{} {suggestion}", err.green(&err.bold("help:")));
        }
    }
}
