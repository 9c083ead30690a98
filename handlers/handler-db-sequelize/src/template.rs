//! New migration files, as `sequelize-cli migration:generate` writes them:
//! `<YYYYMMDDHHmmss>-<name>.js` (UTC), its skeleton, and with SQL given,
//! that SQL sent through `queryInterface.sequelize.query` in `up`.

use faber_db_handler::clock;
use faber_db_handler::folder::Folder;
use faber_db_handler::types::HandlerError;
use faber_db_js::statements::{split, template_literal};

/// Writes the migration `name`, used in the file name as given (spaces
/// too), as sequelize-cli uses it; returns the file's name.
pub fn write(folder: &Folder, name: &str, sql: Option<&str>) -> Result<String, HandlerError> {
    if name.trim().is_empty()
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(HandlerError::InvalidRequest(format!(
            "{name:?} cannot name a sequelize-cli migration file: give a name without `/`, `\\` \
             or control characters"
        )));
    }
    let file = format!("{}-{name}.js", clock::timestamp_now());
    if folder.is_file(&file) {
        return Err(HandlerError::Conflict(format!("{file} already exists")));
    }
    let up = match sql {
        None => SKELETON_UP.to_owned(),
        Some(sql) => queries(&split(sql)),
    };
    folder.write_atomically(&file, &skeleton(&up))?;
    Ok(file)
}

/// The body of the skeleton's `up`.
const SKELETON_UP: &str = "    /**
     * Add altering commands here.
     *
     * Example:
     * await queryInterface.createTable('users', { id: Sequelize.INTEGER });
     */";

/// sequelize-cli's `assets/migrations/skeleton.js` with `up`'s body.
fn skeleton(up: &str) -> String {
    format!(
        "'use strict';

/** @type {{import('sequelize-cli').Migration}} */
module.exports = {{
  async up (queryInterface, Sequelize) {{
{up}
  }},

  async down (queryInterface, Sequelize) {{
    /**
     * Add reverting commands here.
     *
     * Example:
     * await queryInterface.dropTable('users');
     */
  }}
}};
"
    )
}

/// One `await queryInterface.sequelize.query` per statement.
fn queries(statements: &[String]) -> String {
    statements
        .iter()
        .map(|statement| {
            format!(
                "    await queryInterface.sequelize.query({});",
                template_literal(statement)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_goes_into_template_literals_that_keep_it_as_it_is() {
        let up = queries(&["SELECT '`${x}`\\n'".to_string()]);
        assert_eq!(
            up,
            r"    await queryInterface.sequelize.query(`SELECT '\`\${x}\`\\n'`);"
        );
    }
}
