//! A resource a cloud handler asks to create, reduced to what the approval
//! prompt shows and what a real create must repeat exactly: what it is,
//! what it is called, and what it costs.

use std::fmt;

use crate::runtime::contract::{CreateCluster, CreateInstance};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Cluster,
    Instance,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cluster => "cluster",
            Kind::Instance => "instance",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub kind: Kind,
    /// Lowercase, as RDS stores it.
    pub identifier: String,
    pub engine: String,
    pub engine_version: Option<String>,
    /// Instances only.
    pub instance_class: Option<String>,
    pub allocated_storage_gib: Option<u32>,
    /// The cluster an instance joins.
    pub cluster: Option<String>,
}

impl From<&CreateCluster> for Resource {
    fn from(request: &CreateCluster) -> Resource {
        Resource {
            kind: Kind::Cluster,
            identifier: request.identifier.to_ascii_lowercase(),
            engine: request.engine.clone(),
            engine_version: request.engine_version.clone(),
            instance_class: None,
            allocated_storage_gib: None,
            cluster: None,
        }
    }
}

impl From<&CreateInstance> for Resource {
    fn from(request: &CreateInstance) -> Resource {
        Resource {
            kind: Kind::Instance,
            identifier: request.identifier.to_ascii_lowercase(),
            engine: request.engine.clone(),
            engine_version: request.engine_version.clone(),
            instance_class: Some(request.instance_class.clone()),
            allocated_storage_gib: request.allocated_storage_gib,
            cluster: request
                .cluster_identifier
                .as_deref()
                .map(str::to_ascii_lowercase),
        }
    }
}

/// One line of a plan: `instance shop-dev-writer (db.t4g.medium, aurora-postgresql 16.4, in cluster shop-dev)`.
impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut details: Vec<String> = self.instance_class.iter().cloned().collect();
        details.push(match &self.engine_version {
            Some(version) => format!("{} {version}", self.engine),
            None => self.engine.clone(),
        });
        details.extend(
            self.allocated_storage_gib
                .map(|gib| format!("{gib} GiB storage")),
        );
        details.extend(self.cluster.as_ref().map(|c| format!("in cluster {c}")));
        write!(
            f,
            "{} {} ({})",
            self.kind.as_str(),
            self.identifier,
            details.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(class: &str) -> Resource {
        Resource::from(&CreateInstance {
            identifier: "Shop-Dev-Writer".to_owned(),
            engine: "aurora-postgresql".to_owned(),
            engine_version: Some("16.4".to_owned()),
            instance_class: class.to_owned(),
            port: None,
            cluster_identifier: Some("shop-dev".to_owned()),
            allocated_storage_gib: None,
            master_username: None,
            database_name: None,
            tags: Vec::new(),
        })
    }

    #[test]
    fn a_plan_line_shows_the_class_and_engine() {
        assert_eq!(
            writer("db.t4g.medium").to_string(),
            "instance shop-dev-writer (db.t4g.medium, aurora-postgresql 16.4, in cluster shop-dev)"
        );
    }

    #[test]
    fn another_class_is_another_resource() {
        assert_eq!(writer("db.t3.medium"), writer("db.t3.medium"));
        assert_ne!(writer("db.t3.medium"), writer("db.r6g.16xlarge"));
    }
}
