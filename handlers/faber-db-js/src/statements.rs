//! SQL text cut into its statements, for a migration file that sends each
//! with its own call (`queryRunner.query`, `queryInterface.sequelize.query`):
//! MySQL's driver takes one statement a call.

/// The statements of `sql`, without their `;`, comments between them
/// dropped; a `;` inside quotes or a comment does not end one.
pub fn split(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
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
                        current.push('\n');
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
            ';' => push(&mut statements, &mut current),
            _ => current.push(c),
        }
    }
    push(&mut statements, &mut current);
    statements
}

/// `statement` as a JavaScript template literal that keeps it as it is (a
/// backquote, `${` and a backslash escaped), for a generated migration file.
pub fn template_literal(statement: &str) -> String {
    let escaped = statement
        .replace('\\', "\\\\")
        .replace('`', "\\`")
        .replace("${", "\\${");
    format!("`{escaped}`")
}

fn push(statements: &mut Vec<String>, current: &mut String) {
    let statement = current.trim();
    if !statement.is_empty() {
        statements.push(statement.to_string());
    }
    current.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_semicolons_outside_quotes_and_comments() {
        let sql = "-- users\nCREATE TABLE a (b text DEFAULT ';');\n/* ; */ INSERT INTO a VALUES (\"x;y\");\nSELECT 1";
        assert_eq!(
            split(sql),
            [
                "CREATE TABLE a (b text DEFAULT ';')",
                "INSERT INTO a VALUES (\"x;y\")",
                "SELECT 1"
            ]
        );
    }
}
