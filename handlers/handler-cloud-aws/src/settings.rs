//! The request's `cloud` settings, resolved: defaults filled in, identifiers
//! checked against the RDS rules and the faber-db tags added.
//!
//! Keys the user may set in the project configuration's `cloud` section (every
//! one optional, unknown keys ignored):
//!
//! | key                     | type               | default                               |
//! |-------------------------|--------------------|---------------------------------------|
//! | `identifier`            | string             | `<project>-<environment>`, sanitized  |
//! | `engine_version`        | string             | per engine, see [`default_engine_version`] |
//! | `instance_class`        | string             | `db.t4g.medium` (Aurora), `db.t4g.micro` (RDS) |
//! | `allocated_storage_gib` | integer (RDS only) | 20                                    |
//! | `master_username`       | string             | `faber_admin`                         |
//! | `database_name`         | string             | none                                  |
//! | `port`                  | integer            | the engine's default                  |
//! | `tags`                  | object of strings  | none                                  |

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use faber_db_handler::cloud_provider::InfrastructureRequest;
use faber_db_handler::rds::Tag;
use faber_db_handler::types::{HandlerError, Provider};

/// The `database.hosting` values this handler serves.
pub const HOSTINGS: [&str; 2] = ["aws-aurora", "aws-rds"];

/// The longest identifier RDS accepts for a cluster or an instance.
const MAX_IDENTIFIER: usize = 63;
/// Appended to an Aurora cluster's identifier to name its writer instance.
const WRITER_SUFFIX: &str = "-writer";
/// The longest Aurora base identifier: the writer's must still fit.
const MAX_AURORA_BASE: usize = MAX_IDENTIFIER - WRITER_SUFFIX.len();

const DEFAULT_MASTER_USERNAME: &str = "faber_admin";
const DEFAULT_ALLOCATED_STORAGE_GIB: u32 = 20;

/// Tags every resource gets, whatever the user configured.
pub const TAG_PROJECT: &str = "faber-db:project";
pub const TAG_ENVIRONMENT: &str = "faber-db:environment";
pub const TAG_MANAGED_BY: &str = "managed-by";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hosting {
    /// An Aurora cluster plus one writer instance.
    Aurora,
    /// A standalone RDS instance.
    Rds,
}

impl Hosting {
    fn parse(hosting: &str) -> Result<Self, HandlerError> {
        match hosting {
            "aws-aurora" => Ok(Self::Aurora),
            "aws-rds" => Ok(Self::Rds),
            other => Err(HandlerError::InvalidRequest(format!(
                "hosting `{other}` is not served by handler-cloud-aws (it serves {})",
                HOSTINGS.join(", ")
            ))),
        }
    }

    fn max_base_identifier(self) -> usize {
        match self {
            Self::Aurora => MAX_AURORA_BASE,
            Self::Rds => MAX_IDENTIFIER,
        }
    }
}

/// Everything the handler needs to find or create an environment's resources.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub hosting: Hosting,
    /// The cluster (Aurora) or the instance (RDS).
    pub identifier: String,
    /// The RDS engine name, e.g. `aurora-postgresql` or `mysql`.
    pub engine: &'static str,
    pub engine_version: String,
    pub instance_class: String,
    /// RDS only; `None` for Aurora, whose storage grows on its own.
    pub allocated_storage_gib: Option<u32>,
    pub master_username: String,
    pub database_name: Option<String>,
    /// The cluster's port (Aurora) or the instance's (RDS).
    pub port: Option<u16>,
    /// Sorted by key.
    pub tags: Vec<Tag>,
}

impl Settings {
    /// The Aurora writer instance's identifier.
    pub fn writer_identifier(&self) -> String {
        format!("{}{WRITER_SUFFIX}", self.identifier)
    }
}

/// The `cloud` section as the user wrote it.
#[derive(Debug)]
struct RawSettings {
    identifier: Option<String>,
    engine_version: Option<String>,
    instance_class: Option<String>,
    allocated_storage_gib: Option<u32>,
    master_username: Option<String>,
    database_name: Option<String>,
    port: Option<u16>,
    tags: Option<BTreeMap<String, String>>,
}

