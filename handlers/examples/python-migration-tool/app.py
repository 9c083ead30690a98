"""A migration-tool handler for faber-db, written in Python.

componentize-py turns this module into a WebAssembly component for the
`migration-tool-handler` world of `faber:db@0.6.0` (wit/faber-db.wit): the
class `MigrationTool` below implements the exported `migration-tool`
interface; `wit_world.imports.sql`, `.migration_script` and `.log` are what
the host grants.

The tool it implements is deliberately small: migrations are
`<YYYYMMDDHHMMSS>_<name>.sql` files in the migrations folder, recorded in one
tracking table (see `tracking.py`). Errors leave as
`componentize_py_types.Err(<a HandlerError case>)`, which the host reports
as a step error with recovery suggestions.
"""

import functools
import traceback

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.migration_tool import (
    ApplyFailure,
    CreateRequest,
    FolderMigration,
    InitializeOutcome,
    InitializeRequest,
    MigrationForm,
    MigrationLock,
    MigrationLock_MysqlNamed,
    MigrationLock_None_,
    MigrationLock_PostgresAdvisory,
    ProjectFile,
    ProjectReading,
    ProjectReading_Settings,
    ProjectSettings,
    Resolution,
    TrackingRequest,
    TrackingRow,
    TrackingState,
)
from wit_world.imports import log, migration_script, sql
from wit_world.imports.types import (
    HandlerError,
    HandlerError_Conflict,
    HandlerError_Internal,
    HandlerError_InvalidRequest,
    HandlerError_Sql,
    HandlerInfo,
    Provider,
)

import folder
import tracking
from tracking import Table

NAME = "python-migration-tool"
VERSION = "0.1.0"
# The contract this handler was built against: the `package` line of the WIT
# file given to componentize-py. The host checks it against the component.
WIT_VERSION = "0.6.0"

# "pymg" as an integer: the advisory lock key this tool takes on PostgreSQL.
PG_LOCK_KEY = 0x70796D67
MYSQL_LOCK_NAME = "python_migration_tool"

BASELINE_SQL = "-- Baseline: the schema starts empty. Later migrations build on it.\n"
EMPTY_SQL = "-- Write this migration's SQL here.\n"


class ScriptFailed(Exception):
    """A migration's own SQL failed, and its failure is recorded:
    `apply-migrations` reports the migration as the one that `failed`."""

    def __init__(self, name: str, error: HandlerError):
        super().__init__(f"{name} failed")
        self.name = name
        self.error = error


def internal(error: Exception) -> HandlerError:
    """A stray Python exception as `handler-error.internal`, naming where it
    was raised, instead of a trap the host can only call a crash."""
    where = traceback.extract_tb(error.__traceback__)[-1]
    return HandlerError_Internal(
        f"{type(error).__name__}: {error} ({where.filename}:{where.lineno})"
    )


def contract_errors(operation):
    """Turns a Python exception that is not already a contract error into
    `handler-error.internal`."""

    @functools.wraps(operation)
    def guarded(*args):
        try:
            return operation(*args)
        except Err:
            raise
        except ScriptFailed as failure:
            raise Err(failure.error)
        except Exception as error:
            raise Err(internal(error))

    return guarded


def is_blank(text: str) -> bool:
    """True when the SQL holds no statement (MySQL refuses an empty query)."""
    lines = (line.split("--", 1)[0].strip() for line in text.splitlines())
    return not any(line and line != ";" for line in lines)


def execute_unless_blank(text: str) -> None:
    """Runs SQL on `sql`: how `initialize-schema` applies the baseline
    (`migration-script` is granted to `apply-migrations` only)."""
    if not is_blank(text):
        sql.execute(text, [])


def run_and_record(table: Table, migration: folder.Migration, replace: bool, run) -> TrackingRow:
    """Records the start, runs the SQL with `run`, records the end. When `run`
    raises the database's error (`Err(SqlError)`), the row stays recorded as
    started, with the database's message in `logs`, and `ScriptFailed` is
    raised."""
    table.start(migration.name, migration.checksum, replace)
    try:
        run()
    except Err as error:
        message = error.value.message
        log.log(log.Level.ERROR, f"{migration.name} failed: {message}")
        try:
            table.set(migration.name, logs=message)
        except Err as recording:
            # The row, unfinished, still marks the migration failed.
            log.log(
                log.Level.WARN,
                f"{migration.name}: writing its logs failed too: {recording.value.value.message}",
            )
        raise ScriptFailed(migration.name, HandlerError_Sql(error.value))
    table.set(migration.name, finished_at=tracking.now(), applied_steps_count=1)
    log.log(log.Level.INFO, f"applied {migration.name}")
    return table.row(migration.name)


def apply_one(table: Table, directory: str, name: str) -> TrackingRow:
    """Applies one migration: the host runs its file (`migration-script`), in
    one transaction; the rows are written here, on `sql`."""
    migration = folder.find(directory, name)
    row = table.row(name)
    if is_live(row) and row.finished_at is not None:
        raise Err(HandlerError_Conflict(f"{name} is already applied"))
    if is_live(row):
        raise Err(
            HandlerError_Conflict(
                f"{name} failed earlier (started {row.started_at}); "
                "resolve it as applied or rolled back first"
            )
        )
    # The rows are this handler's own (`bookkeeping=None`): a run killed
    # between the script and them needs `resolve`, which the contract's
    # `bookkeeping` would spare.
    script = migration_script.Script(
        path=migration.file,
        after_line=None,
        before_line=None,
        in_transaction=True,
        bookkeeping=None,
    )
    return run_and_record(
        table, migration, replace=row is not None, run=lambda: migration_script.run(script)
    )


