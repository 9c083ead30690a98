//! Values read out of a migration tool's own configuration files (a
//! `*.config.ts`, a JSON file, a schema) without running them: the string
//! given to a key, and the environment variable a URL is read from. The
//! host reads Prisma's files with this same module.

/// The variable named after `url` and `separator` (`:` in a config, `=` in
/// a schema): `env("X")`, `process.env.X` or `process.env["X"]`.
pub fn url_variable(text: &str, separator: char) -> Option<String> {
    text.match_indices("url").find_map(|(at, _)| {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let rest = text[at + 3..]
            .trim_start()
            .strip_prefix(separator)?
            .trim_start();
        let name = if let Some(inner) = rest.strip_prefix("env(") {
            inner.trim_start().strip_prefix(['"', '\''])?
        } else if let Some(inner) = rest.strip_prefix("process.env") {
            inner
                .strip_prefix('.')
                .or_else(|| inner.strip_prefix('[')?.strip_prefix(['"', '\'']))?
        } else {
            return None;
        };
        let end = name
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(name.len());
        Some(name[..end].to_owned()).filter(|name| !name.is_empty())
    })
}

/// The string literals given to `key:` (or, in JSON, `"key":`) in a
/// configuration's text, in order.
pub fn quoted_values<'a>(text: &'a str, key: &'a str) -> impl Iterator<Item = &'a str> {
    text.match_indices(key).filter_map(move |(at, _)| {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            return None;
        }
        let rest = after_key(&text[at + key.len()..], before)?;
        let rest = rest.trim_start();
        let quote = rest
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'))?;
        let value = &rest[1..];
        value.find(quote).map(|end| &value[..end])
    })
}

/// What follows a key and its `:`, the key's closing quote skipped when it
/// was quoted (`before` is the character before it); `None` without `:`.
pub fn after_key(rest: &str, before: Option<char>) -> Option<&str> {
    let rest = match before {
        Some(quote @ ('"' | '\'')) => rest.strip_prefix(quote)?,
        _ => rest,
    };
    rest.trim_start().strip_prefix(':')
}
