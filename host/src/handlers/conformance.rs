//! `faber-db handler test`: what every handler must do, checked against the
//! real runtime and a real SQLite database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::db::{ConnectionString, Server, SessionPolicy, Value};
use crate::runtime::{
    CloudProvider, Grant, Limits, LoadedComponent, MigrationTool, Runtime, Shape, World,
};
use crate::runtime::{
    CreateRequest, HandlerInfo, InfrastructureRequest, InitializeOutcome, InitializeRequest,
    Provider, Resolution, TrackingRequest, TrackingState,
};
use crate::workflow::tracking::{self, State};

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

fn check(name: &'static str, result: Result<String, String>) -> Check {
    match result {
        Ok(detail) => Check {
            name,
            passed: true,
            detail,
        },
        Err(detail) => Check {
            name,
            passed: false,
            detail,
        },
    }
}

/// Runs every check that applies to the component at `path`; stops at the
/// first check that later ones depend on.
pub async fn run(path: &Path) -> Vec<Check> {
    let mut checks = Vec::new();
    let runtime = match Runtime::new(Limits::default()) {
        Ok(runtime) => runtime,
        Err(err) => {
            checks.push(check("runtime", Err(format!("{err:#}"))));
            return checks;
        }
    };
    let name = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let loaded = runtime.load(&name, path).map_err(|err| err.to_string());
    checks.push(check(
        "loads as a component",
        loaded
            .as_ref()
            .map(|c| format!("sha256 {}", c.sha256))
            .map_err(Clone::clone),
    ));
    let Ok(component) = loaded else { return checks };
    let shape = runtime.inspect(&component).map_err(|err| err.to_string());
    checks.push(check(
        "built for a supported contract",
        shape
            .as_ref()
            .map(|s| format!("{} world, faber:db@{}", s.world.as_str(), s.wit_version))
            .map_err(Clone::clone),
    ));
    let Ok(shape) = shape else { return checks };
    match shape.world {
        World::MigrationTool => migration_tool(&runtime, component, &shape, &mut checks).await,
        World::CloudProvider => cloud_provider(&runtime, component, &shape, &mut checks).await,
    }
    checks
}

