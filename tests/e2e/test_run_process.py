"""`ashi run` as deployed: a separate process configured by environment variables."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from bot.emulator.server import BotApiEmulator
from tests.e2e.conftest import Person
from tests.support.process import ashi_command

SECRET_NOTE = "my private back story 12345"


async def test_ashi_run_serves_patients_and_logs_no_token_or_answers(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASHI_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=emulator.token,
        TELEGRAM_API_URL=emulator.base_url,
        ASHI_DB_PATH=str(tmp_path / "ashi.sqlite3"),
        ASHI_CLINIC_NAME="Process Clinic",
    )
    process = await asyncio.create_subprocess_exec(
        *ashi_command(),
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await emulator.wait_for(lambda: emulator.is_polling, timeout=30)
        patient = Person(emulator, 3001, "Hana")
        patient.send("/start")
        await patient.sees("intake assistant of Process Clinic")
        await patient.tap("I agree", then="Question 1 of")
        await patient.toggles("Somewhere else")
        await patient.tap("Done", then="Where else do you feel pain?")
        patient.send(SECRET_NOTE)
        await patient.sees("What brought the pain on?")
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Application started" in log  # the log is really captured
    assert emulator.token not in log
    assert emulator.token.split(":")[1] not in log
    assert SECRET_NOTE not in log
    assert "Traceback" not in log
