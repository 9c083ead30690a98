//! `plan`: what provisioning would create, one line per resource plus the tags.
//! Makes no calls to AWS.

use crate::settings::{Hosting, Settings};

pub fn lines(settings: &Settings) -> Vec<String> {
    let mut lines = match settings.hosting {
        Hosting::Aurora => vec![
            format!(
                "Aurora cluster {} ({} {}{}, master user {}, RDS-managed password)",
                settings.identifier,
                settings.engine,
                settings.engine_version,
                extras(settings),
                settings.master_username,
            ),
            format!(
                "writer instance {} ({})",
                settings.writer_identifier(),
                settings.instance_class
            ),
        ],
        Hosting::Rds => vec![format!(
            "RDS instance {} ({} {}, {}, {} GiB{}, master user {}, RDS-managed password)",
            settings.identifier,
            settings.engine,
            settings.engine_version,
            settings.instance_class,
            settings.allocated_storage_gib.unwrap_or_default(),
            extras(settings),
            settings.master_username,
        )],
    };
    let tags: Vec<String> = settings
        .tags
        .iter()
        .map(|tag| format!("{}={}", tag.key, tag.value))
        .collect();
    lines.push(format!("tags: {}", tags.join(", ")));
    lines
}

/// The optional settings worth showing, each with a leading `, `.
fn extras(settings: &Settings) -> String {
    let mut extras = String::new();
    if let Some(port) = settings.port {
        extras.push_str(&format!(", port {port}"));
    }
    if let Some(database) = &settings.database_name {
        extras.push_str(&format!(", initial database {database}"));
    }
    extras
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::resolve;
    use faber_db_handler::cloud_provider::InfrastructureRequest;
    use faber_db_handler::types::Provider;

    fn plan(project: &str, environment: &str, hosting: &str, settings: &str) -> Vec<String> {
        let settings = resolve(&InfrastructureRequest {
            project: project.to_string(),
            environment: environment.to_string(),
            hosting: hosting.to_string(),
            provider: Provider::Postgresql,
            settings: settings.to_string(),
        })
        .unwrap();
        lines(&settings)
    }

    #[test]
    fn aurora_plan() {
        assert_eq!(
            plan("myapp", "production", "aws-aurora", "{}"),
            [
                "Aurora cluster myapp-production (aurora-postgresql 16.4, master user \
                 faber_admin, RDS-managed password)",
                "writer instance myapp-production-writer (db.t4g.medium)",
                "tags: faber-db:environment=production, faber-db:project=myapp, \
                 managed-by=faber-db",
            ]
        );
    }

    #[test]
    fn aurora_plan_shows_port_and_database() {
        let lines = plan(
            "myapp",
            "production",
            "aws-aurora",
            r#"{"port": 6543, "database_name": "app"}"#,
        );
        assert_eq!(
            lines[0],
            "Aurora cluster myapp-production (aurora-postgresql 16.4, port 6543, initial \
             database app, master user faber_admin, RDS-managed password)"
        );
    }

    #[test]
    fn rds_plan() {
        assert_eq!(
            plan("myapp", "dev", "aws-rds", r#"{"tags": {"team": "web"}}"#),
            [
                "RDS instance myapp-dev (postgres 16.4, db.t4g.micro, 20 GiB, master user \
                 faber_admin, RDS-managed password)",
                "tags: faber-db:environment=dev, faber-db:project=myapp, managed-by=faber-db, \
                 team=web",
            ]
        );
    }

    #[test]
    fn rds_plan_shows_port() {
        let lines = plan("myapp", "dev", "aws-rds", r#"{"port": 6543}"#);
        assert_eq!(
            lines[0],
            "RDS instance myapp-dev (postgres 16.4, db.t4g.micro, 20 GiB, port 6543, master \
             user faber_admin, RDS-managed password)"
        );
    }
}
