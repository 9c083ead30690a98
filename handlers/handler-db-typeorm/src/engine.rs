//! The JavaScript engine the migrations run in: Boa, a JavaScript
//! interpreter written in Rust, compiled into this component. A migration
//! file is evaluated as Node.js evaluates a CommonJS module (or as an ES
//! module, for `.mjs` and files that `export`), with the stand-ins of
//! `prelude.js` for `require("typeorm")` and the query runner, and nothing
//! else of Node.js.
//!
//! `queryRunner.query` is answered at once by the [`Session`] the engine
//! holds: the host's SQL capability, or a recording that keeps the SQL and
//! answers every query with no rows (what `migrate --dry-run` shows).

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use boa_engine::builtins::promise::{OperationType, Promise, PromiseState};
use boa_engine::context::HostHooks;
use boa_engine::module::{MapModuleLoader, Module, SyntheticModuleInitializer};
use boa_engine::object::builtins::{JsArray, JsPromise};
use boa_engine::{
    Context, JsArgs, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction,
    Source, js_string,
};
use faber_db_handler::sql::{self, SqlValue};
use faber_db_handler::types::Provider;

const PRELUDE: &str = include_str!("prelude.js");
const SCHEMA_BUILDER: &str = include_str!("schema_builder.js");

/// Loop iterations one function may run: far past a migration's loop over
/// its rows, and reached well within the host's CPU budget by one that
/// never ends, which is then stopped with a message that says so.
const LOOP_LIMIT: u64 = 5_000_000;

/// The promises rejected with no handler yet: a query that failed while
/// nothing awaited it. Under Node.js such a rejection ends the process
/// before anything commits, so a call that leaves one fails.
#[derive(Default)]
struct Rejections {
    unhandled: RefCell<Vec<JsObject<Promise>>>,
}

impl HostHooks for Rejections {
    fn promise_rejection_tracker(
        &self,
        promise: &JsObject<Promise>,
        operation: OperationType,
        _: &mut Context,
    ) {
        let mut unhandled = self.unhandled.borrow_mut();
        match operation {
            OperationType::Reject => unhandled.push(promise.clone()),
            OperationType::Handle => unhandled.retain(|other| !JsObject::equals(other, promise)),
        }
    }
}

/// Where `queryRunner.query` sends its SQL.
#[derive(Debug)]
pub enum Session {
    /// To the database, through the host's `sql` capability.
    Live,
    /// Nowhere: kept, in order, and answered with no rows.
    Recording(Vec<String>),
}

pub struct Engine {
    context: Context,
    rejections: Rc<Rejections>,
    require: JsValue,
    query_runner: JsObject,
    loader: Rc<MapModuleLoader>,
}

impl Engine {
    /// An engine whose live queries go to a `provider` database.
    pub fn new(provider: Provider) -> Result<Engine, String> {
        let loader = Rc::new(MapModuleLoader::new());
        let rejections = Rc::new(Rejections::default());
        let mut context = Context::builder()
            .host_hooks(rejections.clone())
            .module_loader(loader.clone())
            .build()
            .map_err(|error| error.to_string())?;
        context
            .runtime_limits_mut()
            .set_loop_iteration_limit(LOOP_LIMIT);
        context.insert_data(RefCell::new(Session::Live));
        context.insert_data(provider);
        let install = context
            .eval(Source::from_bytes(PRELUDE).with_path(Path::new("faber-db:prelude.js")))
            .and_then(|value| callable(&value, "the prelude"))
            .map_err(|error| error.to_string())?;
        let schema_builder = context
            .eval(
                Source::from_bytes(SCHEMA_BUILDER)
                    .with_path(Path::new("faber-db:schema_builder.js")),
            )
            .map_err(|error| error.to_string())?;
        let global = context.global_object();
        let query = NativeFunction::from_fn_ptr(query).to_js_function(context.realm());
        let sha1 = NativeFunction::from_fn_ptr(sha1_hex).to_js_function(context.realm());
        let log = NativeFunction::from_fn_ptr(log_line).to_js_function(context.realm());
        let dialect = match provider {
            Provider::Postgresql => js_string!("postgresql"),
            Provider::Mysql => js_string!("mysql"),
            Provider::Sqlite => js_string!("sqlite"),
        };
        let exports = install
            .call(
                &JsValue::undefined(),
                &[
                    global.into(),
                    query.into(),
                    sha1.into(),
                    log.into(),
                    schema_builder,
                    dialect.into(),
                ],
                &mut context,
            )
            .and_then(|value| object(&value, "the prelude's exports"))
            .map_err(|error| error.to_string())?;
        let require = exports
            .get(js_string!("require"), &mut context)
            .map_err(|error| error.to_string())?;
        let query_runner = exports
            .get(js_string!("queryRunner"), &mut context)
            .and_then(|value| callable(&value, "queryRunner"))
            .map_err(|error| error.to_string())?;
        let typeorm = typeorm_module(&require, &mut context).map_err(|error| error.to_string())?;
        loader.insert("typeorm", typeorm);
        Ok(Engine {
            context,
            rejections,
            require,
            query_runner,
            loader,
        })
    }

