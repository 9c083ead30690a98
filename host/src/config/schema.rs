//! The published JSON Schema of the configuration (`faber-db config schema`).

pub const SCHEMA: &str = include_str!("../../schema/config.schema.json");

#[cfg(test)]
mod tests {
    #[test]
    fn schema_is_valid_json() {
        let schema: serde_json::Value = serde_json::from_str(super::SCHEMA).unwrap();
        assert_eq!(schema["required"][0], "database");
    }
}
