"""Database problems as one line a person can act on."""

from __future__ import annotations

import sqlite3

# What a caller outside storage/ catches to report a database that refuses.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)


class StorageError(Exception):
    """The database cannot be used; the message says why and what to do, in one line."""


def describe(exc: BaseException) -> str:
    """SQLite's reason in plain words (never the values involved: SQLite's messages hold
    none, and nothing else is added)."""
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    reason = str(exc)
    lowered = reason.lower()
    if "file is not a database" in lowered:
        return "file is not a database (a wrong ASHI_DB_PATH?)"
    if "unable to open database file" in lowered:
        return "unable to open it: check that the file and its folder exist and are readable"
    if "locked" in lowered or "busy" in lowered:
        return "another program keeps it locked (SQLite: database is locked); try again later"
    if "readonly" in lowered or "read-only" in lowered:
        return "it is read-only: the file, its folder and its -wal/-shm files must be writable"
    if "disk is full" in lowered or "database or disk is full" in lowered:
        return "the disk is full: free some space"
    if "disk i/o" in lowered:
        return "the disk reported an I/O error (full, failing, or removed?)"
    if "malformed" in lowered or "corrupt" in lowered:
        return f"it is damaged (SQLite: {reason}): restore it from a backup"
    return f"SQLite: {reason}"
