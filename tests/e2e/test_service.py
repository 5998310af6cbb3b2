"""`ashi run` operated as a service: the start-up line, one bot per database, a revoked
token, stop signals, broken content, and a whole intake.

Each test starts `ashi` as its own process (tests/support/process.py), so with ASHI_INSTALLED
set (`make test-installed`) the same tests run the installed wheel outside the checkout.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path

import pytest

from bot.emulator.server import BotApiEmulator
from tests.e2e.conftest import Person, answer_and_confirm
from tests.support.process import Running, ashi, start_ashi

PRACTITIONER = 4242
NEVER_STARTED = 5151
STOP_DEADLINE = 15.0  # the promise for SIGTERM and SIGINT


def bot_settings(emulator: BotApiEmulator, tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_URL": emulator.base_url,
        "ASHI_DB_PATH": str(tmp_path / "ashi.sqlite3"),
        "ASHI_CLINIC_NAME": "Service Clinic",
        "ASHI_TIMEZONE": "Europe/London",
        "ASHI_PRACTITIONER_IDS": f"{PRACTITIONER},{NEVER_STARTED}",
        **more,
    }


async def serving(emulator: BotApiEmulator, tmp_path: Path, **more: str) -> Running:
    """`ashi run` started and polling."""
    bot = await start_ashi("run", cwd=tmp_path, **bot_settings(emulator, tmp_path, **more))
    try:
        await emulator.wait_for(lambda: emulator.is_polling, timeout=30)
    except BaseException:
        await bot.stop()
        raise
    return bot


async def log_shows(bot: Running, pattern: str, within: float = 10.0) -> str:
    """Wait for a log line matching `pattern`; returns it."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        match = re.search(pattern, bot.output())
        if match:
            return match.group(0)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no line matching {pattern!r} in:\n{bot.output()}")


