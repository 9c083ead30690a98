//! Explicit approval before touching a protected environment: the database
//! (init's step 6) and, for cloud hosting, the resources provisioning would
//! create (step 9, once their plan is known); the migrations `migrate` would
//! apply, with their destructive statements; a `resolve`.

use std::io::{BufRead, IsTerminal, Write};

use crate::failure::Failure;
use crate::report::Status;
use crate::report::style::Style;

pub enum Approval {
    NotNeeded,
    Approved(&'static str),
    Declined,
}

pub struct Request<'a> {
    /// The command, for the `--approve` example (`init`, `migrate`, …).
    pub command: &'a str,
    pub environment: &'a str,
    pub operation: Operation<'a>,
    pub protected: bool,
    pub approved_by_flag: bool,
    pub dry_run: bool,
}

pub enum Operation<'a> {
    CreateDatabase {
        database: &'a str,
        /// The environment runs handlers with the connection's own privileges.
        unconfined_handlers: bool,
    },
    /// The rehearsed plan, one line per resource.
    Provision { plan: &'a [String] },
    /// Migrations to apply, oldest first, and the statements among them
    /// flagged as destructive (one line each).
    Migrate {
        database: &'a str,
        migrations: &'a [String],
        flagged: &'a [String],
    },
    /// `resolve --applied` or `--rolled-back` of one migration.
    Resolve {
        database: &'a str,
        migration: &'a str,
        resolution: &'a str,
    },
}

/// How a run stopped before its end: a failure, or a cancellation (an
/// approval declined), which every report tells apart.
#[derive(Debug)]
pub enum Stop {
    Failed(Failure),
    Cancelled(String),
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Stop {
        Stop::Failed(failure)
    }
}

impl Stop {
    pub fn status(&self) -> Status {
        match self {
            Stop::Failed(_) => Status::Error,
            Stop::Cancelled(_) => Status::Cancelled,
        }
    }
}

/// The approval `request` needs: how it was given, `None` when none is
/// needed, a cancellation when it was declined.
pub fn require(request: &Request<'_>) -> Result<Option<&'static str>, Stop> {
    match ask(request)? {
        Approval::NotNeeded => Ok(None),
        Approval::Approved(how) => Ok(Some(how)),
        Approval::Declined => Err(Stop::Cancelled(
            "approval declined; nothing was changed".to_owned(),
        )),
    }
}

pub fn ask(request: &Request<'_>) -> Result<Approval, Failure> {
    if !request.protected {
        return Ok(Approval::NotNeeded);
    }
    if request.approved_by_flag {
        return Ok(Approval::Approved("approved with --approve"));
    }
    if request.dry_run {
        return Ok(Approval::Approved("dry run: nothing will be changed"));
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Failure::new(format!(
            "Environment {} is protected and needs approval",
            request.environment
        ))
        .cause("no terminal to ask on")
        .help(format!(
            "Re-run with --approve to approve: faber-db {} {} --approve",
            request.command, request.environment
        )));
    }
    prompt(request)
}

fn prompt(request: &Request<'_>) -> Result<Approval, Failure> {
    let style = Style::for_stderr();
    let environment = request.environment;
    let (operation, subject, question) = match &request.operation {
        Operation::CreateDatabase {
            database,
            unconfined_handlers,
        } => (
            "Create Database",
            format!(
                "Database: {database}\n\nThis will create a new {environment} database.{}",
                if *unconfined_handlers {
                    "\nHandlers run with the connection's own privileges (handler_privileges: \"connection\")."
                } else {
                    ""
                }
            ),
            format!("Proceed with {environment} database creation?"),
        ),
        Operation::Provision { plan } => (
            "Provision Infrastructure",
            format!("This will create, in the cloud account:\n{}", bullets(plan)),
            format!("Proceed with creating {environment}'s infrastructure?"),
        ),
        Operation::Migrate {
            database,
            migrations,
            flagged,
        } => (
            "Apply Migrations",
            format!(
                "Database: {database}\n\nThis will apply {} migration(s), oldest first:\n{}{}",
                migrations.len(),
                bullets(migrations),
                if flagged.is_empty() {
                    "\n\nNo statement is flagged as destructive.".to_owned()
                } else {
                    format!(
                        "\n\n{} {} flagged as destructive:\n{}",
                        style.yellow(&style.bold("⚠️")),
                        flagged.len(),
                        bullets(flagged)
                    )
                }
            ),
            format!("Apply these migrations to {environment}?"),
        ),
        Operation::Resolve {
            database,
            migration,
            resolution,
        } => (
            "Resolve Migration",
            format!(
                "Database: {database}\n\nThis will record {migration} as {resolution} without running any SQL."
            ),
            format!("Record it in {environment}?"),
        ),
    };
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "\n{}\n\nOperation: {operation}\nEnvironment: {environment}\n{subject}\n\n\
         {question}\n1. Yes, proceed\n2. No, cancel operation\n\nEnter choice: ",
        style.yellow(&style.bold("⚠️  PRODUCTION OPERATION REQUIRES APPROVAL")),
    );
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|err| Failure::new("Cannot read the answer").cause(err))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "1" | "y" | "yes" => Ok(Approval::Approved("approved at the prompt")),
        _ => Ok(Approval::Declined),
    }
}

fn bullets(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| format!("  - {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
