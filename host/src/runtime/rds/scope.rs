//! Which cloud resources belong to an environment. A cloud handler reads and
//! creates through the host, and the host lets it reach only these: the
//! identifiers derived from the environment's base identifier, and among
//! them only resources not tagged for another project or environment.

use crate::runtime::contract::Tag;

pub const TAG_MANAGED_BY: &str = "managed-by";
pub const TAG_PROJECT: &str = "faber-db:project";
pub const TAG_ENVIRONMENT: &str = "faber-db:environment";
const MANAGED_BY: &str = "faber-db";

/// RDS's longest cluster or instance identifier.
pub const MAX_IDENTIFIER: usize = 63;

#[derive(Debug, Clone)]
pub struct Scope {
    /// Lowercase: RDS identifiers are case-insensitive.
    base: String,
    project: String,
    environment: String,
}

impl Scope {
    /// `base` is the environment's own identifier (see [`base_identifier`]).
    pub fn new(base: &str, project: &str, environment: &str) -> Scope {
        Scope {
            base: base.to_ascii_lowercase(),
            project: project.to_owned(),
            environment: environment.to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The rule in words, for refusals and help lines.
    pub fn describe(&self) -> String {
        format!("{base} and {base}-<suffix>", base = self.base)
    }

    /// `base` itself or `base-<suffix>`: a prefix alone (`base2`) is another
    /// environment's name, not a part of this one.
    pub fn contains(&self, identifier: &str) -> bool {
        let identifier = identifier.to_ascii_lowercase();
        match identifier.strip_prefix(&self.base) {
            Some("") => true,
            Some(rest) => rest
                .strip_prefix('-')
                .is_some_and(|suffix| !suffix.is_empty()),
            None => false,
        }
    }

    /// Why `identifier` may not be touched, if it may not.
    pub fn check(&self, identifier: &str) -> Result<(), String> {
        if self.contains(identifier) {
            return Ok(());
        }
        Err(format!(
            "{identifier:?} is outside environment {}'s scope ({})",
            self.environment,
            self.describe()
        ))
    }

    /// A resource in scope by name can still be another environment's
    /// (`shop-dev-eu` is `shop-dev`'s suffix form): its faber-db tags decide.
    /// `tags` are key and value pairs, as RDS or a handler reported them.
    pub fn check_owner<'t>(
        &self,
        identifier: &str,
        tags: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) -> Result<(), String> {
        let tags: Vec<(&str, &str)> = tags.into_iter().collect();
        let owners = [
            (TAG_PROJECT, "project", &self.project),
            (TAG_ENVIRONMENT, "environment", &self.environment),
        ];
        for (key, what, ours) in owners {
            if let Some((_, value)) = tags.iter().find(|(tag, _)| *tag == key)
                && value != ours
            {
                return Err(format!(
                    "{identifier:?} belongs to {what} {value:?} (tag {key}), not {ours:?}"
                ));
            }
        }
        Ok(())
    }

    /// `tags` with the host's own ownership tags, replacing any value the
    /// handler gave those keys: what marks a resource as this environment's
    /// must not be the handler's to choose.
    pub fn tag(&self, mut tags: Vec<Tag>) -> Vec<Tag> {
        let ours = [
            (TAG_MANAGED_BY, MANAGED_BY),
            (TAG_PROJECT, self.project.as_str()),
            (TAG_ENVIRONMENT, self.environment.as_str()),
        ];
        tags.retain(|tag| !ours.iter().any(|(key, _)| tag.key == *key));
        tags.extend(ours.into_iter().map(|(key, value)| Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        }));
        tags
    }
}

/// `<project>-<environment>` as an RDS identifier: lowercase ASCII letters,
/// digits and single hyphens, starting with a letter, no trailing hyphen, at
/// most `max` characters. The same rule the AWS handler names resources by,
/// kept here so that the boundary does not depend on the handler's word.
pub fn base_identifier(project: &str, environment: &str, max: usize) -> String {
    let mut identifier = String::new();
    for c in format!("{project}-{environment}").chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            identifier.push(c);
        } else if !identifier.is_empty() && !identifier.ends_with('-') {
            identifier.push('-');
        }
    }
    if !identifier.starts_with(|c: char| c.is_ascii_lowercase()) {
        identifier.insert_str(0, "db-");
    }
    identifier.truncate(max);
    identifier.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &str, value: &str) -> Tag {
        Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn the_base_and_its_suffixes_are_in_scope_nothing_else() {
        let scope = Scope::new("shop-dev", "shop", "dev");
        for inside in ["shop-dev", "SHOP-DEV", "shop-dev-writer", "shop-dev-a-b"] {
            assert!(scope.contains(inside), "{inside}");
        }
        for outside in [
            "shop",
            "shop-de",
            "shop-dev2",
            "shop-dev-",
            "billing-prod",
            "",
        ] {
            assert!(!scope.contains(outside), "{outside}");
        }
        let refusal = scope.check("billing-prod").unwrap_err();
        assert!(refusal.contains("billing-prod") && refusal.contains("shop-dev-<suffix>"));
    }

    #[test]
    fn a_resource_tagged_for_another_environment_is_not_ours() {
        let scope = Scope::new("shop-dev", "shop", "dev");
        assert!(scope.check_owner("shop-dev", []).is_ok());
        assert!(
            scope
                .check_owner("shop-dev", [(TAG_ENVIRONMENT, "dev"), ("team", "x")])
                .is_ok()
        );
        let refusal = scope
            .check_owner("shop-dev-eu", [(TAG_ENVIRONMENT, "dev-eu")])
            .unwrap_err();
        assert!(refusal.contains("environment \"dev-eu\""), "{refusal}");
        assert!(
            scope
                .check_owner("shop-dev", [(TAG_PROJECT, "billing")])
                .is_err()
        );
    }

    #[test]
    fn the_host_sets_the_ownership_tags_whatever_the_handler_says() {
        let scope = Scope::new("shop-dev", "shop", "dev");
        let tags = scope.tag(vec![tag(TAG_ENVIRONMENT, "prod"), tag("team", "data")]);
        let pairs: Vec<(&str, &str)> = tags
            .iter()
            .map(|tag| (tag.key.as_str(), tag.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("team", "data"),
                (TAG_MANAGED_BY, "faber-db"),
                (TAG_PROJECT, "shop"),
                (TAG_ENVIRONMENT, "dev"),
            ]
        );
    }

    #[test]
    fn base_identifiers_follow_the_rds_rules() {
        assert_eq!(base_identifier("shop", "dev", MAX_IDENTIFIER), "shop-dev");
        assert_eq!(
            base_identifier("My_App", "Prod", MAX_IDENTIFIER),
            "my-app-prod"
        );
        assert_eq!(base_identifier("--a__b", "c", MAX_IDENTIFIER), "a-b-c");
        assert_eq!(
            base_identifier("2fast", "dev", MAX_IDENTIFIER),
            "db-2fast-dev"
        );
        assert_eq!(base_identifier("abcdef", "x", 6), "abcdef");
        assert_eq!(base_identifier("abcde", "x", 6), "abcde");
    }
}
