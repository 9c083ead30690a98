//! The engine the migrations run in. A migration file is evaluated as
//! Node.js evaluates a CommonJS module (or as an ES module, for `.mjs` and
//! files that `export`), with `sandbox.js`'s stand-ins for Node.js and the
//! [`Tool`]'s for its own module.
//!
//! A migration's queries are answered at once by the [`Session`] the engine
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

const SANDBOX: &str = include_str!("sandbox.js");

/// A migration tool's stand-ins: the module its migrations `require`, and
/// what their methods are called with.
pub struct Tool {
    /// The name `require` and `import` know it by (`typeorm`).
    pub module: &'static str,
    /// What a migration may use, for the refusals' advice.
    pub allowed: &'static str,
    /// `(path, source)` of a script that evaluates to a function of the
    /// sandbox (`refuse`, `guarded`, `query`, `execute`, `reads`, `sha1`), the dialect
    /// (`postgresql`, `mysql`, `sqlite`) and the values of `parts`, in
    /// order; it returns `{ module, call }`: what `require` gives for
    /// [`Tool::module`], and `call(migration, method)`, which calls a
    /// migration's method as the tool does (with its arguments, its checks
    /// of what the method returns) and returns what it returned.
    pub prelude: (&'static str, &'static str),
    /// `(path, source)` of scripts the prelude is given the values of.
    pub parts: &'static [(&'static str, &'static str)],
}

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
    call: JsObject,
    loader: Rc<MapModuleLoader>,
}

impl Engine {
    /// An engine for `tool`'s migrations, whose live queries go to a
    /// `provider` database.
    pub fn new(provider: Provider, tool: &Tool) -> Result<Engine, String> {
        Engine::build(provider, tool).map_err(|error| error.to_string())
    }

