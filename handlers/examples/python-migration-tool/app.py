"""A migration-tool handler for faber-db, written in Python.

componentize-py turns this module into a WebAssembly component for the
`migration-tool-handler` world of `faber:db@0.3.0` (wit/faber-db.wit): the
class `MigrationTool` below implements the exported `migration-tool`
interface; `wit_world.imports.sql` and `.log` are what the host grants.

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
    CreateRequest,
    FolderMigration,
    InitializeOutcome,
    InitializeRequest,
    MigrationLock,
    MigrationLock_MysqlNamed,
    MigrationLock_None_,
    MigrationLock_PostgresAdvisory,
    Resolution,
    TrackingRequest,
    TrackingRow,
    TrackingState,
)
from wit_world.imports import log
from wit_world.imports.types import (
    HandlerError_Conflict,
    HandlerError_Internal,
    HandlerError_InvalidRequest,
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
WIT_VERSION = "0.3.0"

# "pymg" as an integer: the advisory lock key this tool takes on PostgreSQL.
PG_LOCK_KEY = 0x70796D67
MYSQL_LOCK_NAME = "python_migration_tool"

BASELINE_SQL = "-- Baseline: the schema starts empty. Later migrations build on it.\n"
EMPTY_SQL = "-- Write this migration's SQL here.\n"


def contract_errors(operation):
    """Turns a Python exception that is not already a contract error into
    `handler-error.internal`, instead of a trap the host can only call a crash."""

    @functools.wraps(operation)
    def guarded(*args):
        try:
            return operation(*args)
        except Err:
            raise
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            message = f"{type(error).__name__}: {error} ({where.filename}:{where.lineno})"
            raise Err(HandlerError_Internal(message))

    return guarded


def is_blank(sql: str) -> bool:
    """True when the SQL holds no statement (MySQL refuses an empty query)."""
    lines = (line.split("--", 1)[0].strip() for line in sql.splitlines())
    return not any(line and line != ";" for line in lines)


def run_and_record(table: Table, migration: folder.Migration, replace: bool) -> TrackingRow:
    """Records the start, runs the SQL, records the end. A failing statement
    stays recorded as started, with the database's message in `logs`."""
    table.start(migration.name, migration.checksum, replace)
    if not is_blank(migration.sql):
        try:
            tracking.execute(migration.sql)
        except Err as error:
            table.set(migration.name, logs=error.value.value.message)
            raise
    table.set(migration.name, finished_at=tracking.now(), applied_steps_count=1)
    log.log(log.Level.INFO, f"applied {migration.name}")
    return table.row(migration.name)


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
            run_and_record(table, baseline, replace=False)
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

    @contract_errors
    def apply_migration(self, request: TrackingRequest, name: str) -> TrackingRow:
        table = Table(request.provider, request.tracking_table)
        migration = folder.find(request.migrations_dir, name)
        table.ensure()
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
        return run_and_record(table, migration, replace=row is not None)

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
