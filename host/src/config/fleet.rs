//! A fleet: one environment that is many databases, one per tenant.
//!
//! The configuration says where the tenant keys come from and how a key
//! becomes a database; `crate::fleet` lists and reaches them.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::failure::{Failure, Outcome};

/// The placeholder a template's tenant key replaces.
pub const TENANT: &str = "{tenant}";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// Where the tenant keys come from.
    pub tenants: TenantSource,
    /// A tenant's database: `{tenant}` replaced by its key (a database name
    /// on its server, or a SQLite file's path relative to the project).
    /// `databases_like` and `sqlite_files` derive it from their pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// A fleet spread over several servers: each server's name and the
    /// variable holding its connection string. A tenant names its server
    /// (a file's second word, a query's second column); without servers,
    /// every tenant is on the environment's own.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub servers: IndexMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TenantSource {
    /// The databases on the fleet's server(s) named like the pattern: one
    /// `%` stands for the key, every other character is literal
    /// (`tenant_%`).
    DatabasesLike(String),
    /// The SQLite files matching the pattern, relative to the project: one
    /// `*` in the file's name stands for the key (`tenants/*.db`).
    SqliteFiles(String),
    /// A file listing one tenant key per line, relative to the project
    /// (blank lines and `#` comments skipped; a second word names the
    /// tenant's server).
    File(String),
    /// A query on a catalog database: the first column is the key, an
    /// optional second the server.
    Query(CatalogQuery),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogQuery {
    /// The variable holding the catalog database's connection string.
    pub url_env: String,
    /// A read-only query, e.g. `SELECT slug FROM tenants WHERE active`.
    pub sql: String,
}

impl Fleet {
    /// The template a key goes into.
    pub fn template(&self) -> String {
        match (&self.tenants, &self.database) {
            (TenantSource::DatabasesLike(pattern), _) => pattern.replacen('%', TENANT, 1),
            (TenantSource::SqliteFiles(pattern), _) => pattern.replacen('*', TENANT, 1),
            (_, Some(template)) => template.clone(),
            (_, None) => TENANT.to_owned(),
        }
    }

    /// The database (or SQLite path) of tenant `key`.
    pub fn database_of(&self, key: &str) -> String {
        self.template().replace(TENANT, key)
    }

    /// The key a listed name stands for, if it fits the template.
    pub fn key_of<'a>(&self, name: &'a str) -> Option<&'a str> {
        let template = self.template();
        let (prefix, suffix) = template.split_once(TENANT)?;
        let key = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
        (!key.is_empty()).then_some(key)
    }

    /// A fleet whose pattern or template cannot place a tenant is refused
    /// before anything is read.
    pub fn check(&self, environment: &str) -> Outcome<()> {
        let problem = |what: String, fix: &str| {
            Err(
                Failure::new(format!("Fleet environment '{environment}': {what}"))
                    .help(fix.to_owned())
                    .help("The format is described by: faber-db config schema"),
            )
        };
        match &self.tenants {
            TenantSource::DatabasesLike(pattern) if pattern.matches('%').count() != 1 => {
                return problem(
                    format!("databases_like {pattern:?} must hold exactly one %"),
                    "Write the pattern with one % for the tenant key, e.g. \"tenant_%\"",
                );
            }
            TenantSource::SqliteFiles(pattern)
                if pattern.matches('*').count() != 1
                    || pattern
                        .rsplit('/')
                        .next()
                        .is_none_or(|file| !file.contains('*')) =>
            {
                return problem(
                    format!("sqlite_files {pattern:?} must hold exactly one *, in the file name"),
                    "Write the pattern with one * for the tenant key, e.g. \"tenants/*.db\"",
                );
            }
            TenantSource::Query(query) if query.sql.trim().is_empty() => {
                return problem(
                    "the catalog query is empty".to_owned(),
                    "Give the query that lists the tenant keys, e.g. \"SELECT slug FROM tenants\"",
                );
            }
            _ => {}
        }
        if self.template().matches(TENANT).count() != 1 {
            return problem(
                format!("database {:?} must hold {TENANT} once", self.template()),
                "Write the template with the tenant key's place, e.g. \"tenant_{tenant}\"",
            );
        }
        Ok(())
    }
}

/// A tenant key: what goes into a database name or a file name, so plain
/// letters, digits, `_` and `-`.
pub fn check_key(key: &str) -> Result<(), String> {
    let plain = !key.is_empty()
        && key.len() <= 48
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match plain {
        true => Ok(()),
        false => Err(format!(
            "tenant key {key:?} is not 1 to 48 ASCII letters, digits, `_` or `-`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(json: &str) -> Fleet {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_pattern_is_the_template_and_gives_back_its_keys() {
        let like = fleet(r#"{"tenants": {"databases_like": "tenant_%"}}"#);
        assert_eq!(like.database_of("acme"), "tenant_acme");
        assert_eq!(like.key_of("tenant_acme"), Some("acme"));
        assert_eq!(like.key_of("tenantXacme"), None);
        assert_eq!(like.key_of("tenant_"), None);
        let files = fleet(r#"{"tenants": {"sqlite_files": "tenants/*.db"}}"#);
        assert_eq!(files.database_of("acme"), "tenants/acme.db");
        assert_eq!(files.key_of("tenants/acme.db"), Some("acme"));
        let listed = fleet(r#"{"tenants": {"file": "t.txt"}, "database": "app_{tenant}_db"}"#);
        assert_eq!(listed.database_of("acme"), "app_acme_db");
    }

    #[test]
    fn patterns_that_cannot_place_a_tenant_are_refused() {
        for bad in [
            r#"{"tenants": {"databases_like": "tenant"}}"#,
            r#"{"tenants": {"databases_like": "%_%"}}"#,
            r#"{"tenants": {"sqlite_files": "*/x.db"}}"#,
            r#"{"tenants": {"file": "t.txt"}, "database": "fixed"}"#,
            r#"{"tenants": {"query": {"url_env": "C", "sql": " "}}}"#,
        ] {
            assert!(fleet(bad).check("prod").is_err(), "{bad}");
        }
        assert!(
            fleet(r#"{"tenants": {"file": "t.txt"}}"#)
                .check("p")
                .is_ok()
        );
    }

    #[test]
    fn keys_are_plain_names() {
        assert!(check_key("acme-42_x").is_ok());
        for bad in ["", "a b", "a;drop", "é", &"x".repeat(49)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }
}
