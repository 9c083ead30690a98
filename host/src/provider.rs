//! The database engines faber-db speaks to: everyone's vocabulary, so it
//! depends on nothing in the crate.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    #[serde(alias = "postgres")]
    Postgresql,
    #[serde(alias = "mariadb")]
    Mysql,
    #[default]
    Sqlite,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Postgresql, Provider::Mysql, Provider::Sqlite];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Postgresql => "postgresql",
            Provider::Mysql => "mysql",
            Provider::Sqlite => "sqlite",
        }
    }

    /// The provider a name (any case, an alias included) stands for.
    pub fn parse(name: &str) -> Option<Provider> {
        serde_json::from_value(serde_json::Value::String(name.to_ascii_lowercase())).ok()
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
