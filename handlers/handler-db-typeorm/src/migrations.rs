//! The project's migrations as TypeORM's `DataSource` finds them: every
//! class the folder's JavaScript files export, made an instance of, named
//! by its `name` property or else its class name, whose last 13 characters
//! are its timestamp; sorted by that timestamp.

use faber_db_handler::folder::Folder;
use faber_db_handler::types::{HandlerError, Provider};
use faber_db_js::{Engine, JsObject, Session};

use crate::tool::TYPEORM;

/// The files TypeORM's glob `migrations/*.js` (and its CommonJS and ES
/// module forms) matches.
const EXTENSIONS: [&str; 3] = [".js", ".cjs", ".mjs"];

pub struct Migration {
    pub name: String,
    pub timestamp: i64,
    /// The instance sets `transaction` (TypeORM's per-migration override).
    pub overrides_transaction: bool,
    instance: JsObject,
}

pub struct Migrations {
    engine: Engine,
    list: Vec<Migration>,
}

impl Migrations {
    /// Every migration in `folder`; a file that does not load, or a class
    /// TypeORM would refuse, fails the whole read as it fails TypeORM's.
    pub fn load(folder: &Folder, provider: Provider) -> Result<Migrations, HandlerError> {
        let mut engine = Engine::new(provider, &TYPEORM).map_err(HandlerError::Internal)?;
        let files = migration_files(folder)?;
        let mut list = Vec::new();
        for file in files {
            let text = folder.read_text(&file)?;
            let exported = engine
                .load(&file, &text)
                .map_err(|error| cannot_load(&file, &error))?;
            let classes = engine
                .classes(&exported)
                .map_err(|error| cannot_load(&file, &error))?;
            for class in classes {
                list.push(migration(&mut engine, &file, &class)?);
            }
        }
        refuse_duplicates(&list)?;
        list.sort_by_key(|migration| migration.timestamp);
        Ok(Migrations { engine, list })
    }

    pub fn list(&self) -> &[Migration] {
        &self.list
    }

    pub fn find(&self, name: &str) -> Result<&Migration, HandlerError> {
        self.list
            .iter()
            .find(|migration| migration.name == name)
            .ok_or_else(|| {
                HandlerError::InvalidRequest(format!(
                    "no migration class named {name} in the migrations folder"
                ))
            })
    }

    /// Runs `up` of the migration named `name` against the database.
    pub fn up(&mut self, name: &str) -> Result<(), String> {
        let migration = self.find(name).map_err(|error| format!("{error:?}"))?;
        let instance = migration.instance.clone();
        self.engine.run(&instance, "up", Session::Live).1
    }

    /// The SQL `up` of the migration at `index` would send, as
    /// [`Engine::dry_run`] shows it.
    pub fn dry_run_up(&mut self, index: usize) -> String {
        let instance = self.list[index].instance.clone();
        self.engine.dry_run(&instance, "up")
    }
}

/// The folder's JavaScript files, by name; TypeScript sources are refused
/// with the way out (TypeORM's CLI runs them through ts-node, which this
/// sandbox does not have).
fn migration_files(folder: &Folder) -> Result<Vec<String>, HandlerError> {
    let mut names = folder.file_names()?;
    names.sort();
    let (scripts, typescript): (Vec<String>, Vec<String>) = names
        .into_iter()
        .filter(|name| {
            EXTENSIONS.iter().any(|extension| name.ends_with(extension))
                || (name.ends_with(".ts") && !name.ends_with(".d.ts"))
        })
        .partition(|name| !name.ends_with(".ts"));
    if scripts.is_empty()
        && let Some(source) = typescript.first()
    {
        return Err(HandlerError::InvalidRequest(format!(
            "the migrations folder holds TypeScript ({source}) and no JavaScript: compile the \
             migrations (tsc) and set migrations.directory to the folder of the compiled .js \
             files, as the data source's `migrations` does for a built project"
        )));
    }
    Ok(scripts)
}

fn migration(engine: &mut Engine, file: &str, class: &JsObject) -> Result<Migration, HandlerError> {
    let in_file = |error: String| cannot_load(file, &error);
    let instance = engine.instantiate(class).map_err(in_file)?;
    // `instance.name ?? instance.constructor.name`, as TypeORM names it.
    let name = match engine.property(&instance, "name").map_err(in_file)? {
        Some(name) if !name.is_null() => engine.text(&name).map_err(in_file)?,
        _ => {
            let name = engine.property(class, "name").map_err(in_file)?;
            match name {
                Some(name) => engine.text(&name).map_err(in_file)?,
                None => String::new(),
            }
        }
    };
    let timestamp = timestamp_of(&name).ok_or_else(|| {
        HandlerError::InvalidRequest(format!(
            "{name} migration name is wrong. Migration class name should have a JavaScript \
             timestamp appended. (in {file})"
        ))
    })?;
    let overrides_transaction = engine
        .property(&instance, "transaction")
        .map_err(in_file)?
        .is_some();
    Ok(Migration {
        name,
        timestamp,
        overrides_transaction,
        instance,
    })
}

/// `parseInt(name.slice(-13), 10)`, which TypeORM refuses when it is 0 or
/// not a number.
fn timestamp_of(name: &str) -> Option<i64> {
    let chars: Vec<char> = name.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(13)..].iter().collect();
    let tail = tail.trim_start();
    let signed = tail.strip_prefix(['-', '+']).unwrap_or(tail);
    let digits: String = signed.chars().take_while(char::is_ascii_digit).collect();
    let value: i64 = digits.parse().ok()?;
    let value = if tail.starts_with('-') { -value } else { value };
    (value != 0).then_some(value)
}

fn refuse_duplicates(list: &[Migration]) -> Result<(), HandlerError> {
    let mut duplicates: Vec<&str> = Vec::new();
    for (index, migration) in list.iter().enumerate() {
        if list[..index]
            .iter()
            .any(|other| other.name == migration.name)
            && !duplicates.contains(&migration.name.as_str())
        {
            duplicates.push(&migration.name);
        }
    }
    if duplicates.is_empty() {
        return Ok(());
    }
    Err(HandlerError::InvalidRequest(format!(
        "Duplicate migrations: {}",
        duplicates.join(", ")
    )))
}

fn cannot_load(file: &str, error: &str) -> HandlerError {
    HandlerError::InvalidRequest(format!("{file}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_is_named_as_typeorm_names_it() {
        let mut engine = Engine::new(Provider::Sqlite, &TYPEORM).unwrap();
        let text = "exports.A = class Null1700000000000 { name = null; async up() {} };\n\
                    exports.B = class Other1 { name = \"Named1700000000001\"; async up() {} };";
        let exported = engine.load("1-A.js", text).unwrap();
        let names: Vec<String> = engine
            .classes(&exported)
            .unwrap()
            .iter()
            .map(|class| migration(&mut engine, "1-A.js", class).unwrap().name)
            .collect();
        assert_eq!(names, ["Null1700000000000", "Named1700000000001"]);
    }

    #[test]
    fn the_timestamp_is_read_as_parse_int_reads_the_last_13_characters() {
        assert_eq!(
            timestamp_of("AddUsers1700000000000"),
            Some(1_700_000_000_000)
        );
        assert_eq!(timestamp_of("Init0000000001234x"), Some(1_234));
        assert_eq!(timestamp_of("Short1"), None);
        assert_eq!(timestamp_of("NoTimestamp"), None);
        assert_eq!(timestamp_of("Zero0000000000000"), None);
    }
}