    fn build(provider: Provider, tool: &Tool) -> JsResult<Engine> {
        let loader = Rc::new(MapModuleLoader::new());
        let rejections = Rc::new(Rejections::default());
        let mut context = Context::builder()
            .host_hooks(rejections.clone())
            .module_loader(loader.clone())
            .build()?;
        context
            .runtime_limits_mut()
            .set_loop_iteration_limit(LOOP_LIMIT);
        context.insert_data(RefCell::new(Session::Live));
        context.insert_data(provider);
        let (require, call) = install(&mut context, provider, tool, &loader)?;
        Ok(Engine {
            context,
            rejections,
            require,
            call,
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

    /// What `instance[method]` would send, from a run against a recording
    /// session (every query answered with no rows), as a script of one
    /// statement a line, or a comment saying why it could not run: what
    /// `migrate --dry-run` and the lint show (a migration that reads data
    /// may send other SQL when it runs).
    pub fn dry_run(&mut self, instance: &JsObject, method: &str) -> String {
        match self.run(instance, method, Session::Recording(Vec::new())) {
            (Session::Recording(recorded), Ok(())) => recorded
                .iter()
                .map(|statement| format!("{};\n", statement.trim_end().trim_end_matches(';')))
                .collect(),
            (_, Err(error)) => {
                format!("-- {method}() cannot be shown without running it: {error}\n")
            }
            (Session::Live, Ok(())) => format!("-- {method}()'s recording was lost\n"),
        }
    }

    fn call(&mut self, instance: &JsObject, method: &str) -> JsResult<()> {
        let context = &mut self.context;
        self.rejections.unhandled.borrow_mut().clear();
        let function = instance.get(JsString::from(method), context)?;
        callable(&function, method)?;
        let returned = self.call.call(
            &JsValue::undefined(),
            &[instance.clone().into(), JsString::from(method).into()],
            context,
        )?;
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

/// Sets up `sandbox.js` and the tool's prelude in `context`; the `require`
/// migrations get, and the function that calls a migration's method.
fn install(
    context: &mut Context,
    provider: Provider,
    tool: &Tool,
    loader: &MapModuleLoader,
) -> JsResult<(JsValue, JsObject)> {
    let (query, sha1, log) = (
        native(context, query),
        native(context, sha1_hex),
        native(context, log_line),
    );
    let execute = native(context, execute);
    let sandbox = evaluate(context, ("faber-db:sandbox.js", SANDBOX))?;
    let sandbox = callable(&sandbox, "the sandbox")?.call(
        &JsValue::undefined(),
        &[
            context.global_object().into(),
            query,
            execute,
            sha1,
            log,
            JsString::from(tool.allowed).into(),
        ],
        context,
    )?;
    let dialect = match provider {
        Provider::Postgresql => js_string!("postgresql"),
        Provider::Mysql => js_string!("mysql"),
        Provider::Sqlite => js_string!("sqlite"),
    };
    let mut given = vec![sandbox.clone(), dialect.into()];
    for part in tool.parts {
        given.push(evaluate(context, *part)?);
    }
    let prelude = evaluate(context, tool.prelude)?;
    let installed =
        callable(&prelude, "the prelude")?.call(&JsValue::undefined(), &given, context)?;
    let installed = object(&installed, "the prelude's result")?;
    let module = installed.get(js_string!("module"), context)?;
    let call = installed.get(js_string!("call"), context)?;
    let call = callable(&call, "the prelude's call")?;
    let modules = JsObject::with_object_proto(context.intrinsics());
    modules.create_data_property_or_throw(JsString::from(tool.module), module.clone(), context)?;
    let requirer = object(&sandbox, "the sandbox")?.get(js_string!("requirer"), context)?;
    let require =
        callable(&requirer, "requirer")?.call(&JsValue::undefined(), &[modules.into()], context)?;
    loader.insert(tool.module, es_module(&module, context)?);
    Ok((require, call))
}

fn native(context: &Context, function: NativePointer) -> JsValue {
    NativeFunction::from_fn_ptr(function)
        .to_js_function(context.realm())
        .into()
}

type NativePointer = fn(&JsValue, &[JsValue], &mut Context) -> JsResult<JsValue>;

/// `(path, source)` evaluated as a script.
fn evaluate(context: &mut Context, (path, source): (&str, &str)) -> JsResult<JsValue> {
    context.eval(Source::from_bytes(source).with_path(Path::new(path)))
}

/// `import { Table } from "typeorm"`: the tool's module, as `require`
/// returns it, its members as named exports.
fn es_module(module: &JsValue, context: &mut Context) -> JsResult<Module> {
    let exported = object(module, "the tool's module")?;
    let names: Vec<JsString> = exported
        .own_property_keys(context)?
        .into_iter()
        .map(|key| JsString::from(key.to_string().as_str()))
        .collect();
    let initialize = SyntheticModuleInitializer::from_copy_closure_with_captures(
        |module, exported: &JsObject, context| {
            for key in exported.own_property_keys(context)? {
                let value = exported.get(key.clone(), context)?;
                module.set_export(&JsString::from(key.to_string().as_str()), value)?;
            }
            Ok(())
        },
        exported,
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
    Ok(JsString::from(sha1_hex_of(&key).as_str()).into())
}

/// The hex SHA-1 of `text`.
pub fn sha1_hex_of(text: &str) -> String {
    use sha1::{Digest, Sha1};
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `queryRunner.query(sql, parameters)`: a promise of the rows, each an
/// object keyed by column.
fn query(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let nothing = |context: &mut Context| Ok(JsArray::new(context)?.into());
    send(
        args,
        context,
        nothing,
        |provider, statement, parameters, context| match sql::query(
            &as_sent(provider, statement),
            parameters,
        ) {
            Ok(result) => rows(result, context).map(Ok),
            Err(error) => Ok(Err(error.message)),
        },
    )
}

/// `execute(sql, parameters)`: a promise of `{ affected, insertId }`, the
/// rows the statement changed and the id the drivers report with them: on
/// MySQL the one an `INSERT` generated, on SQLite the last one the session
/// inserted (what the drivers answer a statement that returns no rows
/// with).
fn execute(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let nothing = |context: &mut Context| changed(0.0, 0.0, context);
    send(
        args,
        context,
        nothing,
        |provider, statement, parameters, context| {
            let inserts = statement
                .trim_start()
                .get(..6)
                .is_some_and(|verb| verb.eq_ignore_ascii_case("INSERT"));
            let affected = match sql::execute(&as_sent(provider, statement), parameters) {
                Ok(affected) => affected,
                Err(error) => return Ok(Err(error.message)),
            };
            let last_id = match provider {
                Provider::Mysql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
                Provider::Sqlite => "SELECT last_insert_rowid()",
                Provider::Postgresql => "",
            };
            let reports_id = match provider {
                Provider::Mysql => inserts,
                Provider::Sqlite => true,
                Provider::Postgresql => false,
            };
            let insert_id = match reports_id {
                true => match sql::query(last_id, &[]) {
                    Ok(result) => match result.rows.first().and_then(|row| row.first()) {
                        Some(SqlValue::Integer(id)) => *id as f64,
                        _ => 0.0,
                    },
                    Err(error) => return Ok(Err(error.message)),
                },
                _ => 0.0,
            };
            Ok(Ok(changed(affected as f64, insert_id, context)?))
        },
    )
}

fn changed(affected: f64, insert_id: f64, context: &mut Context) -> JsResult<JsValue> {
    let object = JsObject::with_object_proto(context.intrinsics());
    object.create_data_property_or_throw(js_string!("affected"), affected, context)?;
    object.create_data_property_or_throw(js_string!("insertId"), insert_id, context)?;
    Ok(object.into())
}

/// What a query does to the session, answered as a promise: on the live
/// session `live` sends it (its `Err` is the database's refusal, which
/// rejects the promise); a recording keeps the statement and answers as a
/// statement that found and changed nothing.
fn send(
    args: &[JsValue],
    context: &mut Context,
    nothing: fn(&mut Context) -> JsResult<JsValue>,
    live: impl FnOnce(Provider, &str, &[SqlValue], &mut Context) -> JsResult<Result<JsValue, String>>,
) -> JsResult<JsValue> {
    let statement = args
        .get_or_undefined(0)
        .to_string(context)?
        .to_std_string_escaped();
    let parameters = parameters(args.get_or_undefined(1), context)?;
    let provider = *context
        .get_data::<Provider>()
        .ok_or_else(|| JsNativeError::error().with_message("no provider"))?;
    let recorded = {
        let session = context
            .get_data::<RefCell<Session>>()
            .ok_or_else(|| JsNativeError::error().with_message("no session"))?;
        match &mut *session.borrow_mut() {
            Session::Live => false,
            Session::Recording(recorded) => {
                recorded.push(statement.clone());
                true
            }
        }
    };
    let answer = match recorded {
        true => Ok(nothing(context)?),
        false => live(provider, &statement, &parameters, context)?,
    };
    match answer {
        Ok(value) => Ok(JsPromise::resolve(value, context)?.into()),
        Err(message) => {
            let error = JsNativeError::error().with_message(message);
            Ok(JsPromise::reject(error, context)?.into())
        }
    }
}

/// The statement as the host's driver should see it to leave what
/// TypeORM's leaves. SQLite keeps a `CREATE INDEX`'s text up to the
/// statement's end, trailing spaces included (TypeORM's generator writes
/// one), and the host's driver trims a statement's ends: after a `;` the
/// end is where the migration put it.
fn as_sent(provider: Provider, statement: &str) -> String {
    if provider != Provider::Sqlite || statement.trim_end().ends_with(';') {
        statement.to_owned()
    } else {
        format!("{statement};")
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

    /// A tool whose migrations are `{ up(db, flavour) }` objects, as
    /// sequelize-cli's are.
    const TOY: Tool = Tool {
        module: "toy",
        allowed: "db.query",
        prelude: (
            "toy.js",
            "(function (sandbox, dialect, flavour) {\n\
               const db = { query: sandbox.query };\n\
               return { module: { flavour }, call: (migration, method) => migration[method](db, dialect) };\n\
             })",
        ),
        parts: &[("flavour.js", "\"plain\"")],
    };

    fn recorded(text: &str) -> Result<Vec<String>, String> {
        let mut engine = Engine::new(Provider::Mysql, &TOY)?;
        let exported = engine.load("1-toy.js", text)?;
        let migration = exported.as_object().ok_or("no object")?;
        match engine.run(&migration, "up", Session::Recording(Vec::new())) {
            (Session::Recording(sql), Ok(())) => Ok(sql),
            (_, outcome) => outcome.map(|()| Vec::new()),
        }
    }

    #[test]
    fn a_tool_gives_its_module_and_its_arguments() {
        let text = "const { flavour } = require(\"toy\");\n\
            module.exports = { async up(db, dialect) {\n\
              await db.query(`SELECT '${flavour}', '${dialect}'`);\n\
            } };";
        assert_eq!(recorded(text).unwrap(), ["SELECT 'plain', 'mysql'"]);
    }

    #[test]
    fn anything_else_of_node_is_refused_with_the_tools_advice() {
        let error = recorded("require(\"os\");").unwrap_err();
        assert!(
            error.contains("require(\"os\") is not available"),
            "{error}"
        );
        assert!(error.contains("it may use db.query"), "{error}");
        let error =
            recorded("module.exports = { up() { setTimeout(() => {}, 1); } };").unwrap_err();
        assert!(error.contains("setTimeout is not available"), "{error}");
    }
}