    /// What the file at `path` exports: its `module.exports` (CommonJS), or
    /// its namespace (an ES module).
    pub fn load(&mut self, path: &str, text: &str) -> Result<JsValue, String> {
        let result = if path.ends_with(".mjs") || is_es_module(text) {
            self.load_module(path, text)
        } else {
            self.load_common_js(path, text)
        };
        result.map_err(|error| error.to_string())
    }

    fn load_common_js(&mut self, path: &str, text: &str) -> JsResult<JsValue> {
        // The body starts on the wrapper's line, so the file's line numbers
        // stay its own; the newline ends a last line that is a comment.
        let wrapped =
            format!("(function (exports, require, module, __filename, __dirname) {{{text}\n}})");
        let function = self
            .context
            .eval(Source::from_bytes(&wrapped).with_path(Path::new(path)))
            .and_then(|value| callable(&value, path))?;
        let context = &mut self.context;
        let module = JsObject::with_object_proto(context.intrinsics());
        let exports = JsObject::with_object_proto(context.intrinsics());
        module.set(js_string!("exports"), exports.clone(), true, context)?;
        function.call(
            &exports.clone().into(),
            &[
                exports.into(),
                self.require.clone(),
                module.clone().into(),
                JsString::from(path).into(),
                js_string!(".").into(),
            ],
            context,
        )?;
        module.get(js_string!("exports"), context)
    }

    fn load_module(&mut self, path: &str, text: &str) -> JsResult<JsValue> {
        let context = &mut self.context;
        let module = Module::parse(
            Source::from_bytes(text).with_path(Path::new(path)),
            None,
            context,
        )?;
        let loaded = module.load_link_evaluate(context);
        settle(&loaded, context)?;
        // Kept, so a second import of the same file is the same module.
        self.loader.insert(path, module.clone());
        Ok(module.namespace(context).into())
    }

    /// The constructors among `exported`, as TypeORM collects migration
    /// classes from a file: the value itself, or every value of an object
    /// or array, recursively.
    pub fn classes(&mut self, exported: &JsValue) -> Result<Vec<JsObject>, String> {
        let mut found = Vec::new();
        self.collect(exported, &mut found, 0)
            .map_err(|error| error.to_string())?;
        Ok(found)
    }

    fn collect(&mut self, value: &JsValue, found: &mut Vec<JsObject>, depth: u8) -> JsResult<()> {
        if let Some(class) = value.as_constructor() {
            found.push(class);
            return Ok(());
        }
        let Some(object) = value.as_object() else {
            return Ok(());
        };
        if depth > 8 || value.as_callable().is_some() {
            return Ok(());
        }
        for key in object.own_property_keys(&mut self.context)? {
            let member = object.get(key, &mut self.context)?;
            self.collect(&member, found, depth + 1)?;
        }
        Ok(())
    }

    /// `new class()`, as TypeORM makes its migration instances.
    pub fn instantiate(&mut self, class: &JsObject) -> Result<JsObject, String> {
        class
            .construct(&[], None, &mut self.context)
            .map_err(|error| error.to_string())
    }

    /// `object[key]`: `None` when undefined.
    pub fn property(&mut self, object: &JsObject, key: &str) -> Result<Option<JsValue>, String> {
        let value = object
            .get(JsString::from(key), &mut self.context)
            .map_err(|error| error.to_string())?;
        Ok((!value.is_undefined()).then_some(value))
    }