fn info_is_valid(info: &HandlerInfo, shape: &Shape) -> Result<String, String> {
    let name_ok = !info.name.is_empty()
        && info
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let version_ok = {
        let parts: Vec<&str> = info
            .version
            .split(['-', '+'])
            .next()
            .unwrap_or_default()
            .split('.')
            .collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    let problems: Vec<String> = [
        (!name_ok).then(|| format!("name {:?} is not lower-case kebab-case", info.name)),
        (!version_ok).then(|| format!("version {:?} is not semver", info.version)),
        (info.wit_version != shape.wit_version).then(|| {
            format!(
                "wit-version says {:?} but the component exports faber:db@{}",
                info.wit_version, shape.wit_version
            )
        }),
        info.description
            .trim()
            .is_empty()
            .then(|| "description is empty".to_owned()),
        info.providers
            .is_empty()
            .then(|| "providers is empty".to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if problems.is_empty() {
        Ok(format!(
            "{} {} for faber:db@{}",
            info.name, info.version, info.wit_version
        ))
    } else {
        Err(problems.join("; "))
    }
}

async fn migration_tool(
    runtime: &Runtime,
    component: LoadedComponent,
    shape: &Shape,
    checks: &mut Vec<Check>,
) {
    let tool = match MigrationTool::new(runtime, component) {
        Ok(tool) => tool,
        Err(err) => return checks.push(check("links", Err(err.to_string()))),
    };
    let info = tool.info().await.map_err(|err| err.to_string());
    checks.push(check(
        "info is valid",
        info.as_ref()
            .map_err(Clone::clone)
            .and_then(|info| info_is_valid(info, shape)),
    ));
    let Ok(info) = info else { return };
    if !info.providers.contains(&Provider::Sqlite) {
        return checks.push(check(
            "initialize-schema on SQLite",
            Ok("skipped: the handler does not support sqlite".into()),
        ));
    }
    let scratch = match Scratch::new() {
        Ok(scratch) => scratch,
        Err(err) => return checks.push(check("scratch project", Err(err))),
    };
    let first = scratch.initialize(&tool).await;
    checks.push(check(
        "initialize-schema succeeds on a fresh SQLite database",
        first
            .as_ref()
            .map(|o| format!("baseline {}", o.baseline_migration))
            .map_err(Clone::clone),
    ));
    let Ok(first) = first else { return };
    let rows = scratch.tracking_rows(&first.tracking_table).await;
    checks.push(check(
        "the reported tracking table exists",
        rows.clone()
            .map(|n| format!("{} holds {n} row(s)", first.tracking_table)),
    ));
    checks.push(check(
        "files are written where reported",
        scratch.files_exist(&first.files_written),
    ));
    checks.push(check(
        "applied migrations are recorded",
        match &rows {
            Ok(n) if (*n as usize) >= first.applied.len() => {
                Ok(format!("{} applied, {n} recorded", first.applied.len()))
            }
            Ok(n) => Err(format!(
                "{} reported applied, {n} row(s) recorded",
                first.applied.len()
            )),
            Err(err) => Err(err.clone()),
        },
    ));
    let second = scratch.initialize(&tool).await;
    let again = rows.clone().ok();
    let after = scratch.tracking_rows(&first.tracking_table).await.ok();
    checks.push(check(
        "a second call changes nothing",
        match second {
            Err(err) => Err(format!("the second call failed: {err}")),
            Ok(o)
                if o.tracking_table_created
                    || o.baseline_created
                    || !o.files_written.is_empty()
                    || !o.applied.is_empty() =>
            {
                Err(format!("the second call created or applied again: {o:?}"))
            }
            Ok(_) if again != after => Err(format!("rows changed from {again:?} to {after:?}")),
            Ok(_) => Ok("nothing created, written or applied".to_owned()),
        },
    ));
    if tool.migrates() {
        lifecycle(&tool, &scratch, checks).await;
    }
    checks.push(check("stays inside its grant", scratch.nothing_outside()));
}

/// The 0.3.0 operations on the initialized scratch database: a migration
/// created, seen pending, applied once, a broken one failing without being
/// recorded as applied, and resolved.
async fn lifecycle(tool: &MigrationTool, scratch: &Scratch, checks: &mut Vec<Check>) {
    let created = scratch
        .create(
            tool,
            "conformance table",
            "CREATE TABLE conformance_t (id INTEGER);",
        )
        .await;
    checks.push(check(
        "create-migration writes the file it reports",
        created.clone().and_then(|file| {
            scratch.files_exist(std::slice::from_ref(&file))?;
            Ok(file)
        }),
    ));
    let Ok(file) = created else { return };
    let Some(name) = scratch.migration_named_by(tool, &file).await else {
        return checks.push(check(
            "read-state lists the new migration as pending",
            Err(format!("no migration of the folder is written at {file}")),
        ));
    };
    checks.push(check(
        "read-state lists the new migration as pending",
        scratch.state_of(tool, &name, State::Pending).await,
    ));
    let applied = scratch.apply(tool, &name).await;
    checks.push(check(
        "apply-migration runs it and records it",
        match applied {
            Err(err) => Err(err),
            Ok(()) => match scratch.table_exists("conformance_t").await {
                Ok(true) => scratch.state_of(tool, &name, State::Applied).await,
                Ok(false) => Err("the migration's table was not created".to_owned()),
                Err(err) => Err(err),
            },
        },
    ));
    checks.push(check(
        "apply-migration refuses to apply it twice",
        match scratch.apply(tool, &name).await {
            Ok(()) => Err("applied a second time".to_owned()),
            Err(_) => Ok("refused".to_owned()),
        },
    ));
    let broken = match scratch.create(tool, "broken", "THIS IS NOT SQL;").await {
        Ok(file) => scratch.migration_named_by(tool, &file).await,
        Err(_) => None,
    };
    let Some(broken) = broken else {
        return checks.push(check(
            "a failing migration is not recorded as applied",
            Err("could not create a second migration".to_owned()),
        ));
    };
    checks.push(check(
        "a failing migration is not recorded as applied",
        match scratch.apply(tool, &broken).await {
            Ok(()) => Err("invalid SQL was reported applied".to_owned()),
            Err(_) => match scratch.read(tool).await.map(|s| judged(&s, &broken)) {
                Ok(Some(State::Applied)) => Err("it is recorded as applied".to_owned()),
                Ok(state) => Ok(format!("{:?}", state.map(State::as_str))),
                Err(err) => Err(err),
            },
        },
    ));
    checks.push(check(
        "resolve-migration --applied records it as applied",
        match scratch.resolve(tool, &broken, Resolution::Applied).await {
            Err(err) => Err(err),
            Ok(()) => scratch.state_of(tool, &broken, State::Applied).await,
        },
    ));
}

/// A call's result, once the database it was granted is closed.
async fn closed<T>(
    returned: crate::runtime::Returned,
    result: Result<T, crate::runtime::HandlerFailure>,
) -> Result<T, String> {
    if let Some(database) = returned.database {
        database.close().await;
    }
    result.map_err(|err| err.to_string())
}

fn judged(state: &TrackingState, name: &str) -> Option<State> {
    tracking::classify(state)
        .into_iter()
        .find(|m| m.name == name)
        .map(|m| m.state)
}

async fn cloud_provider(
    runtime: &Runtime,
    component: LoadedComponent,
    shape: &Shape,
    checks: &mut Vec<Check>,
) {
    let provider = match CloudProvider::new(runtime, component) {
        Ok(provider) => provider,
        Err(err) => return checks.push(check("links", Err(err.to_string()))),
    };
    let info = provider.info().await.map_err(|err| err.to_string());
    checks.push(check(
        "info is valid",
        info.as_ref()
            .map_err(Clone::clone)
            .and_then(|info| info_is_valid(info, shape)),
    ));
    let hostings = provider.hostings().await.map_err(|err| err.to_string());
    checks.push(check(
        "hostings are named",
        match &hostings {
            Ok(list) if !list.is_empty() => Ok(list.join(", ")),
            Ok(_) => Err("hostings is empty".to_owned()),
            Err(err) => Err(err.clone()),
        },
    ));
    let (Ok(info), Ok(hostings)) = (info, hostings) else {
        return;
    };
    let request = InfrastructureRequest {
        project: "conformance".to_owned(),
        environment: "dev".to_owned(),
        hosting: hostings[0].clone(),
        provider: info
            .providers
            .first()
            .copied()
            .unwrap_or(Provider::Postgresql),
        settings: "{}".to_owned(),
    };
    checks.push(check(
        "plan describes what it would create",
        match provider.plan(&request).await {
            Ok(lines) if !lines.is_empty() => Ok(lines.join("; ")),
            Ok(_) => Err("the plan is empty".to_owned()),
            Err(err) => Err(err.to_string()),
        },
    ));
}

/// A throwaway project: a SQLite database file and a migrations folder.
struct Scratch {
    _dir: tempfile::TempDir,
    project: PathBuf,
    target: ConnectionString,
}

impl Scratch {
    fn new() -> Result<Scratch, String> {
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let project = dir.path().join("project");
        std::fs::create_dir_all(project.join("migrations")).map_err(|err| err.to_string())?;
        std::fs::write(project.join("conformance.db"), b"").map_err(|err| err.to_string())?;
        let target = ConnectionString::File {
            dir: project.clone(),
            file: Some("conformance.db".to_owned()),
        };
        Ok(Scratch {
            _dir: dir,
            project,
            target,
        })
    }

    fn migrations(&self) -> PathBuf {
        self.project.join("migrations")
    }

    async fn initialize(&self, tool: &MigrationTool) -> Result<InitializeOutcome, String> {
        let request = InitializeRequest {
            provider: Provider::Sqlite,
            database_name: "conformance".to_owned(),
            migrations_dir: "/migrations".to_owned(),
            tracking_table: None,
        };
        let (returned, outcome) = tool.initialize_schema(self.grant().await?, &request).await;
        closed(returned, outcome).await
    }

    fn tracking_request() -> TrackingRequest {
        TrackingRequest {
            provider: Provider::Sqlite,
            database_name: "conformance".to_owned(),
            migrations_dir: "/migrations".to_owned(),
            tracking_table: None,
        }
    }

    async fn read(&self, tool: &MigrationTool) -> Result<TrackingState, String> {
        let (returned, state) = tool
            .read_state(self.grant().await?, &Self::tracking_request())
            .await;
        closed(returned, state).await
    }

    async fn apply(&self, tool: &MigrationTool, name: &str) -> Result<(), String> {
        let (returned, row) = tool
            .apply_migration(self.grant().await?, &Self::tracking_request(), name)
            .await;
        closed(returned, row.map(drop)).await
    }

    async fn resolve(
        &self,
        tool: &MigrationTool,
        name: &str,
        resolution: Resolution,
    ) -> Result<(), String> {
        let (returned, row) = tool
            .resolve_migration(
                self.grant().await?,
                &Self::tracking_request(),
                name,
                resolution,
            )
            .await;
        closed(returned, row.map(drop)).await
    }

    async fn create(&self, tool: &MigrationTool, name: &str, sql: &str) -> Result<String, String> {
        let grant = Grant {
            directory: Some((self.migrations(), "/migrations".to_owned())),
            ..Grant::default()
        };
        let request = CreateRequest {
            provider: Provider::Sqlite,
            migrations_dir: "/migrations".to_owned(),
            name: name.to_owned(),
            sql: sql.to_owned(),
        };
        tool.create_migration(grant, &request)
            .await
            .map_err(|err| err.to_string())
    }

    /// The folder migration whose file is `file` (the name is the path's
    /// first component, or the file name without its extension).
    async fn migration_named_by(&self, tool: &MigrationTool, file: &str) -> Option<String> {
        let state = self.read(tool).await.ok()?;
        state.folder.into_iter().map(|m| m.name).find(|name| {
            file == name
                || file.starts_with(&format!("{name}/"))
                || file.starts_with(&format!("{name}."))
        })
    }

    async fn state_of(
        &self,
        tool: &MigrationTool,
        name: &str,
        want: State,
    ) -> Result<String, String> {
        let state = self.read(tool).await?;
        match judged(&state, name) {
            Some(found) if found == want => Ok(format!("{name} is {}", want.as_str())),
            found => Err(format!(
                "{name} is {}, expected {}",
                found.map_or("absent", State::as_str),
                want.as_str()
            )),
        }
    }

    async fn table_exists(&self, table: &str) -> Result<bool, String> {
        let server = Server::connect(&self.target)
            .await
            .map_err(|f| f.to_string())?;
        let mut database = server
            .open(&self.target, "conformance")
            .await
            .map_err(|f| f.to_string())?;
        let found = database
            .query(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                &[Value::Text(table.to_owned())],
            )
            .await
            .map_err(|err| err.message);
        database.close().await;
        Ok(found?.rows == vec![vec![Value::Integer(1)]])
    }

    /// The folder and the same confined session `init` gives a handler.
    async fn grant(&self) -> Result<Grant, String> {
        let mut server = Server::connect(&self.target)
            .await
            .map_err(|f| f.to_string())?;
        let mut admin = server
            .open(&self.target, "conformance")
            .await
            .map_err(|f| f.to_string())?;
        // The same confined session `init` gives a handler.
        let (database, _) = server
            .open_handler_session(
                &mut admin,
                &self.target,
                "conformance",
                &SessionPolicy::LeastPrivilege { fallback: false },
                Duration::from_secs(60),
            )
            .await
            .map_err(|f| f.to_string())?;
        admin.close().await;
        Ok(Grant {
            directory: Some((self.migrations(), "/migrations".to_owned())),
            database: Some(database),
            ..Grant::default()
        })
    }

    /// Rows in `table`, read on a connection of the host's own.
    async fn tracking_rows(&self, table: &str) -> Result<i64, String> {
        let server = Server::connect(&self.target)
            .await
            .map_err(|f| f.to_string())?;
        let mut database = server
            .open(&self.target, "conformance")
            .await
            .map_err(|f| f.to_string())?;
        let exists = database
            .query(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                &[Value::Text(table.to_owned())],
            )
            .await
            .map_err(|err| err.message)?;
        if exists.rows != vec![vec![Value::Integer(1)]] {
            database.close().await;
            return Err(format!("no table {table:?} in the database"));
        }
        let count = database.count_rows(table).await.map_err(|err| err.message);
        database.close().await;
        count
    }

    fn files_exist(&self, files: &[String]) -> Result<String, String> {
        for file in files {
            let relative = Path::new(file);
            if relative.is_absolute()
                || relative
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(format!(
                    "{file:?} is not a path inside the migrations folder"
                ));
            }
            if !self.migrations().join(relative).is_file() {
                return Err(format!("{file:?} was reported written but is not there"));
            }
        }
        Ok(format!("{} file(s)", files.len()))
    }

    fn nothing_outside(&self) -> Result<String, String> {
        let unexpected: Vec<String> = std::fs::read_dir(&self.project)
            .map_err(|err| err.to_string())?
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name != "migrations" && !name.starts_with("conformance.db"))
            .collect();
        if unexpected.is_empty() {
            Ok("only the migrations folder and the database changed".to_owned())
        } else {
            Err(format!(
                "unexpected entries next to the grant: {}",
                unexpected.join(", ")
            ))
        }
    }
}
