//! Reading the configuration, with errors that point at the file, line, column
//! and key.

use std::path::Path;

use super::{Config, config_path};
use crate::failure::{Failure, Outcome};

/// Configuration files are small; anything larger is a mistake (or an attack)
/// and is refused before it is parsed.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

pub fn load(project: &Path) -> Outcome<Config> {
    let path = config_path(project);
    let shown = path.display();
    let metadata = std::fs::metadata(&path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::NotFound {
            Failure::new(format!("Configuration not found: {shown}"))
                .help(format!(
                    "Create it with: faber-db config init --cwd {}",
                    project.display()
                ))
                .help("Or point faber-db at the project directory with --cwd DIR or FABER_DB_CWD")
        } else {
            Failure::new(format!("Cannot read configuration {shown}")).cause(err)
        }
    })?;
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(Failure::new(format!("Configuration too large: {shown}"))
            .cause(format!(
                "{} bytes, the limit is {MAX_CONFIG_BYTES}",
                metadata.len()
            ))
            .help("Check that the file is the faber-db configuration and not generated data"));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|err| Failure::new(format!("Cannot read configuration {shown}")).cause(err))?;
    parse(&text).map_err(|problem| {
        Failure::new(format!("Invalid configuration {shown}:{problem}"))
            .help(format!("Fix the value at that position in {shown}"))
            .help("The format is described by: faber-db config schema")
    })
}

/// Parses the text of a configuration; the error reads `LINE:COLUMN: …`.
pub fn parse(text: &str) -> Result<Config, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let config: Config = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.inner();
        let position = format!("{}:{}", inner.line(), inner.column());
        let message = strip_position(&inner.to_string());
        if path == "." || path.is_empty() {
            format!("{position}: {message}")
        } else {
            format!("{position}: key `{path}`: {message}")
        }
    })?;
    deserializer.end().map_err(|err| {
        format!(
            "{}:{}: {}",
            err.line(),
            err.column(),
            strip_position(&err.to_string())
        )
    })?;
    Ok(config)
}

/// serde_json appends " at line L column C"; the position is shown separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn assert_parses_or_names_a_position(
        text: &str,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        if let Err(message) = parse(text) {
            let mut position = message.splitn(3, ':');
            let line: usize = position.next().unwrap_or_default().parse().unwrap_or(0);
            let column: usize = position.next().unwrap_or_default().parse().unwrap_or(0);
            let lines = text.split('\n').count().max(1);
            proptest::prop_assert!(
                (1..=lines).contains(&line) || (line == 0 && column == 0 && text.is_empty()),
                "{} for {} line(s): {:?}",
                message,
                lines,
                text
            );
        }
        Ok(())
    }

    #[test]
    fn accepts_unknown_keys_and_fills_defaults() {
        let config = parse(
            r#"{"database": {"provider": "postgresql", "extra": 1},
                "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"}},
                "notifications": {"slack": true}}"#,
        )
        .unwrap();
        assert_eq!(config.database.migration_tool, "prisma");
        assert!(!config.environments["dev"].require_approval);
        assert_eq!(config.migrations.directory(), "prisma/migrations");
    }

    #[test]
    fn wrong_type_names_line_column_and_key() {
        let error = parse(
            "{\n  \"database\": {\"provider\": \"sqlite\"},\n  \"environments\": {\"dev\": {\"connection_string_env\": \"X\", \"require_approval\": \"yes\"}}\n}",
        )
        .unwrap_err();
        assert!(error.starts_with("3:"), "{error}");
        assert!(
            error.contains("environments.dev.require_approval"),
            "{error}"
        );
    }

    #[test]
    fn syntax_error_names_position() {
        let error = parse("{\n  \"database\": {,}\n}").unwrap_err();
        assert!(error.starts_with("2:"), "{error}");
    }

    proptest::proptest! {
        /// Any text is either a configuration or an error that points at a
        /// line and column within the text.
        #[test]
        fn any_text_parses_or_names_a_position_inside_it(text in ".*") {
            assert_parses_or_names_a_position(&text)?;
        }

        #[test]
        fn json_shaped_text_parses_or_names_a_position_inside_it(text in r#"[{}\[\]",:0-9a-z_ .-]{0,400}"#) {
            assert_parses_or_names_a_position(&text)?;
        }

        /// What parses, written back out, parses to the same configuration.
        #[test]
        fn a_parsed_configuration_round_trips(
            provider in "postgresql|postgres|mysql|mariadb|sqlite",
            environment in "[a-z][a-z0-9_-]{0,20}",
            variable in "[A-Z_][A-Z0-9_]{0,30}",
            approval in proptest::bool::ANY,
        ) {
            let mut environments = serde_json::Map::new();
            environments.insert(
                environment.clone(),
                serde_json::json!({"connection_string_env": variable, "require_approval": approval}),
            );
            let text = serde_json::json!({"database": {"provider": provider}, "environments": environments})
                .to_string();
            let config = parse(&text).unwrap();
            let again = parse(&serde_json::to_string(&config).unwrap()).unwrap();
            proptest::prop_assert_eq!(config.database.provider, again.database.provider);
            proptest::prop_assert_eq!(config.environments[&environment].connection_string_env.as_deref(), Some(variable.as_str()));
            proptest::prop_assert_eq!(again.environments[&environment].require_approval, approval);
        }
    }

    #[test]
    fn deep_nesting_never_overflows_the_stack() {
        let deep = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // Skipped without recursion when under an unknown key…
        assert!(parse(&format!("{{\"database\": {{}}, \"x\": {}}}", deep(100_000))).is_ok());
        // …and refused, with a position, where a value is read.
        let error = parse(&format!("{{\"database\": {}}}", deep(100_000))).unwrap_err();
        assert!(error.starts_with("1:"), "{error}");
    }
}
