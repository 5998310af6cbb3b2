"""Numbered SQL migrations, applied in order and recorded in PRAGMA user_version."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from storage.base import SerialConnection

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str]]:
    """All migrations shipped with the package, as (number, sql), in order."""
    found: list[tuple[int, str]] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


@cache
def latest_version() -> int:
    """The schema version this version of Ashi brings a database to."""
    return len(migrations())


async def schema_version(db: SerialConnection) -> int:
    """The number of the last migration applied to this database."""
    rows = await db.execute_fetchall("PRAGMA user_version")
    return int(rows[0][0]) if rows else 0


async def apply_migrations(db: SerialConnection) -> list[int]:
    """Apply every migration newer than the database, each in its own transaction.

    Run with foreign keys off (a table rebuilt the way SQLite documents would otherwise take
    the rows that refer to it along when the old table is dropped); every reference is
    checked before each migration commits.
    """
    current = await schema_version(db)
    applied: list[int] = []
    for number, sql in migrations():
        if number <= current:
            continue
        # The explicit transaction makes each migration all-or-nothing.
        try:
            await db.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {number};")
            broken = list(await db.execute_fetchall("PRAGMA foreign_key_check"))
            if broken:
                raise RuntimeError(f"migration {number} leaves {len(broken)} broken references")
            await db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            raise
        applied.append(number)
    return applied
