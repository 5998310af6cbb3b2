"""Databases for tests that run `ashi` verbs, which (but for run and migrate) never create one."""

from pathlib import Path

from storage import Storage


async def create_database(path: Path) -> None:
    """What `ashi migrate` does: a new database at the current schema."""
    await (await Storage.open(path)).close()
