"""The tracking table: one row per migration, keyed by its name.

Columns: `name`, `checksum` (sha256 of the SQL), `started_at`,
`finished_at`, `rolled_back_at` (RFC 3339, UTC, as text so that every
dialect stores them alike), `logs` (the error of a failed run) and
`applied_steps_count`. A row with `started_at` and no `finished_at` is a
failed (or running) migration; `resolve-migration` settles it.
"""

import datetime

from componentize_py_types import Err
from wit_world.exports.migration_tool import TrackingRow
from wit_world.imports import sql
from wit_world.imports.sql import (
    SqlValue,
    SqlValue_Integer,
    SqlValue_Null,
    SqlValue_Text,
)
from wit_world.imports.types import HandlerError_InvalidRequest, HandlerError_Sql, Provider

import dialect

DEFAULT_TABLE = "_python_migrations"
_COLUMNS = (
    "name",
    "checksum",
    "started_at",
    "finished_at",
    "rolled_back_at",
    "logs",
    "applied_steps_count",
)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: str | None) -> SqlValue:
    return SqlValue_Null() if value is None else SqlValue_Text(value)


def _plain(value: SqlValue):
    return None if isinstance(value, SqlValue_Null) else value.value


def execute(statement: str, params: list[SqlValue] | None = None) -> int:
    """`sql.execute`, with the database's error as the contract's `sql` case."""
    try:
        return sql.execute(statement, params or [])
    except Err as error:
        raise Err(HandlerError_Sql(error.value))


def query(statement: str, params: list[SqlValue] | None = None) -> list[list]:
    try:
        result = sql.query(statement, params or [])
    except Err as error:
        raise Err(HandlerError_Sql(error.value))
    return [[_plain(value) for value in row] for row in result.rows]


class Table:
    def __init__(self, provider: Provider, configured: str | None):
        name = configured or DEFAULT_TABLE
        if not dialect.is_identifier(name):
            raise Err(
                HandlerError_InvalidRequest(
                    f"tracking table {name!r}: use letters, digits and underscores "
                    "(at most 63, not starting with a digit)"
                )
            )
        self.provider = provider
        self.name = name
        self.quoted = dialect.quote(provider, name)

    def exists(self) -> bool:
        return bool(query(dialect.table_exists_query(self.provider), [SqlValue_Text(self.name)]))

    def ensure(self) -> bool:
        """Creates the table unless it exists; True when this call created it."""
        if self.exists():
            return False
        key = dialect.key_text(self.provider)
        execute(
            f"CREATE TABLE {self.quoted} ("
            f"name {key} NOT NULL PRIMARY KEY, "
            "checksum VARCHAR(64), "
            "started_at VARCHAR(32), "
            "finished_at VARCHAR(32), "
            "rolled_back_at VARCHAR(32), "
            "logs TEXT, "
            "applied_steps_count INTEGER NOT NULL DEFAULT 0)"
        )
        return True

    def rows(self) -> list[TrackingRow]:
        """Oldest first: by when they started, rows never started last."""
        columns = ", ".join(_COLUMNS)
        found = query(f"SELECT {columns} FROM {self.quoted}")
        rows = [TrackingRow(*values) for values in found]
        return sorted(rows, key=lambda row: (row.started_at is None, row.started_at or "", row.name))

    def row(self, name: str) -> TrackingRow | None:
        return next((row for row in self.rows() if row.name == name), None)

    def start(self, name: str, checksum: str, replace: bool) -> None:
        """Records that `name` is running; `replace` reuses a rolled-back row."""
        if replace:
            self.delete(name)
        p = lambda n: dialect.placeholder(self.provider, n)
        execute(
            f"INSERT INTO {self.quoted} (name, checksum, started_at, applied_steps_count) "
            f"VALUES ({p(1)}, {p(2)}, {p(3)}, 0)",
            [SqlValue_Text(name), SqlValue_Text(checksum), SqlValue_Text(now())],
        )

    def insert_finished(self, name: str, checksum: str | None) -> None:
        """A row for a migration marked applied without running it here."""
        stamp = now()
        execute(
            f"INSERT INTO {self.quoted} "
            "(name, checksum, started_at, finished_at, applied_steps_count) "
            f"VALUES ({dialect.placeholders(self.provider, 4)}, 0)",
            [SqlValue_Text(name), _text(checksum), SqlValue_Text(stamp), SqlValue_Text(stamp)],
        )

    def set(self, name: str, **columns) -> None:
        """Updates the named columns of `name`'s row."""
        p = lambda n: dialect.placeholder(self.provider, n)
        assignments = ", ".join(f"{column} = {p(n)}" for n, column in enumerate(columns, 1))
        values = [
            SqlValue_Integer(value) if isinstance(value, int) else _text(value)
            for value in columns.values()
        ]
        execute(
            f"UPDATE {self.quoted} SET {assignments} WHERE name = {p(len(columns) + 1)}",
            values + [SqlValue_Text(name)],
        )

    def delete(self, name: str) -> None:
        p = dialect.placeholder(self.provider, 1)
        execute(f"DELETE FROM {self.quoted} WHERE name = {p}", [SqlValue_Text(name)])
