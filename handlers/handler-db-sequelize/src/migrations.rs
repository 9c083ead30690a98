//! The project's migrations as sequelize-cli finds them: every JavaScript
//! file of the migrations folder, by file name, each exporting an object
//! with `up(queryInterface, Sequelize)`; a migration is named by its file.

use faber_db_handler::folder::Folder;
use faber_db_handler::types::{HandlerError, Provider};
use faber_db_js::{Engine, JsObject, JsValue, Session};

use crate::tool::SEQUELIZE;

/// The files sequelize-cli's migrator loads without a TypeScript loader
/// (its pattern is `/^(?!.*\.d\.ts$).*\.(cjs|js|cts|ts)$/`): CommonJS, or an
/// ES module for a project whose `package.json` says `"type": "module"`.
const EXTENSIONS: [&str; 2] = [".js", ".cjs"];

pub struct Migrations {
    engine: Engine,
    /// File name and the object whose `up` runs, by file name.
    list: Vec<(String, JsObject)>,
}

impl Migrations {
    /// Every migration in `folder`; a file that does not load, or has no
    /// `up`, fails the whole read as it fails `db:migrate`.
    pub fn load(folder: &Folder, provider: Provider) -> Result<Migrations, HandlerError> {
        let mut engine = Engine::new(provider, &SEQUELIZE).map_err(HandlerError::Internal)?;
        let mut list = Vec::new();
        for file in migration_files(folder)? {
            let text = folder.read_text(&file)?;
            let migration = engine
                .load(&file, &text)
                .and_then(|exported| migration_object(&mut engine, &exported))
                .map_err(|error| HandlerError::InvalidRequest(format!("{file}: {error}")))?;
            list.push((file, migration));
        }
        Ok(Migrations { engine, list })
    }

    pub fn names(&self) -> Vec<String> {
        self.list.iter().map(|(name, _)| name.clone()).collect()
    }

    fn find(&self, name: &str) -> Result<JsObject, HandlerError> {
        self.list
            .iter()
            .find(|(file, _)| file == name)
            .map(|(_, migration)| migration.clone())
            .ok_or_else(|| {
                HandlerError::InvalidRequest(format!(
                    "no migration file named {name} in the migrations folder"
                ))
            })
    }

    /// Refuses a name the folder does not hold.
    pub fn check(&self, name: &str) -> Result<(), HandlerError> {
        self.find(name).map(drop)
    }

    /// Runs `up` of the migration `name` against the database.
    pub fn up(&mut self, name: &str) -> Result<(), String> {
        let migration = self.find(name).map_err(|error| format!("{error:?}"))?;
        self.engine.run(&migration, "up", Session::Live).1
    }

    /// The SQL `up` of the migration at `index` would send, as
    /// [`Engine::dry_run`] shows it.
    pub fn dry_run_up(&mut self, index: usize) -> String {
        let migration = self.list[index].1.clone();
        self.engine.dry_run(&migration, "up")
    }
}

/// The folder's JavaScript files, by name (sequelize-cli's order);
/// TypeScript sources are refused with the way out.
fn migration_files(folder: &Folder) -> Result<Vec<String>, HandlerError> {
    let mut names = folder.file_names()?;
    names.sort();
    if let Some(source) = names
        .iter()
        .find(|name| (name.ends_with(".ts") && !name.ends_with(".d.ts")) || name.ends_with(".cts"))
    {
        return Err(HandlerError::InvalidRequest(format!(
            "the migrations folder holds TypeScript ({source}), which sequelize-cli runs \
             through a TypeScript loader this sandbox does not have: write the migrations as \
             .js, or compile them and set migrations.directory to the compiled folder (their \
             SequelizeMeta rows must then name the .js files)"
        )));
    }
    Ok(names
        .into_iter()
        .filter(|name| EXTENSIONS.iter().any(|extension| name.ends_with(extension)))
        .collect())
}

/// The object whose `up` sequelize-cli calls: `module.exports` (or an ES
/// module's namespace, `export async function up`), else its `default`
/// (`export default { up, down }`, or TypeScript compiled to CommonJS).
fn migration_object(engine: &mut Engine, exported: &JsValue) -> Result<JsObject, String> {
    let exported = exported
        .as_object()
        .ok_or("it exports no object with an up function")?;
    let default = engine
        .property(&exported, "default")?
        .and_then(|default| default.as_object());
    for candidate in std::iter::once(exported).chain(default) {
        if engine
            .property(&candidate, "up")?
            .is_some_and(|up| up.as_callable().is_some())
        {
            return Ok(candidate);
        }
    }
    Err("it exports no up function; sequelize-cli calls up(queryInterface, Sequelize)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_is_found_in_each_form_sequelize_cli_loads() {
        let mut engine = Engine::new(Provider::Sqlite, &SEQUELIZE).unwrap();
        let forms = [
            "module.exports = { up: async (queryInterface) => queryInterface.sequelize.query('SELECT 1') };",
            "export default { async up(queryInterface) { await queryInterface.sequelize.query('SELECT 2'); } };",
            "export async function up(queryInterface) { await queryInterface.sequelize.query('SELECT 3'); }",
        ];
        for (index, text) in forms.iter().enumerate() {
            let file = format!("2024010100000{index}-form.js");
            let exported = engine.load(&file, text).unwrap();
            let migration = migration_object(&mut engine, &exported).unwrap();
            assert_eq!(
                engine.dry_run(&migration, "up"),
                format!("SELECT {};\n", index + 1)
            );
        }
        let exported = engine
            .load("20240101000009-none.js", "module.exports = { down() {} };")
            .unwrap();
        assert!(
            migration_object(&mut engine, &exported)
                .unwrap_err()
                .contains("exports no up function")
        );
    }
}