impl RawSettings {
    /// Parses key by key so that an error can name the key at fault.
    fn parse(json: &str) -> Result<Self, HandlerError> {
        let value: Value = serde_json::from_str(json).map_err(|error| {
            HandlerError::InvalidRequest(format!("cloud settings are not valid JSON: {error}"))
        })?;
        let Value::Object(map) = value else {
            return Err(HandlerError::InvalidRequest(
                "cloud settings must be a JSON object".to_string(),
            ));
        };
        Ok(Self {
            identifier: key(&map, "identifier", "a string")?,
            engine_version: key(&map, "engine_version", "a string")?,
            instance_class: key(&map, "instance_class", "a string")?,
            allocated_storage_gib: key(
                &map,
                "allocated_storage_gib",
                "a whole number of GiB (0 to 4294967295)",
            )?,
            master_username: key(&map, "master_username", "a string")?,
            database_name: key(&map, "database_name", "a string")?,
            port: key(&map, "port", "a port number (0 to 65535)")?,
            tags: key(&map, "tags", "an object of string values")?,
        })
    }
}

/// One key of the settings; `null` counts as absent.
fn key<T: DeserializeOwned>(
    map: &Map<String, Value>,
    name: &str,
    expected: &str,
) -> Result<Option<T>, HandlerError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|error| {
                HandlerError::InvalidRequest(format!(
                    "cloud setting `{name}` must be {expected}: {error}"
                ))
            }),
    }
}

/// Resolves a request into the settings of the resources it means.
pub fn resolve(request: &InfrastructureRequest) -> Result<Settings, HandlerError> {
    let hosting = Hosting::parse(&request.hosting)?;
    let engine = engine(hosting, request.provider)?;
    let raw = RawSettings::parse(&request.settings)?;

    let identifier = match raw.identifier {
        Some(identifier) => {
            check_identifier(&identifier, hosting)?;
            identifier
        }
        None => default_identifier(&request.project, &request.environment, hosting),
    };

    let allocated_storage_gib = match (hosting, raw.allocated_storage_gib) {
        (Hosting::Aurora, Some(_)) => {
            return Err(HandlerError::InvalidRequest(
                "cloud setting `allocated_storage_gib` applies to aws-rds only: Aurora storage \
                 grows on its own; remove the key"
                    .to_string(),
            ));
        }
        (Hosting::Aurora, None) => None,
        (Hosting::Rds, Some(0)) => {
            return Err(HandlerError::InvalidRequest(
                "cloud setting `allocated_storage_gib` must be greater than 0".to_string(),
            ));
        }
        (Hosting::Rds, gib) => Some(gib.unwrap_or(DEFAULT_ALLOCATED_STORAGE_GIB)),
    };

    if raw.port == Some(0) {
        return Err(HandlerError::InvalidRequest(
            "cloud setting `port` must be between 1 and 65535".to_string(),
        ));
    }

    Ok(Settings {
        hosting,
        identifier,
        engine,
        engine_version: non_empty(raw.engine_version, "engine_version")?
            .unwrap_or_else(|| default_engine_version(engine).to_string()),
        instance_class: non_empty(raw.instance_class, "instance_class")?
            .unwrap_or_else(|| default_instance_class(hosting).to_string()),
        allocated_storage_gib,
        master_username: non_empty(raw.master_username, "master_username")?
            .unwrap_or_else(|| DEFAULT_MASTER_USERNAME.to_string()),
        database_name: non_empty(raw.database_name, "database_name")?,
        port: raw.port,
        tags: tags(
            raw.tags.unwrap_or_default(),
            &request.project,
            &request.environment,
        )?,
    })
}

fn non_empty(value: Option<String>, name: &str) -> Result<Option<String>, HandlerError> {
    match value {
        Some(text) if text.trim().is_empty() => Err(HandlerError::InvalidRequest(format!(
            "cloud setting `{name}` must not be empty (remove the key to use the default)"
        ))),
        other => Ok(other),
    }
}

