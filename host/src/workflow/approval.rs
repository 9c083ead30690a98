//! Step 6: explicit approval before touching a protected environment.

use std::io::{BufRead, IsTerminal, Write};

use crate::failure::Failure;
use crate::report::style::Style;

pub enum Approval {
    NotNeeded,
    Approved(&'static str),
    Declined,
}

pub struct Request<'a> {
    pub environment: &'a str,
    pub database: &'a str,
    pub protected: bool,
    pub approved_by_flag: bool,
    pub dry_run: bool,
    /// The environment runs handlers with the connection's own privileges.
    pub unconfined_handlers: bool,
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
            "Re-run with --approve to approve: faber-db init {} --approve",
            request.environment
        )));
    }
    prompt(request)
}

fn prompt(request: &Request<'_>) -> Result<Approval, Failure> {
    let style = Style::for_stderr();
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "\n{}\n\nOperation: Create Database\nEnvironment: {}\nDatabase: {}\n\n\
         This will create a new {} database.{}\n\n\
         Proceed with {} database creation?\n1. Yes, proceed\n2. No, cancel operation\n\nEnter choice: ",
        style.yellow(&style.bold("⚠️  PRODUCTION OPERATION REQUIRES APPROVAL")),
        request.environment,
        request.database,
        request.environment,
        if request.unconfined_handlers {
            "\nHandlers run with the connection's own privileges (handler_privileges: \"connection\")."
        } else {
            ""
        },
        request.environment,
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
