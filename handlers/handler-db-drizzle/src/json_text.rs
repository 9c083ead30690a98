//! Editing drizzle-kit's JSON files in place: the span of one top-level
//! value, found by scanning the text, so that a change leaves every other
//! byte as drizzle-kit wrote it (its key order, its indentation).

use std::ops::Range;

/// The byte range of the value of `key` in the top-level object of `text`.
pub fn top_level_value(text: &str, key: &str) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let end = string_end(bytes, at)?;
                if depth == 1 && &text[at + 1..end - 1] == key {
                    let after = skip_space(bytes, end);
                    if bytes.get(after) == Some(&b':') {
                        let start = skip_space(bytes, after + 1);
                        return Some(start..value_end(bytes, start)?);
                    }
                }
                at = end;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        at += 1;
    }
    None
}

/// Just past the string that starts at `start` (its opening quote).
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// Just past the value that starts at `start`.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    match bytes.get(start)? {
        b'"' => string_end(bytes, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut at = start;
            while at < bytes.len() {
                match bytes[at] {
                    b'"' => {
                        at = string_end(bytes, at)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            None
        }
        _ => {
            let rest = &bytes[start..];
            let len = rest
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(rest.len());
            Some(start + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "{\n  \"id\": \"a\\\"}\",\n  \"tables\": {\n    \"id\": \"inner\"\n  },\n  \"n\": 12,\n  \"entries\": [\n    {\"id\": 1}\n  ]\n}";

    #[test]
    fn finds_top_level_values_only() {
        let value = |key| top_level_value(TEXT, key).map(|span| &TEXT[span]);
        assert_eq!(value("id"), Some("\"a\\\"}\""));
        assert_eq!(value("tables"), Some("{\n    \"id\": \"inner\"\n  }"));
        assert_eq!(value("n"), Some("12"));
        assert_eq!(value("entries"), Some("[\n    {\"id\": 1}\n  ]"));
        assert_eq!(value("inner"), None);
        assert_eq!(value("missing"), None);
    }
}