    /// `value` as text, as JavaScript's `String(value)` gives it.
    pub fn text(&mut self, value: &JsValue) -> Result<String, String> {
        value
            .to_string(&mut self.context)
            .map(|text| text.to_std_string_escaped())
            .map_err(|error| error.to_string())
    }

    /// Calls `instance[method](queryRunner)` and waits for what it returns,
    /// with `queryRunner.query` answered by `session`; gives the session
    /// back with what it recorded.
    pub fn run(
        &mut self,
        instance: &JsObject,
        method: &str,
        session: Session,
    ) -> (Session, Result<(), String>) {
        self.context.insert_data(RefCell::new(session));
        let outcome = self.call(instance, method);
        let session = self
            .context
            .remove_data::<RefCell<Session>>()
            .map_or(Session::Live, |session| session.into_inner());
        self.context.insert_data(RefCell::new(Session::Live));
        (session, outcome.map_err(|error| error.to_string()))
    }

    fn call(&mut self, instance: &JsObject, method: &str) -> JsResult<()> {
        let context = &mut self.context;
        self.rejections.unhandled.borrow_mut().clear();
        let function = instance.get(JsString::from(method), context)?;
        let function = callable(&function, method)?;
        let runner = self
            .query_runner
            .call(&JsValue::undefined(), &[], context)?;
        let returned = function.call(&instance.clone().into(), &[runner], context)?;
        let promise = JsPromise::resolve(returned, context)?;
        settle(&promise, context)?;
        let unhandled = self.rejections.unhandled.borrow_mut().drain(..).next();
        match unhandled.map(|promise| JsPromise::from_object(promise.upcast())) {
            Some(Ok(promise)) => match promise.state() {
                PromiseState::Rejected(reason) => Err(JsError::from_opaque(reason)),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// `import { Table } from "typeorm"`: the module `require("typeorm")`
/// returns, its members as named exports.
fn typeorm_module(require: &JsValue, context: &mut Context) -> JsResult<Module> {
    let typeorm = callable(require, "require")?.call(
        &JsValue::undefined(),
        &[js_string!("typeorm").into()],
        context,
    )?;
    let typeorm = object(&typeorm, "typeorm")?;
    let names: Vec<JsString> = typeorm
        .own_property_keys(context)?
        .into_iter()
        .map(|key| JsString::from(key.to_string().as_str()))
        .collect();
    let initialize = SyntheticModuleInitializer::from_copy_closure_with_captures(
        |module, typeorm: &JsObject, context| {
            for key in typeorm.own_property_keys(context)? {
                let value = typeorm.get(key.clone(), context)?;
                module.set_export(&JsString::from(key.to_string().as_str()), value)?;
            }
            Ok(())
        },
        typeorm,
    );
    Ok(Module::synthetic(&names, initialize, None, None, context))
}

/// Runs the engine's jobs until `promise` settles; its rejection as the
/// error.
fn settle(promise: &JsPromise, context: &mut Context) -> JsResult<()> {
    context.run_jobs()?;
    match promise.state() {
        PromiseState::Fulfilled(_) => Ok(()),
        PromiseState::Rejected(reason) => Err(JsError::from_opaque(reason)),
        // Nothing outside the engine can settle it: no timers, no I/O.
        PromiseState::Pending => Err(JsNativeError::error()
            .with_message("it awaits something that never settles")
            .into()),
    }
}

/// A file that uses `import` or `export` at the start of a line is an ES
/// module (Node.js would need `.mjs` or `"type": "module"`; either way it
/// cannot be CommonJS).
fn is_es_module(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("export ") || line.starts_with("import ") || line.starts_with("import{")
    })
}

fn callable(value: &JsValue, what: &str) -> JsResult<JsObject> {
    value.as_callable().ok_or_else(|| {
        JsNativeError::typ()
            .with_message(format!("{what} is not a function"))
            .into()
    })
}

fn object(value: &JsValue, what: &str) -> JsResult<JsObject> {
    value.as_object().ok_or_else(|| {
        JsNativeError::typ()
            .with_message(format!("{what} is not an object"))
            .into()
    })
}

/// `console.log` and its kin: a line of the handler's log.
fn log_line(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let line = args
        .get_or_undefined(0)
        .to_string(context)?
        .to_std_string_escaped();
    faber_db_handler::log::log(faber_db_handler::log::Level::Info, &line);
    Ok(JsValue::undefined())
}

/// The hex SHA-1 of a text, which TypeORM's naming strategy makes its
/// constraint and index names from.
fn sha1_hex(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let key = args
        .get_or_undefined(0)
        .to_string(context)?
        .to_std_string_escaped();
    Ok(JsString::from(crate::tracking_table::hash(&key).as_str()).into())
}

/// `queryRunner.query(sql, parameters)`: a promise of the rows, each an
/// object keyed by column.
fn query(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let statement = args
        .get_or_undefined(0)
        .to_string(context)?
        .to_std_string_escaped();
    let parameters = parameters(args.get_or_undefined(1), context)?;
    let provider = *context
        .get_data::<Provider>()
        .ok_or_else(|| JsNativeError::error().with_message("no provider"))?;
    let answered = {
        let session = context
            .get_data::<RefCell<Session>>()
            .ok_or_else(|| JsNativeError::error().with_message("no session"))?;
        match &mut *session.borrow_mut() {
            Session::Live => Some(sql::query(&as_sent(provider, statement), &parameters)),
            Session::Recording(recorded) => {
                recorded.push(statement);
                None
            }
        }
    };
    let rows = match answered {
        None => JsArray::new(context)?.into(),
        Some(Ok(result)) => rows(result, context)?,
        Some(Err(error)) => {
            let error = JsNativeError::error().with_message(error.message);
            return Ok(JsPromise::reject(error, context)?.into());
        }
    };
    Ok(JsPromise::resolve(rows, context)?.into())
}

/// The statement as the host's driver should see it to leave what
/// TypeORM's leaves. SQLite keeps a `CREATE INDEX`'s text up to the
/// statement's end, trailing spaces included (TypeORM's generator writes
/// one), and the host's driver trims a statement's ends: after a `;` the
/// end is where the migration put it.
fn as_sent(provider: Provider, statement: String) -> String {
    if provider != Provider::Sqlite || statement.trim_end().ends_with(';') {
        statement
    } else {
        statement + ";"
    }
}

fn parameters(value: &JsValue, context: &mut Context) -> JsResult<Vec<SqlValue>> {
    let Some(array) = value.as_object() else {
        return Ok(Vec::new());
    };
    let array = JsArray::from_object(array)?;
    let mut values = Vec::new();
    for index in 0..array.length(context)? {
        values.push(sql_value(&array.get(index, context)?, context)?);
    }
    Ok(values)
}

/// A parameter as the drivers bind it: integers exactly, other numbers as
/// reals, everything else as text.
fn sql_value(value: &JsValue, context: &mut Context) -> JsResult<SqlValue> {
    if value.is_null_or_undefined() {
        return Ok(SqlValue::Null);
    }
    if let Some(flag) = value.as_boolean() {
        return Ok(SqlValue::Boolean(flag));
    }
    if let Some(number) = value.as_number() {
        const EXACT: f64 = 9_007_199_254_740_992.0;
        return Ok(if number.fract() == 0.0 && number.abs() < EXACT {
            SqlValue::Integer(number as i64)
        } else {
            SqlValue::Real(number)
        });
    }
    Ok(SqlValue::Text(
        value.to_string(context)?.to_std_string_escaped(),
    ))
}

fn rows(result: sql::QueryResult, context: &mut Context) -> JsResult<JsValue> {
    let array = JsArray::new(context)?;
    for row in result.rows {
        let object = JsObject::with_object_proto(context.intrinsics());
        for (column, value) in result.columns.iter().zip(row) {
            let value = js_value(value, context)?;
            object.create_data_property_or_throw(
                JsString::from(column.as_str()),
                value,
                context,
            )?;
        }
        array.push(object, context)?;
    }
    Ok(array.into())
}

fn js_value(value: SqlValue, context: &mut Context) -> JsResult<JsValue> {
    Ok(match value {
        SqlValue::Null => JsValue::null(),
        SqlValue::Boolean(flag) => flag.into(),
        SqlValue::Integer(number) => JsValue::from(number as f64),
        SqlValue::Real(number) => number.into(),
        SqlValue::Text(text) => JsString::from(text.as_str()).into(),
        SqlValue::Blob(bytes) => {
            JsArray::from_iter(bytes.into_iter().map(JsValue::from), context).into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQL `up` of the one class `text` exports sends, recorded.
    fn recorded(path: &str, text: &str) -> Result<Vec<String>, String> {
        let mut engine = Engine::new(Provider::Postgresql)?;
        let exported = engine.load(path, text)?;
        let classes = engine.classes(&exported)?;
        assert_eq!(classes.len(), 1, "{path}");
        let instance = engine.instantiate(&classes[0])?;
        match engine.run(&instance, "up", Session::Recording(Vec::new())) {
            (Session::Recording(sql), Ok(())) => Ok(sql),
            (_, outcome) => outcome.map(|()| Vec::new()),
        }
    }

    #[test]
    fn common_js_and_es_module_migrations_run_against_a_recording() {
        let common_js = "const { Table } = require(\"typeorm\");\n\
            module.exports = class A1700000000000 {\n\
              async up(queryRunner) { await queryRunner.query(`CREATE TABLE a (id int)`); }\n\
            };";
        assert_eq!(
            recorded("1700000000000-A.js", common_js).unwrap(),
            ["CREATE TABLE a (id int)"]
        );
        let module = "import { TableColumn } from \"typeorm\";\n\
            export class B1700000000001 {\n\
              async up(queryRunner) {\n\
                const rows = await queryRunner.query(\"SELECT id FROM a\");\n\
                for (const row of rows) await queryRunner.query(\"UPDATE a SET id = $1\", [row.id]);\n\
                await queryRunner.query(`-- ${typeof TableColumn}`);\n\
              }\n\
            }";
        assert_eq!(
            recorded("1700000000001-B.mjs", module).unwrap(),
            ["SELECT id FROM a", "-- function"]
        );
    }

    #[test]
    fn the_schema_builder_writes_what_typeorm_writes() {
        let up = "await queryRunner.createTable(new Table({ name: \"posts\", columns: [\n\
              { name: \"id\", type: \"int\", isPrimary: true, isGenerated: true, generationStrategy: \"increment\" },\n\
              { name: \"slug\", type: \"varchar\", isUnique: true },\n\
              { name: \"user_id\", type: \"int\", isNullable: true }],\n\
              foreignKeys: [{ columnNames: [\"user_id\"], referencedTableName: \"users\", referencedColumnNames: [\"id\"], onDelete: \"CASCADE\" }],\n\
              indices: [{ columnNames: [\"user_id\"] }] }));";
        let text = format!(
            "const {{ Table }} = require(\"typeorm\");\n\
             module.exports = class P1 {{ async up(queryRunner) {{ {up} }} }};"
        );
        assert_eq!(
            recorded("P.js", &text).unwrap(),
            [
                "CREATE TABLE \"posts\" (\"id\" SERIAL NOT NULL, \"slug\" varchar NOT NULL, \
                 \"user_id\" int, CONSTRAINT \"UQ_54ddf9075260407dcfdd7248577\" UNIQUE (\"slug\"), \
                 CONSTRAINT \"FK_c4f9a7bd77b489e711277ee5986\" FOREIGN KEY (\"user_id\") REFERENCES \
                 \"users\" (\"id\") ON DELETE CASCADE, CONSTRAINT \"PK_2829ac61eff60fcec60d7274b9e\" \
                 PRIMARY KEY (\"id\"))",
                "CREATE INDEX \"IDX_c4f9a7bd77b489e711277ee598\" ON \"posts\"  (\"user_id\") "
            ]
        );
    }

    #[test]
    fn what_node_would_give_is_refused_by_name() {
        let reach = |up: &str| {
            let text = format!("module.exports = class C1 {{ async up(queryRunner) {{ {up} }} }};");
            recorded("C.js", &text).unwrap_err()
        };
        assert!(
            reach("require(\"child_process\");")
                .contains("require(\"child_process\") is not available")
        );
        assert!(reach("process.exit(0);").contains("process.exit is not available"));
        assert!(
            reach("await queryRunner.renameColumn(\"a\", \"b\", \"c\");")
                .contains("queryRunner.renameColumn")
        );
        assert!(reach("await new Promise(() => {});").contains("never settles"));
    }
}
