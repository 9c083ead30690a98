//! The statements of a migration's SQL text, as the host reads it: split
//! on `;` outside quotes, comments and dollar-quoted bodies, with comments
//! dropped. Judging what a script does (the destructive-change lint), what a
//! handler wrote into a migration, and whether a script runs anything at all
//! all rest on it.

/// Splits on `;` outside quotes, comments and dollar-quoted bodies.
pub fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                current.push(c);
                for inner in chars.by_ref() {
                    current.push(inner);
                    if inner == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for inner in chars.by_ref() {
                    if inner == '\n' {
                        current.push(' ');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for inner in chars.by_ref() {
                    if last == '*' && inner == '/' {
                        break;
                    }
                    last = inner;
                }
                current.push(' ');
            }
            '$' => {
                let mut tag = String::from("$");
                while let Some(&next) = chars.peek() {
                    chars.next();
                    tag.push(next);
                    if next == '$' || !(next.is_alphanumeric() || next == '_') {
                        break;
                    }
                }
                current.push_str(&tag);
                if tag.len() >= 2 && tag.ends_with('$') {
                    let mut body = String::new();
                    for inner in chars.by_ref() {
                        body.push(inner);
                        if body.ends_with(&tag) {
                            break;
                        }
                    }
                    current.push_str(&body);
                }
            }
            ';' => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out.retain(|statement| !statement.trim().is_empty());
    out
}

/// Whether `sql` holds anything besides whitespace and comments.
pub fn has_statements(sql: &str) -> bool {
    !statements(sql).is_empty()
}
