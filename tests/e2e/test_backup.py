"""`ashi backup` while patients are answering: a consistent copy that holds every intake
completed before it began, made 0600, never over an existing file."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

from bot.emulator.server import BotApiEmulator
from bot.settings import Settings
from tests.e2e.conftest import Person, Runner, answer_and_confirm, consent
from tests.support.process import ashi_command, clean_environment

PATIENTS = 12


async def backup(settings: Settings, target: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *ashi_command(),
        "backup",
        str(target),
        env=clean_environment(ASHI_DB_PATH=str(settings.db_path)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def completed_intakes(path: Path) -> set[int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT id FROM intakes WHERE status = 'completed'")}


def answers_of(path: Path, intake_ids: set[int]) -> dict[int, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT intake_id, COUNT(*) FROM answers GROUP BY intake_id")
        return {intake: count for intake, count in rows if intake in intake_ids}


def completed_at_least(settings: Settings, count: int) -> Callable[[], bool]:
    return lambda: len(completed_intakes(settings.db_path)) >= count


async def complete_intake(patient: Person) -> None:
    await consent(patient)
    await answer_and_confirm(patient, "Neck & shoulders")


async def test_backup_during_live_traffic(
    emulator: BotApiEmulator, bot: Runner, settings: Settings, tmp_path: Path
) -> None:
    copies: list[tuple[Path, set[int]]] = []
    async with bot():
        patients = [Person(emulator, 8000 + n, f"P{n}") for n in range(PATIENTS)]
        traffic = asyncio.gather(*(complete_intake(p) for p in patients))
        for number in range(4):
            await emulator.wait_for(completed_at_least(settings, number * 3), timeout=60)
            before = completed_intakes(settings.db_path)
            target = tmp_path / f"backup-{number}.sqlite3"
            status, output = await backup(settings, target)
            assert status == 0, output
            assert f"written to {target}" in output
            copies.append((target, before))
        await traffic
    live = completed_intakes(settings.db_path)
    assert len(live) == PATIENTS
    for target, before in copies:
        with sqlite3.connect(target) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        in_copy = completed_intakes(target)
        assert before <= in_copy <= live
        live_answers = answers_of(settings.db_path, in_copy)
        assert answers_of(target, in_copy) == live_answers  # whole intakes, nothing torn

    # A backup never overwrites: the earlier copy stays as it was.
    first = copies[0][0]
    was = first.read_bytes()
    status, output = await backup(settings, first)
    assert status == 2
    assert output.startswith("ashi: ") and output.count("\n") == 1
    assert "exists already" in output
    assert first.read_bytes() == was
