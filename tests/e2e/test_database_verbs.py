"""Every verb on a database it cannot use: one `ashi:` line, exit status 2, no traceback,
and no database created where there was none (only `run` and `migrate` create one).

All cases run at once (a module fixture): the locked ones wait out SQLite's busy timeout.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.databases import create_database
from tests.support.process import ashi_command, clean_environment

VERBS: dict[str, tuple[str, ...]] = {
    "run": ("run",),
    "demo": ("demo", "--db", "{db}"),
    "migrate": ("migrate",),
    "backup": ("backup", "{tmp}/copy-{name}.sqlite3"),
    "export": ("export",),
    "audit": ("audit",),
    "appointments": ("appointments", "list"),
}
READ_ONLY = ("demo", "backup", "export", "audit", "appointments")


@dataclass(frozen=True)
class Problem:
    expected: str
    verbs: tuple[str, ...] = tuple(VERBS)


PROBLEMS = {
    "missing": Problem("there is no database at", READ_ONLY),
    "not a database": Problem("file is not a database"),
    "another program's": Problem("is an SQLite database of another program, not Ashi's"),
    "newer version": Problem("was made by a newer version of Ashi (schema 999"),
    "locked": Problem("another program keeps it locked"),
}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def holders() -> Iterator[list[sqlite3.Connection]]:
    """Connections of "another program" that hold databases locked until the module ends."""
    connections: list[sqlite3.Connection] = []
    yield connections
    for connection in connections:
        connection.close()


def database_for(problem: str, folder: Path, holders: list[sqlite3.Connection]) -> Path:
    path = folder / "ashi.sqlite3"
    if problem == "not a database":
        path.write_bytes(b"appointments, names and notes, but not SQLite " * 200)
    elif problem == "another program's":
        other = sqlite3.connect(path)
        other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        other.close()
    elif problem == "newer version":
        asyncio.run(create_database(path))
        newer = sqlite3.connect(path)
        newer.execute("PRAGMA user_version = 999")
        newer.close()
    elif problem == "locked":
        asyncio.run(create_database(path))
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holders.append(holder)
    return path


@pytest.fixture(scope="module")
def outcomes(
    tmp_path_factory: pytest.TempPathFactory, holders: list[sqlite3.Connection]
) -> dict[tuple[str, str], tuple[int, str, Path]]:
    """Exit status, output and database path of each (problem, verb), run concurrently."""
    cases: dict[tuple[str, str], tuple[list[str], dict[str, str], Path]] = {}
    for problem, spec in PROBLEMS.items():
        for verb in spec.verbs:
            tmp = tmp_path_factory.mktemp(f"{problem}-{verb}".replace(" ", "_").replace("'", ""))
            db = database_for(problem, tmp, holders)
            args = [a.format(db=db, tmp=tmp, name=verb) for a in VERBS[verb]]
            env = clean_environment(
                ASHI_DB_PATH=str(db),
                TELEGRAM_BOT_TOKEN="424242:WellFormed-but-secret_Token",
                TELEGRAM_API_URL=f"http://127.0.0.1:{closed_port()}/bot",
            )
            cases[(problem, verb)] = ([*ashi_command(), *args], env, tmp)

    async def run_all() -> dict[tuple[str, str], tuple[int, str, Path]]:
        limit = asyncio.Semaphore(8)

        async def one(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
            async with limit:
                process = await asyncio.create_subprocess_exec(
                    *command,
                    cwd=cwd,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                _, stderr = await asyncio.wait_for(process.communicate(), 60)
                assert process.returncode is not None
                return process.returncode, stderr.decode()

        keys = list(cases)
        results = await asyncio.gather(*(one(*cases[key]) for key in keys))
        return {
            key: (status, stderr, Path(cases[key][1]["ASHI_DB_PATH"]))
            for key, (status, stderr) in zip(keys, results, strict=True)
        }

    return asyncio.run(run_all())


@pytest.mark.parametrize(
    ("problem", "verb"), [(p, v) for p, spec in PROBLEMS.items() for v in spec.verbs]
)
def test_one_clear_line_and_exit_status_2(
    problem: str, verb: str, outcomes: dict[tuple[str, str], tuple[int, str, Path]]
) -> None:
    status, stderr, db = outcomes[(problem, verb)]
    assert status == 2, stderr
    assert stderr.count("\n") == 1 and stderr.startswith("ashi: "), stderr
    assert PROBLEMS[problem].expected in stderr
    assert str(db) in stderr  # which database it was
    assert "Traceback" not in stderr
    assert "secret_Token" not in stderr


@pytest.mark.parametrize("verb", READ_ONLY)
def test_verbs_that_only_read_never_create_a_database(
    verb: str, outcomes: dict[tuple[str, str], tuple[int, str, Path]]
) -> None:
    _, _, db = outcomes[("missing", verb)]
    assert not db.exists()
    assert not db.with_name(db.name + "-wal").exists()


def test_backups_are_not_left_half_written(
    outcomes: dict[tuple[str, str], tuple[int, str, Path]],
) -> None:
    for problem in PROBLEMS:
        _, _, db = outcomes[(problem, "backup")]
        copies = list(db.parent.glob("copy-*")) if problem != "locked" else []
        assert copies == [], (problem, copies)
