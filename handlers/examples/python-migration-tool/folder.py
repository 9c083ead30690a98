"""The migrations folder: one `<YYYYMMDDHHMMSS>_<name>.sql` file per migration.

The host preopens the folder at the path it names in the request; nothing
outside it is reachable, so every path here is joined onto that one.
"""

import hashlib
import os
import re
import time

from componentize_py_types import Err
from wit_world.imports.types import HandlerError_Filesystem, HandlerError_InvalidRequest

_FILE = re.compile(r"(\d{14}_[a-z0-9_]+)\.sql")


class Migration:
    def __init__(self, name: str, sql: str):
        self.name = name
        self.sql = sql

    @property
    def file(self) -> str:
        return f"{self.name}.sql"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def _filesystem(action: str, error: OSError) -> Err:
    return Err(HandlerError_Filesystem(f"cannot {action}: {error.strerror or error}"))


def names(directory: str) -> list[str]:
    """The name of every migration in the folder, oldest first (the names
    sort by time)."""
    try:
        listed = os.listdir(directory)
    except OSError as error:
        raise _filesystem(f"list {directory}", error)
    return sorted(match.group(1) for match in map(_FILE.fullmatch, listed) if match is not None)


def migrations(directory: str) -> list[Migration]:
    """Every migration in the folder, oldest first."""
    return [Migration(name, read(directory, f"{name}.sql")) for name in names(directory)]


def find(directory: str, name: str) -> Migration:
    for migration in migrations(directory):
        if migration.name == name:
            return migration
    raise Err(HandlerError_InvalidRequest(f"no migration named {name!r} in the folder"))


def read(directory: str, file: str) -> str:
    try:
        with open(os.path.join(directory, file), encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise _filesystem(f"read {file}", error)


def write_new(directory: str, file: str, text: str) -> None:
    """Writes a file that must not exist yet, through a temporary file and a
    rename, so that an interrupted call never leaves half a migration."""
    path = os.path.join(directory, file)
    if os.path.exists(path):
        raise Err(HandlerError_InvalidRequest(f"{file} already exists; try again in a second"))
    temporary = os.path.join(directory, f".{file}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError as error:
        raise _filesystem(f"write {file}", error)


def next_version(directory: str) -> str:
    """The current UTC time as a migration version, e.g. `20261124093000`, or
    the first second after it that sorts after every migration in the folder:
    a new migration runs last, even one made in the same second as the one
    before it."""
    newest = max((name[:14] for name in names(directory)), default="")
    at = time.time()
    while (version := time.strftime("%Y%m%d%H%M%S", time.gmtime(at))) <= newest:
        at += 1
    return version


def normalize(name: str) -> str:
    """A user's migration name as it appears in the file name: snake_case."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
