"""What differs between the three SQL dialects the host may hand us.

Everything else in this handler is dialect-free: it asks this module for a
placeholder, a quoted name, the table-exists query or a column type.
"""

import re

from wit_world.imports.types import Provider

# A name we are willing to splice into SQL (quoted): letters, digits and
# underscores, not starting with a digit. Anything else is refused up front,
# so quoting never has to escape.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def is_identifier(name: str) -> bool:
    return _IDENTIFIER.fullmatch(name) is not None


def placeholder(provider: Provider, n: int) -> str:
    """The n-th (1-based) bound parameter: `$n` on PostgreSQL, `?` elsewhere."""
    return f"${n}" if provider == Provider.POSTGRESQL else "?"


def placeholders(provider: Provider, count: int) -> str:
    return ", ".join(placeholder(provider, n) for n in range(1, count + 1))


def quote(provider: Provider, name: str) -> str:
    """Quotes a name already checked with `is_identifier`."""
    return f"`{name}`" if provider == Provider.MYSQL else f'"{name}"'


def table_exists_query(provider: Provider) -> str:
    """One parameter (the table's name); a row comes back when it exists.

    Each database keeps its catalog elsewhere: SQLite in `sqlite_master`, the
    others in `information_schema`, scoped to the schema (PostgreSQL) or the
    database (MySQL) this session works in.
    """
    if provider == Provider.SQLITE:
        return "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
    if provider == Provider.POSTGRESQL:
        return (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = $1"
        )
    return (
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name = ?"
    )


def key_text(provider: Provider) -> str:
    """A text column that is part of a key.

    MySQL cannot index TEXT without a prefix length, and an indexed VARCHAR
    must fit the index's byte limit: 3072 bytes with InnoDB's DYNAMIC rows,
    767 bytes with the older COMPACT rows; at 4 bytes per utf8mb4 character
    VARCHAR(191) fits both.
    """
    return "VARCHAR(191)" if provider == Provider.MYSQL else "TEXT"
