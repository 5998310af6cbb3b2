"""One bot per database: an OS file lock beside the database file.

Two processes serving one database would both send the scheduled messages and release
each other's claims. The lock is held for the life of the process and released by the
operating system when it ends, however it ends (a SIGKILL included), so a stale lock
cannot block a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.errors import StorageError


def lock_path(db_path: Path) -> Path:
    """The lock file of a database: `<database>.lock` in the same folder."""
    return db_path.with_name(db_path.name + ".lock")


@dataclass
class DatabaseLock:
    """Held by the process that serves a database (`ashi run`, `ashi demo --db`)."""

    path: Path
    run_id: str
    # The run that held the lock before, if it left its id: it has ended, so whatever it
    # had claimed is free.
    previous_run_id: str | None
    _fd: int

    @classmethod
    def acquire(cls, db_path: Path, verb: str, *, sends: bool = True) -> DatabaseLock:
        """Take the lock or raise StorageError naming the process that holds it.

        `sends`: this process claims scheduled messages under its own run id. One that does
        not (`ashi migrate`) passes the previous run's id on, so that the next bot still
        knows whose claims are void.
        """
        path = lock_path(db_path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(
                f"database {db_path} cannot be used: {exc.strerror or exc}"
                f" (making its lock file {path})"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise StorageError(
                f"the database {db_path} is in use by {_describe(holder)}: stop that one"
                " first (only one bot may serve a database)"
            ) from None
        previous = _read(fd).get("run")
        run_id = uuid.uuid4().hex if sends or not previous else str(previous)
        holder = {
            "verb": f"ashi {verb}",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "run": run_id,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        return cls(path, run_id, str(previous) if previous else None, fd)

    def release(self) -> None:
        """Let another process serve the database (also done by the OS at exit)."""
        with contextlib.suppress(OSError):
            os.close(self._fd)


def _read(fd: int) -> dict[str, object]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, object]) -> str:
    if not holder:
        return "another process"
    return (
        f"{holder.get('verb', 'another process')} (pid {holder.get('pid', '?')}"
        f" on {holder.get('host', '?')}, since {holder.get('since', '?')})"
    )
