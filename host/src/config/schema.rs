//! The published JSON Schema of the configuration (`faber-db config schema`).

pub const SCHEMA: &str = include_str!("../../schema/config.schema.json");

#[cfg(test)]
mod tests {
    #[test]
    fn schema_is_valid_json() {
        let schema: serde_json::Value = serde_json::from_str(super::SCHEMA).unwrap();
        assert_eq!(schema["required"][0], "database");
    }

    #[test]
    fn the_sandbox_defaults_in_the_schema_are_the_runtimes() {
        let schema: serde_json::Value = serde_json::from_str(super::SCHEMA).unwrap();
        let documented = &schema["properties"]["sandbox"]["properties"];
        let defaults = serde_json::to_value(crate::config::SandboxSection::defaults()).unwrap();
        for key in ["memory_mib", "fuel", "timeout_seconds"] {
            assert_eq!(documented[key]["default"], defaults[key], "{key}");
            assert!(documented[key]["description"].is_string(), "{key}");
        }
    }
}
