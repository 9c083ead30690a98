//! New migration files, as TypeORM's CLI writes them for a JavaScript
//! project (`-o`, CommonJS): `migration:create`'s empty class, or, with
//! SQL, `migration:generate`'s class of `queryRunner.query` calls.

use faber_db_handler::clock;
use faber_db_handler::folder::Folder;
use faber_db_handler::types::HandlerError;
use faber_db_js::statements::{split, template_literal};

/// Writes `<timestamp>-<name>.js` for the migration `name` (as given, the
/// class named by TypeORM's `camelCase(name, true)` and the timestamp);
/// returns the file's name.
pub fn write(folder: &Folder, name: &str, sql: Option<&str>) -> Result<String, HandlerError> {
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts_well
        || camel_case(name).is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_- ".contains(c))
    {
        return Err(HandlerError::InvalidRequest(format!(
            "{name:?} cannot name a TypeORM migration class: begin with a letter, then use \
             letters, digits, `_`, `-` or spaces"
        )));
    }
    let timestamp = clock::unix_now_millis();
    let class = format!("{}{timestamp}", camel_case(name));
    let file = format!("{timestamp}-{name}.js");
    if folder.is_file(&file) {
        return Err(HandlerError::Conflict(format!("{file} already exists")));
    }
    let body = match sql {
        None => created(&class),
        Some(sql) => generated(&class, &split(sql)),
    };
    folder.write_atomically(&file, &body)?;
    Ok(file)
}

/// TypeORM's `camelCase(name, true)`: a capital for the first character
/// and for each one after a space, `-` or `_`, which are dropped.
fn camel_case(name: &str) -> String {
    let mut class = String::new();
    let mut capital = true;
    for c in name.chars() {
        if c.is_whitespace() || c == '-' || c == '_' {
            capital = true;
        } else if capital {
            class.extend(c.to_uppercase());
            capital = false;
        } else {
            class.push(c);
        }
    }
    class
}

const HEADER: &str = "/**
 * @typedef {import('typeorm').MigrationInterface} MigrationInterface
 * @typedef {import('typeorm').QueryRunner} QueryRunner
 */

/**
 * @class
 * @implements {MigrationInterface}
 */
";

/// `MigrationCreateCommand.getJavascriptTemplate`.
fn created(class: &str) -> String {
    format!(
        "{HEADER}module.exports = class {class} {{

    /**
     * @param {{QueryRunner}} queryRunner
     */
    async up(queryRunner) {{
    }}

    /**
     * @param {{QueryRunner}} queryRunner
     */
    async down(queryRunner) {{
    }}

}}
"
    )
}

/// `MigrationGenerateCommand.getJavascriptTemplate`, with an empty `down`
/// (faber-db is given no reverse SQL).
fn generated(class: &str, statements: &[String]) -> String {
    let up: Vec<String> = statements
        .iter()
        .map(|statement| {
            format!(
                "        await queryRunner.query({});",
                template_literal(statement)
            )
        })
        .collect();
    format!(
        "{HEADER}module.exports = class {class} {{
    name = '{class}'

    /**
     * @param {{QueryRunner}} queryRunner
     */
    async up(queryRunner) {{
{}
    }}

    /**
     * @param {{QueryRunner}} queryRunner
     */
    async down(queryRunner) {{

    }}
}}
",
        up.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_is_named_as_typeorm_names_it() {
        assert_eq!(camel_case("add_users"), "AddUsers");
        assert_eq!(camel_case("AddUsers"), "AddUsers");
        assert_eq!(camel_case("add-users index"), "AddUsersIndex");
    }

    #[test]
    fn sql_goes_into_template_literals_that_keep_it_as_it_is() {
        let body = generated("X1", &["SELECT '`${x}`\\n'".to_string()]);
        assert!(
            body.contains(r"await queryRunner.query(`SELECT '\`\${x}\`\\n'`);"),
            "{body}"
        );
    }
}
