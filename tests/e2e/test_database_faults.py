"""The database refusing writes while patients answer: full, read-only, locked by another
process. The patient is told to try again, the log says what happened (and nothing the
patient wrote), nothing is half-written, and the intake goes on once the database is back.

The faults are SQLite's own: the bot's connection is limited to the pages it already has
(`max_page_count`: the disk is full), switched to `query_only` (the file is not writable;
file modes cannot be used, as root ignores them), or another process holds the write lock.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import pytest

from bot.emulator.server import BotApiEmulator
from bot.settings import Settings
from storage import Storage
from tests.e2e.conftest import Person, Runner, consent

TRY_AGAIN = "Please try again in a moment"
NEXT_QUESTION = "What brought the pain on?"
WHERE_ELSE = "Where else do you feel pain?"


async def pragma(storage: Storage, statement: str) -> int | None:
    """Run a PRAGMA on the bot's own connection; its first value, if any."""
    rows = await storage._db.execute_fetchall(f"PRAGMA {statement}")
    return int(rows[0][0]) if rows else None


async def intake_state(settings: Settings, user_id: int) -> tuple[str, dict[str, object]]:
    """The step and answers of the patient's intake, read with a connection of our own."""
    async with aiosqlite.connect(settings.db_path) as db:
        async with db.execute(
            "SELECT i.id, i.step FROM intakes i JOIN patients p ON p.id = i.patient_id"
            " WHERE p.telegram_user_id = ? AND i.status = 'in_progress'",
            (user_id,),
        ) as cursor:
            rows = list(await cursor.fetchall())
        assert len(rows) == 1, rows
        intake_id, step = rows[0]
        async with db.execute(
            "SELECT question_id, value FROM answers WHERE intake_id = ?", (intake_id,)
        ) as cursor:
            answers = {str(row[0]): row[1] for row in await cursor.fetchall()}
    return str(step), answers


async def at_where_else(patient: Person) -> None:
    """Consent, tick "Somewhere else" and Done: the text question comes next."""
    await consent(patient)
    await patient.toggles("Somewhere else")
    await patient.tap("Done", then=WHERE_ELSE)


def database_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.edge.app" and r.levelno >= logging.ERROR]


def assert_logged_clearly(caplog: pytest.LogCaptureFixture, reason: str, *secrets: str) -> None:
    """One error line naming the database's reason, without traceback or patient text."""
    errors = database_errors(caplog)
    assert [r.getMessage() for r in errors] == [
        f"database error while handling an update: {reason}"
    ]
    assert errors[0].exc_info is None
    for secret in secrets:
        assert secret not in caplog.text


async def test_a_full_disk_loses_nothing_and_the_patient_is_asked_to_try_again(
    emulator: BotApiEmulator,
    bot: Runner,
    settings: Settings,
    opened: list[Storage],
    caplog: pytest.LogCaptureFixture,
) -> None:
    patient = Person(emulator, 5101, "Full")
    async with bot():
        storage = opened[0]
        await at_where_else(patient)
        before = await intake_state(settings, patient.id)
        # The disk is full: no free page is left inside the file (migrations that rebuild
        # tables leave some), and the file cannot grow by a single page.
        await storage._db.execute("VACUUM")
        assert await pragma(storage, "freelist_count") == 0
        pages = await pragma(storage, "page_count")
        assert await pragma(storage, f"max_page_count = {pages}") == pages
        # An answer too big for the space left in any page (1,000 characters, 4,000 bytes).
        answer = "\N{GRINNING FACE}" * 1000
        caplog.clear()
        patient.send(answer)
        await patient.sees(TRY_AGAIN)
        assert await intake_state(settings, patient.id) == before  # nothing half-written
        assert_logged_clearly(caplog, "database or disk is full", answer[:20])

        # Space again: the same answer is taken and the intake goes on.
        await pragma(storage, "max_page_count = 1073741823")
        patient.send(answer)
        await patient.sees(NEXT_QUESTION)
    step, answers = await intake_state(settings, patient.id)
    assert step == "cause"
    assert sorted(answers) == ["areas", "areas_other"]
    assert len([m for m in patient.messages() if NEXT_QUESTION in m.text]) == 1


async def test_a_read_only_database_refuses_the_tap_and_the_button_still_answers(
    emulator: BotApiEmulator,
    bot: Runner,
    settings: Settings,
    opened: list[Storage],
    caplog: pytest.LogCaptureFixture,
) -> None:
    patient = Person(emulator, 5102, "Readonly")
    async with bot():
        storage = opened[0]
        await at_where_else(patient)
        patient.send("left heel, sharp")
        await patient.sees(NEXT_QUESTION)
        before = await intake_state(settings, patient.id)
        await pragma(storage, "query_only = ON")
        caplog.clear()
        # The tap is answered (no endless spinner) and the patient told to try again.
        await patient.tap("Long sitting or desk work", then=TRY_AGAIN)
        assert await intake_state(settings, patient.id) == before
        assert_logged_clearly(caplog, "attempt to write a readonly database", "left heel")

        await pragma(storage, "query_only = OFF")
        await patient.tap("Long sitting or desk work", then="How strong is the pain")
    step, answers = await intake_state(settings, patient.id)
    assert step == "intensity"
    assert answers["cause"] == '"desk"'


LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""


@asynccontextmanager
async def write_lock_held_elsewhere(db_path: Path) -> AsyncIterator[None]:
    """Another process holds the database's write lock until the block ends."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-c", LOCKER, str(db_path)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert await asyncio.wait_for(process.stdout.readline(), 15) == b"locked\n"
        yield
    finally:
        process.stdin.write(b"\n")
        await process.stdin.drain()
        assert await asyncio.wait_for(process.wait(), 15) == 0


async def test_a_database_locked_by_another_process_refuses_and_then_recovers(
    emulator: BotApiEmulator,
    bot: Runner,
    settings: Settings,
    opened: list[Storage],
    caplog: pytest.LogCaptureFixture,
) -> None:
    patient = Person(emulator, 5103, "Locked")
    async with bot():
        storage = opened[0]
        await at_where_else(patient)
        before = await intake_state(settings, patient.id)
        # The bot waits 5 s for a lock; 0.3 s here keeps the test quick. The other process
        # holds the lock until the patient has been answered: longer than the bot waits.
        assert await pragma(storage, "busy_timeout") == 5000
        await pragma(storage, "busy_timeout = 300")
        async with write_lock_held_elsewhere(settings.db_path):
            caplog.clear()
            patient.send("behind my right knee")
            await patient.sees(TRY_AGAIN)
        assert await intake_state(settings, patient.id) == before
        assert_logged_clearly(caplog, "database is locked", "right knee")

        patient.send("behind my right knee")
        await patient.sees(NEXT_QUESTION)
    step, answers = await intake_state(settings, patient.id)
    assert step == "cause"
    assert answers["areas_other"] == '"behind my right knee"'