def is_live(row: TrackingRow | None) -> bool:
    return row is not None and row.rolled_back_at is None


class MigrationTool(exports.MigrationTool):
    def info(self) -> HandlerInfo:
        return HandlerInfo(
            name=NAME,
            version=VERSION,
            wit_version=WIT_VERSION,
            description="Plain SQL migration files, written in Python (componentize-py example)",
            providers=[Provider.POSTGRESQL, Provider.MYSQL, Provider.SQLITE],
        )

    @contract_errors
    def initialize_schema(self, request: InitializeRequest) -> InitializeOutcome:
        table = Table(request.provider, request.tracking_table)
        directory = request.migrations_dir
        migrations = folder.migrations(directory)
        files_written = []
        if not migrations:
            baseline = folder.Migration(f"{folder.next_version(directory)}_init", BASELINE_SQL)
            folder.write_new(directory, baseline.file, baseline.sql)
            files_written.append(baseline.file)
            migrations = [baseline]
        baseline = migrations[0]

        created = table.ensure()
        if created:
            log.log(log.Level.INFO, f"created {table.name} in {request.database_name}")
        applied = []
        if not is_live(table.row(baseline.name)):
            run = lambda: execute_unless_blank(baseline.sql)
            run_and_record(table, baseline, replace=False, run=run)
            applied.append(baseline.name)
        recorded = {row.name for row in table.rows() if is_live(row)}
        pending = [m.name for m in migrations if m.name not in recorded]
        return InitializeOutcome(
            tracking_table=table.name,
            tracking_table_created=created,
            baseline_migration=baseline.name,
            baseline_created=bool(files_written),
            applied=applied,
            pending=pending,
            files_written=files_written,
            next_steps=[
                "Write your first migration: faber-db generate-migration <name>",
                "Apply it: faber-db migrate <environment>",
            ],
        )

    def migration_lock_for(self, provider: Provider) -> MigrationLock:
        if provider == Provider.POSTGRESQL:
            return MigrationLock_PostgresAdvisory(PG_LOCK_KEY)
        if provider == Provider.MYSQL:
            return MigrationLock_MysqlNamed(MYSQL_LOCK_NAME)
        return MigrationLock_None_()

    def migration_form_for(self, provider: Provider) -> MigrationForm:
        # Its migrations are SQL files, which the host runs.
        return MigrationForm.SQL_FILES

    @contract_errors
    def read_state(self, request: TrackingRequest) -> TrackingState:
        table = Table(request.provider, request.tracking_table)
        initialized = table.exists()
        return TrackingState(
            tracking_table=table.name,
            initialized=initialized,
            rows=table.rows() if initialized else [],
            folder=[
                FolderMigration(name=m.name, checksum=m.checksum, sql=m.sql)
                for m in folder.migrations(request.migrations_dir)
            ],
        )

    def tracking_table_for(self, request: TrackingRequest) -> str:
        return request.tracking_table or tracking.DEFAULT_TABLE

    def apply_migrations(self, request: TrackingRequest, names: list[str]) -> list[TrackingRow]:
        """Each migration in turn; the first failure stops the call, which
        reports what it applied before."""
        applied = []
        try:
            table = Table(request.provider, request.tracking_table)
            table.ensure()
            for name in names:
                applied.append(apply_one(table, request.migrations_dir, name))
        except ScriptFailed as failure:
            raise Err(ApplyFailure(applied=applied, failed=failure.name, error=failure.error))
        except Err as error:
            raise Err(ApplyFailure(applied=applied, failed=None, error=error.value))
        except Exception as error:
            raise Err(ApplyFailure(applied=applied, failed=None, error=internal(error)))
        return applied

    @contract_errors
    def resolve_migration(
        self, request: TrackingRequest, name: str, resolution: Resolution
    ) -> TrackingRow:
        table = Table(request.provider, request.tracking_table)
        table.ensure()
        row = table.row(name)
        failed = is_live(row) and row.finished_at is None
        if resolution == Resolution.APPLIED:
            if failed:
                table.set(name, finished_at=tracking.now())
            elif is_live(row):
                raise Err(HandlerError_Conflict(f"{name} is already applied"))
            else:
                checksum = next(
                    (m.checksum for m in folder.migrations(request.migrations_dir) if m.name == name),
                    None,
                )
                table.delete(name)
                table.insert_finished(name, checksum)
        elif failed:
            table.set(name, rolled_back_at=tracking.now())
        else:
            raise Err(
                HandlerError_Conflict(f"only a failed migration can be rolled back; {name} is not one")
            )
        return table.row(name)

    @contract_errors
    def create_migration(self, request: CreateRequest) -> str:
        name = folder.normalize(request.name)
        if not name:
            raise Err(HandlerError_InvalidRequest("the migration's name has no letters or digits"))
        migration = folder.Migration(
            f"{folder.next_version(request.migrations_dir)}_{name}", request.sql or EMPTY_SQL
        )
        folder.write_new(request.migrations_dir, migration.file, migration.sql)
        return migration.file

    def read_project(self, files: list[ProjectFile]) -> ProjectReading:
        # The tool keeps no configuration file: `config init` gets its
        # conventions, and reads nothing of the project.
        return ProjectReading_Settings(
            ProjectSettings(
                tool_name=NAME,
                read_from=[],
                provider=None,
                migrations_directory="migrations",
                tracking_table=None,
                url_variable=None,
                next_steps=[],
                details="{}",
            )
        )