/// The RDS engine for a hosting and a database family.
pub fn engine(hosting: Hosting, provider: Provider) -> Result<&'static str, HandlerError> {
    match (hosting, provider) {
        (Hosting::Aurora, Provider::Postgresql) => Ok("aurora-postgresql"),
        (Hosting::Aurora, Provider::Mysql) => Ok("aurora-mysql"),
        (Hosting::Rds, Provider::Postgresql) => Ok("postgres"),
        (Hosting::Rds, Provider::Mysql) => Ok("mysql"),
        (_, Provider::Sqlite) => Err(HandlerError::UnsupportedProvider(Provider::Sqlite)),
    }
}

pub fn default_engine_version(engine: &str) -> &'static str {
    match engine {
        "aurora-mysql" => "8.0.mysql_aurora.3.05.2",
        "mysql" => "8.0.39",
        // aurora-postgresql and postgres
        _ => "16.4",
    }
}

fn default_instance_class(hosting: Hosting) -> &'static str {
    match hosting {
        Hosting::Aurora => "db.t4g.medium",
        Hosting::Rds => "db.t4g.micro",
    }
}

/// `<project>-<environment>` made into a valid RDS identifier.
fn default_identifier(project: &str, environment: &str, hosting: Hosting) -> String {
    sanitize(
        &format!("{project}-{environment}"),
        hosting.max_base_identifier(),
    )
}

/// Lowercase ASCII letters, digits and single hyphens, starting with a letter,
/// not ending with a hyphen, at most `max` characters.
fn sanitize(name: &str, max: usize) -> String {
    let mut cleaned = String::with_capacity(name.len());
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        // No leading hyphen and no two in a row.
        if c == '-' && (cleaned.is_empty() || cleaned.ends_with('-')) {
            continue;
        }
        cleaned.push(c);
    }
    if !cleaned.starts_with(|c: char| c.is_ascii_lowercase()) {
        cleaned.insert_str(0, "db-");
    }
    // ASCII only by now, so byte length is character count.
    cleaned.truncate(max);
    while cleaned.ends_with('-') {
        cleaned.pop();
    }
    cleaned
}

/// Checks a user-given base identifier against the RDS rules.
fn check_identifier(identifier: &str, hosting: Hosting) -> Result<(), HandlerError> {
    let problem = if identifier.is_empty() {
        Some("must not be empty".to_string())
    } else if let Some(bad) = identifier
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        Some(format!(
            "may hold only lowercase ASCII letters, digits and hyphens (found `{bad}`)"
        ))
    } else if !identifier.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("must start with a letter".to_string())
    } else if identifier.contains("--") {
        Some("must not contain two consecutive hyphens".to_string())
    } else if identifier.ends_with('-') {
        Some("must not end with a hyphen".to_string())
    } else if identifier.len() > hosting.max_base_identifier() {
        Some(match hosting {
            Hosting::Aurora => format!(
                "must be at most {MAX_AURORA_BASE} characters for aws-aurora (the writer \
                 instance appends `{WRITER_SUFFIX}` and RDS identifiers are limited to \
                 {MAX_IDENTIFIER}); it has {}",
                identifier.len()
            ),
            Hosting::Rds => format!(
                "must be at most {MAX_IDENTIFIER} characters; it has {}",
                identifier.len()
            ),
        })
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(HandlerError::InvalidRequest(format!(
            "cloud setting `identifier` (`{identifier}`) {problem}: RDS identifiers are 1 to \
             {MAX_IDENTIFIER} lowercase letters, digits and hyphens, start with a letter, and \
             have no two consecutive hyphens and no trailing hyphen"
        ))),
    }
}

