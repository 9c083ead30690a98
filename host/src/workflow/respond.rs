//! How a run ends, whatever happened (cleanup after a failure has run by
//! then, see [`super::undo`]): log the operation (step 16) and build the
//! response (step 17).

use std::time::Instant;

use super::approval::Stop;
use super::steps::{Halt, Step};
use super::{Init, oplog};
use crate::failure::Failure;
use crate::provider::Provider;
use crate::report::{InitReport, InitResult, Recovery, Report, Status, StepRef, StepStatus};

impl Init {
    /// Releases the project lock, logs the operation (step 16) and builds
    /// the response (step 17) with what cleanup did.
    pub(super) async fn finish(mut self, outcome: Result<Vec<String>, Halt>) -> InitReport {
        // Other runs may touch the migrations folder only after the cleanup.
        self.undo.lock = None;
        let cleanup = std::mem::take(&mut self.cleanup);

        let (status, message, failure, failed_step, handler_next_steps) = match outcome {
            Ok(next_steps) => (
                Status::Success,
                self.success_message(),
                None,
                None,
                next_steps,
            ),
            Err(Halt {
                step,
                stop: Stop::Failed(failure),
            }) => (
                Status::Error,
                failure.error.clone(),
                Some(failure),
                Some(step),
                Vec::new(),
            ),
            Err(Halt {
                step,
                stop: Stop::Cancelled(reason),
            }) => (
                Status::Cancelled,
                format!("Operation cancelled: {reason}"),
                None,
                Some(step),
                Vec::new(),
            ),
        };
        self.log_operation(status, failure.as_ref());
        self.steps.push(
            Step::Respond,
            StepStatus::Done,
            status.as_str().to_owned(),
            Instant::now(),
        );

        let mut result = self.result;
        result.steps = self.steps.finish();
        let next_steps = if status == Status::Success {
            next_steps(&result, handler_next_steps)
        } else {
            Vec::new()
        };
        let step = failed_step.map(|step| StepRef {
            number: step.number(),
            name: step.name(),
        });
        let (error, cause, recovery) = match failure {
            Some(failure) => (
                Some(failure.error),
                (!failure.causes.is_empty()).then(|| failure.causes.join(": ")),
                Some(Recovery {
                    suggestions: failure.suggestions,
                    cleanup: Some(cleanup),
                }),
            ),
            None => (None, None, None),
        };
        Report {
            status,
            operation: "initialize-database",
            result: Some(result),
            message,
            next_steps,
            error,
            cause,
            step,
            recovery,
        }
    }

    // Step 16.
    fn log_operation(&mut self, status: Status, failure: Option<&Failure>) {
        let started = Instant::now();
        let (Some(plugin), Some(project)) = (self.logs_plugin.as_deref(), self.project.as_deref())
        else {
            self.steps.push(
                Step::LogOperation,
                StepStatus::Skipped,
                "integration.logs_plugin is not configured".to_owned(),
                started,
            );
            return;
        };
        let record = oplog::Record {
            database_name: self.result.database_name.as_deref(),
            error: failure.map(|failure| failure.error.as_str()),
            handler_sql: self.result.handler_sql,
            dry_run: self.options.dry_run,
            ..oplog::Record::new(
                "initialize-database",
                &self.options.environment,
                status,
                self.started,
                plugin,
            )
            .session(self.result.handler_session.as_ref())
        };
        let (state, detail) = match oplog::append(project, &record) {
            Ok(path) if self.options.dry_run => (
                StepStatus::Done,
                format!(
                    "appended a dry run record (\"dry_run\": true) to {}",
                    path.display()
                ),
            ),
            Ok(path) => (StepStatus::Done, format!("appended to {}", path.display())),
            Err(err) => (
                StepStatus::Failed,
                format!("could not write the operation log: {err}"),
            ),
        };
        self.steps.push(Step::LogOperation, state, detail, started);
    }

    fn success_message(&self) -> String {
        let name = self.result.database_name.as_deref().unwrap_or_default();
        if self.options.dry_run {
            format!("Dry run: database {name} would be initialized; nothing was changed")
        } else {
            format!("Database {name} initialized successfully")
        }
    }
}

/// The handler speaks for its migration tool; a handler that says nothing
/// (one built for faber:db@0.1.0) gets generic advice.
fn next_steps(result: &InitResult, from_handler: Vec<String>) -> Vec<String> {
    if result.dry_run {
        return vec![format!(
            "Run it for real: faber-db init {}",
            result.environment
        )];
    }
    let mut steps = application_connection(result);
    if !from_handler.is_empty() {
        // A handler does not know the environment; its steps say where it goes.
        steps.extend(
            from_handler
                .into_iter()
                .map(|step| step.replace("<environment>", &result.environment)),
        );
        return steps;
    }
    let folder = result
        .migrations_directory
        .as_deref()
        .unwrap_or("the migrations folder");
    if !result.pending_migrations.is_empty() {
        steps.push(format!(
            "{} migration(s) in {folder} are not applied to this database yet",
            result.pending_migrations.len()
        ));
    }
    steps.push(format!(
        "Create your first migration in {folder} with your migration tool, then apply it to {}",
        result.environment
    ));
    steps
}

/// For a connection the host built from the infrastructure: how the
/// application gets its own, without a password passing through a terminal.
fn application_connection(result: &InitResult) -> Vec<String> {
    let Some(connection) = &result.connection else {
        return Vec::new();
    };
    let scheme = match result.provider {
        Some(Provider::Mysql) => "mysql",
        _ => "postgresql",
    };
    let database = result.database_name.as_deref().unwrap_or_default();
    let address = format!(
        "{scheme}://{}@{}:{}/{database}",
        connection.user, connection.endpoint, connection.port
    );
    let region = connection.region.as_deref().unwrap_or("<region>");
    match &connection.secret_arn {
        Some(arn) => vec![
            format!(
                "Connect the application to {address} over TLS, with the password kept in AWS Secrets Manager as {arn}; RDS rotates it, so read it when the application starts rather than copying it"
            ),
            format!(
                "For example at start-up: DATABASE_PASSWORD=\"$(aws secretsmanager get-secret-value --secret-id {arn} --region {region} --query SecretString --output text | jq -r .password)\"; on ECS, EKS or Lambda, reference the secret's ARN in the service's configuration instead"
            ),
            "Better still, give the application a database user of its own with only the privileges it needs, rather than the master user".to_owned(),
        ],
        None => vec![format!(
            "Connect the application to {address} over TLS with an IAM token as the password, made when it connects (tokens last 15 minutes): aws rds generate-db-auth-token --hostname {} --port {} --username {} --region {region}",
            connection.endpoint, connection.port, connection.user
        )],
    }
}