async def test_a_whole_intake_and_the_start_up_line(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    practitioner = Person(emulator, PRACTITIONER, "Dr Na")
    practitioner.send("/start")  # before the bot runs: it can write to them
    bot = await serving(emulator, tmp_path)
    try:
        line = await log_shows(bot, r"Ashi \S+ serving @\S+: .*")
        assert "serving @ashi_test_bot:" in line
        assert f"database {tmp_path / 'ashi.sqlite3'}" in line
        assert "time zone Europe/London" in line
        assert "languages en, ko (default en)" in line
        assert "2 practitioners" in line
        assert line.endswith(
            "not started the bot yet (they receive nothing until they send it /start):"
            f" {NEVER_STARTED}"
        )
        assert str(PRACTITIONER) not in line.split("not started")[1]

        patient = Person(emulator, 6001, "Hana")
        patient.send("/start")
        await patient.sees("intake assistant of Service Clinic")
        await patient.tap("I agree", then="Question 1 of")
        await answer_and_confirm(patient, "Neck & shoulders")
        await patient.sees("Neck and shoulder tension")
        await patient.sees("local twitch response")
        await practitioner.sees("New intake: Hana")
    finally:
        bot.process.send_signal(signal.SIGTERM)
        status = await bot.ended(STOP_DEADLINE)
    assert status == 0, bot.output()
    assert emulator.token not in bot.output()
    assert "Traceback" not in bot.output()
    assert bot.output().count(str(NEVER_STARTED)) == 1  # said once, in the start-up line


async def test_a_second_bot_on_the_same_database_is_refused(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    first = await serving(emulator, tmp_path)
    try:
        settings = bot_settings(emulator, tmp_path)
        started = time.monotonic()
        second = ashi("run", cwd=tmp_path, **settings)
        assert time.monotonic() - started < 10
        assert second.returncode == 2
        assert second.stderr.count("\n") == 1, second.stderr
        assert f"database {tmp_path / 'ashi.sqlite3'} is in use by ashi run" in second.stderr
        assert f"pid {first.process.pid}" in second.stderr

        migrate = ashi("migrate", cwd=tmp_path, **settings)
        assert migrate.returncode == 2, migrate.stdout + migrate.stderr
        assert f"in use by ashi run (pid {first.process.pid}" in migrate.stderr

        demo = ashi("demo", "--db", settings["ASHI_DB_PATH"], cwd=tmp_path)
        assert demo.returncode == 2, demo.stdout + demo.stderr
        assert f"pid {first.process.pid}" in demo.stderr
        assert "Traceback" not in demo.stderr
    finally:
        first.process.send_signal(signal.SIGINT)
        assert await first.ended(STOP_DEADLINE) == 0, first.output()
    # Once it has ended, the database is free again.
    again = await serving(emulator, tmp_path)
    again.process.send_signal(signal.SIGTERM)
    assert await again.ended(STOP_DEADLINE) == 0, again.output()


async def test_a_token_revoked_while_running_ends_the_process(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    token = emulator.token
    bot = await serving(emulator, tmp_path)
    try:
        revoked_at = time.monotonic()
        emulator.revoke_token()
        status = await bot.ended(within=20)
        took = time.monotonic() - revoked_at
    finally:
        await bot.stop()
    output = bot.output()
    assert status == 2, output
    assert took < 20
    errors = [line for line in output.splitlines() if " ERROR " in line]
    assert len(errors) == 1, output
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in errors[0]
    assert token not in output and token.split(":")[1] not in output
    assert "Traceback" not in output


async def test_stop_signals_end_the_process_even_while_telegram_hangs(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    bot = await serving(emulator, tmp_path)
    try:
        # Flood control for two minutes: the reply being handled waits out retry_after,
        # far longer than the stop deadline.
        emulator.inject_failure(
            "sendMessage", status=429, description="Too Many Requests", retry_after=120
        )
        patient = Person(emulator, 6002, "Jun")
        patient.send("/start")
        await emulator.wait_for(
            lambda: any(c.error_code == 429 for c in emulator.transcript), timeout=10
        )
        stopped_at = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)
        await bot.ended(STOP_DEADLINE)
        assert time.monotonic() - stopped_at < STOP_DEADLINE
    finally:
        await bot.stop()
    assert emulator.token not in bot.output()


@pytest.mark.parametrize("verb", [("run",), ("demo",)])
async def test_broken_content_refuses_to_start(
    verb: tuple[str, ...], emulator: BotApiEmulator, tmp_path: Path
) -> None:
    texts = tmp_path / "texts"
    assert ashi("content", "init", str(texts), cwd=tmp_path).returncode == 0
    messages = texts / "en" / "messages.toml"
    messages.write_text(messages.read_text().replace("<b>Your answers</b>", "<b>Your answers"))
    result = ashi(
        *verb, cwd=tmp_path, **bot_settings(emulator, tmp_path, ASHI_CONTENT_DIR=str(texts))
    )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("ashi: content problem: ") for line in lines)
    assert any(
        f"{texts}: content/en/messages.toml: consent.welcome: invalid Telegram HTML" in line
        for line in lines
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert not emulator.transcript  # nothing was sent to Telegram, not even getMe
    assert not (tmp_path / "ashi.sqlite3").exists()


async def test_an_edited_copy_of_the_texts_is_what_patients_read(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    texts = tmp_path / "clinic-texts"
    init = ashi("content", "init", str(texts), cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert f"ASHI_CONTENT_DIR={texts}" in init.stdout
    messages = texts / "en" / "messages.toml"
    edited = messages.read_text().replace("intake assistant of", "friendly intake helper of", 1)
    assert edited != messages.read_text()
    messages.write_text(edited)
    bot = await serving(emulator, tmp_path, ASHI_CONTENT_DIR=str(texts))
    try:
        await log_shows(bot, f"content {re.escape(str(texts))}")
        patient = Person(emulator, 6003, "Min")
        patient.send("/start")
        await patient.sees("friendly intake helper of Service Clinic")
        await patient.tap("I agree", then="Question 1 of")
        await answer_and_confirm(patient, "Lower back & hips")
        await patient.sees("Lower back, hip and pelvic discomfort")
    finally:
        bot.process.send_signal(signal.SIGTERM)
        assert await bot.ended(STOP_DEADLINE) == 0, bot.output()