/// The user's tags plus the faber-db ones (which win), sorted by key.
fn tags(
    mut tags: BTreeMap<String, String>,
    project: &str,
    environment: &str,
) -> Result<Vec<Tag>, HandlerError> {
    if tags.keys().any(|key| key.is_empty()) {
        return Err(HandlerError::InvalidRequest(
            "cloud setting `tags` has an empty key".to_string(),
        ));
    }
    tags.insert(TAG_PROJECT.to_string(), project.to_string());
    tags.insert(TAG_ENVIRONMENT.to_string(), environment.to_string());
    tags.insert(TAG_MANAGED_BY.to_string(), "faber-db".to_string());
    Ok(tags
        .into_iter()
        .map(|(key, value)| Tag { key, value })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(hosting: &str, provider: Provider, settings: &str) -> InfrastructureRequest {
        InfrastructureRequest {
            project: "myapp".to_string(),
            environment: "production".to_string(),
            hosting: hosting.to_string(),
            provider,
            settings: settings.to_string(),
        }
    }

    fn invalid(result: Result<Settings, HandlerError>) -> String {
        match result {
            Err(HandlerError::InvalidRequest(message)) => message,
            other => panic!("expected invalid-request, got {other:?}"),
        }
    }

    fn tag_pairs(settings: &Settings) -> Vec<(&str, &str)> {
        settings
            .tags
            .iter()
            .map(|tag| (tag.key.as_str(), tag.value.as_str()))
            .collect()
    }

    #[test]
    fn aurora_defaults() {
        let settings = resolve(&request("aws-aurora", Provider::Postgresql, "{}")).unwrap();
        assert_eq!(settings.hosting, Hosting::Aurora);
        assert_eq!(settings.identifier, "myapp-production");
        assert_eq!(settings.writer_identifier(), "myapp-production-writer");
        assert_eq!(settings.engine, "aurora-postgresql");
        assert_eq!(settings.engine_version, "16.4");
        assert_eq!(settings.instance_class, "db.t4g.medium");
        assert_eq!(settings.allocated_storage_gib, None);
        assert_eq!(settings.master_username, "faber_admin");
        assert_eq!(settings.database_name, None);
        assert_eq!(settings.port, None);
        assert_eq!(
            tag_pairs(&settings),
            [
                ("faber-db:environment", "production"),
                ("faber-db:project", "myapp"),
                ("managed-by", "faber-db"),
            ]
        );
    }

    #[test]
    fn rds_defaults() {
        let settings = resolve(&request("aws-rds", Provider::Mysql, "{}")).unwrap();
        assert_eq!(settings.hosting, Hosting::Rds);
        assert_eq!(settings.identifier, "myapp-production");
        assert_eq!(settings.engine, "mysql");
        assert_eq!(settings.engine_version, "8.0.39");
        assert_eq!(settings.instance_class, "db.t4g.micro");
        assert_eq!(settings.allocated_storage_gib, Some(20));
    }

    #[test]
    fn engines_and_default_versions() {
        let cases = [
            (
                "aws-aurora",
                Provider::Postgresql,
                "aurora-postgresql",
                "16.4",
            ),
            (
                "aws-aurora",
                Provider::Mysql,
                "aurora-mysql",
                "8.0.mysql_aurora.3.05.2",
            ),
            ("aws-rds", Provider::Postgresql, "postgres", "16.4"),
            ("aws-rds", Provider::Mysql, "mysql", "8.0.39"),
        ];
        for (hosting, provider, engine, version) in cases {
            let settings = resolve(&request(hosting, provider, "{}")).unwrap();
            assert_eq!(settings.engine, engine);
            assert_eq!(settings.engine_version, version);
        }
    }

    #[test]
    fn sqlite_is_unsupported() {
        for hosting in HOSTINGS {
            assert!(matches!(
                resolve(&request(hosting, Provider::Sqlite, "{}")),
                Err(HandlerError::UnsupportedProvider(Provider::Sqlite))
            ));
        }
    }

    #[test]
    fn unknown_hosting_is_invalid() {
        let message = invalid(resolve(&request("gcp-cloudsql", Provider::Mysql, "{}")));
        assert!(message.contains("gcp-cloudsql"), "{message}");
        assert!(message.contains("aws-aurora, aws-rds"), "{message}");
    }

    #[test]
    fn user_settings_override_defaults_and_unknown_keys_are_ignored() {
        let settings = resolve(&request(
            "aws-aurora",
            Provider::Mysql,
            r#"{
                "identifier": "shop-main",
                "engine_version": "8.0.mysql_aurora.3.08.0",
                "instance_class": "db.r6g.large",
                "master_username": "root_user",
                "database_name": "shop",
                "port": 3307,
                "tags": {"team": "payments", "managed-by": "someone-else"},
                "region": "eu-west-1",
                "unused": null
            }"#,
        ))
        .unwrap();
        assert_eq!(settings.identifier, "shop-main");
        assert_eq!(settings.writer_identifier(), "shop-main-writer");
        assert_eq!(settings.engine_version, "8.0.mysql_aurora.3.08.0");
        assert_eq!(settings.instance_class, "db.r6g.large");
        assert_eq!(settings.master_username, "root_user");
        assert_eq!(settings.database_name.as_deref(), Some("shop"));
        assert_eq!(settings.port, Some(3307));
        assert_eq!(
            tag_pairs(&settings),
            [
                ("faber-db:environment", "production"),
                ("faber-db:project", "myapp"),
                ("managed-by", "faber-db"),
                ("team", "payments"),
            ]
        );
    }

    #[test]
    fn null_counts_as_absent() {
        let settings = resolve(&request(
            "aws-rds",
            Provider::Postgresql,
            r#"{"identifier": null, "allocated_storage_gib": null, "tags": null}"#,
        ))
        .unwrap();
        assert_eq!(settings.identifier, "myapp-production");
        assert_eq!(settings.allocated_storage_gib, Some(20));
    }

    #[test]
    fn rds_storage() {
        let settings = resolve(&request(
            "aws-rds",
            Provider::Postgresql,
            r#"{"allocated_storage_gib": 100}"#,
        ))
        .unwrap();
        assert_eq!(settings.allocated_storage_gib, Some(100));
        let message = invalid(resolve(&request(
            "aws-rds",
            Provider::Postgresql,
            r#"{"allocated_storage_gib": 0}"#,
        )));
        assert!(message.contains("allocated_storage_gib"), "{message}");
    }

    #[test]
    fn storage_is_refused_for_aurora() {
        let message = invalid(resolve(&request(
            "aws-aurora",
            Provider::Postgresql,
            r#"{"allocated_storage_gib": 100}"#,
        )));
        assert!(message.contains("aws-rds only"), "{message}");
    }

    #[test]
    fn port_is_accepted_for_both_hostings_but_not_zero() {
        for hosting in HOSTINGS {
            let settings =
                resolve(&request(hosting, Provider::Postgresql, r#"{"port": 6543}"#)).unwrap();
            assert_eq!(settings.port, Some(6543));
            let message = invalid(resolve(&request(
                hosting,
                Provider::Postgresql,
                r#"{"port": 0}"#,
            )));
            assert!(message.contains("`port`"), "{message}");
        }
    }

    #[test]
    fn bad_json_and_wrong_types_are_invalid() {
        let message = invalid(resolve(&request("aws-rds", Provider::Mysql, "{")));
        assert!(message.contains("not valid JSON"), "{message}");
        let message = invalid(resolve(&request("aws-rds", Provider::Mysql, "[]")));
        assert!(message.contains("JSON object"), "{message}");

        let cases = [
            (r#"{"identifier": 5}"#, "identifier"),
            (r#"{"engine_version": 16.4}"#, "engine_version"),
            (r#"{"instance_class": true}"#, "instance_class"),
            (r#"{"allocated_storage_gib": -1}"#, "allocated_storage_gib"),
            (
                r#"{"allocated_storage_gib": "20"}"#,
                "allocated_storage_gib",
            ),
            (r#"{"master_username": []}"#, "master_username"),
            (r#"{"database_name": {}}"#, "database_name"),
            (r#"{"port": 70000}"#, "port"),
            (r#"{"tags": ["a"]}"#, "tags"),
            (r#"{"tags": {"a": 1}}"#, "tags"),
        ];
        for (settings, key) in cases {
            let message = invalid(resolve(&request("aws-rds", Provider::Mysql, settings)));
            assert!(
                message.contains(&format!("`{key}`")),
                "{settings}: {message}"
            );
        }
    }

    #[test]
    fn empty_strings_are_invalid() {
        for key in [
            "engine_version",
            "instance_class",
            "master_username",
            "database_name",
        ] {
            let settings = format!(r#"{{"{key}": " "}}"#);
            let message = invalid(resolve(&request("aws-rds", Provider::Mysql, &settings)));
            assert!(message.contains(&format!("`{key}`")), "{message}");
        }
        let message = invalid(resolve(&request(
            "aws-rds",
            Provider::Mysql,
            r#"{"tags": {"": "x"}}"#,
        )));
        assert!(message.contains("empty key"), "{message}");
    }

    #[test]
    fn sanitize_follows_the_rds_rules() {
        assert_eq!(sanitize("myapp-production", 63), "myapp-production");
        assert_eq!(sanitize("My_App-Prod", 63), "my-app-prod");
        assert_eq!(sanitize("my..app--x", 63), "my-app-x");
        assert_eq!(sanitize("2024app-dev", 63), "db-2024app-dev");
        assert_eq!(sanitize("_app-dev", 63), "app-dev");
        assert_eq!(sanitize("-9-dev", 63), "db-9-dev");
        assert_eq!(sanitize("app-dev_", 63), "app-dev");
        assert_eq!(sanitize("café-prod", 63), "caf-prod");
        assert_eq!(sanitize("日本-本番", 63), "db");
        assert_eq!(sanitize("", 63), "db");
    }

    #[test]
    fn sanitize_truncates_without_a_trailing_hyphen() {
        let long = format!("{}-{}", "a".repeat(55), "b".repeat(20));
        let cut = sanitize(&long, MAX_AURORA_BASE);
        assert_eq!(cut, "a".repeat(55));
        assert_eq!(sanitize(&"x".repeat(80), 63).len(), 63);
    }

    #[test]
    fn default_identifier_leaves_room_for_the_writer() {
        let mut request = request("aws-aurora", Provider::Postgresql, "{}");
        request.project = "p".repeat(70);
        let settings = resolve(&request).unwrap();
        assert_eq!(settings.identifier.len(), 56);
        assert_eq!(settings.writer_identifier().len(), 63);
        request.hosting = "aws-rds".to_string();
        assert_eq!(resolve(&request).unwrap().identifier.len(), 63);
    }

    #[test]
    fn sanitized_identifiers_pass_the_check() {
        for name in [
            "My_App-Prod",
            "2024app",
            "--x--",
            "日本",
            "a-",
            "Z".repeat(90).as_str(),
        ] {
            for hosting in [Hosting::Aurora, Hosting::Rds] {
                let identifier = sanitize(name, hosting.max_base_identifier());
                check_identifier(&identifier, hosting).unwrap();
            }
        }
    }

    #[test]
    fn user_identifiers_that_break_the_rules_are_invalid() {
        let cases = [
            ("", "must not be empty"),
            ("MyApp", "lowercase"),
            ("my_app", "lowercase"),
            ("1app", "start with a letter"),
            ("-app", "start with a letter"),
            ("my--app", "two consecutive hyphens"),
            ("app-", "end with a hyphen"),
        ];
        for (identifier, problem) in cases {
            let settings = format!(r#"{{"identifier": "{identifier}"}}"#);
            let message = invalid(resolve(&request("aws-rds", Provider::Mysql, &settings)));
            assert!(message.contains(problem), "{identifier}: {message}");
            assert!(message.contains("`identifier`"), "{message}");
        }
    }

    #[test]
    fn identifier_length_depends_on_hosting() {
        let fifty_seven = format!(r#"{{"identifier": "{}"}}"#, "a".repeat(57));
        let message = invalid(resolve(&request(
            "aws-aurora",
            Provider::Mysql,
            &fifty_seven,
        )));
        assert!(message.contains("at most 56"), "{message}");
        assert!(message.contains("-writer"), "{message}");
        resolve(&request("aws-rds", Provider::Mysql, &fifty_seven)).unwrap();

        let sixty_four = format!(r#"{{"identifier": "{}"}}"#, "a".repeat(64));
        let message = invalid(resolve(&request("aws-rds", Provider::Mysql, &sixty_four)));
        assert!(message.contains("at most 63"), "{message}");
    }
}
