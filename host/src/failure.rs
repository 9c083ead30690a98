//! The one error type the user sees: what went wrong, why, and what to do next.
//!
//! Shaped after Cargo's output (`error:`, `caused by:`, `help:`); the JSON report
//! carries the same as `error`, `cause` and `recovery.suggestions`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// One line, the headline: "Database already exists".
    pub error: String,
    /// The chain of causes, outermost first.
    pub causes: Vec<String>,
    /// Concrete next steps, each a sentence or a command.
    pub suggestions: Vec<String>,
}

impl Failure {
    pub fn new(error: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            causes: Vec::new(),
            suggestions: Vec::new(),
        }
    }

    pub fn cause(mut self, cause: impl fmt::Display) -> Failure {
        self.causes.push(cause.to_string());
        self
    }

    pub fn help(mut self, suggestion: impl Into<String>) -> Failure {
        self.suggestions.push(suggestion.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        for cause in &self.causes {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

pub type Outcome<T> = Result<T, Failure>;
