"""End-to-end harness: the real application over HTTP against the Bot API emulator."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.edge.app import build_application, serving
from bot.emulator.models import ChatMessage
from bot.emulator.ratelimit import RateLimits
from bot.emulator.server import BotApiEmulator
from bot.runner import webhook_plan
from bot.settings import Settings, parse_settings
from storage import IntakeRecord, Storage, utc_now
from storage.base import Clock
from tests.support.ports import free_port

PRACTITIONER_ID = 777


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    # Simulated patients tap far faster than people (a whole intake in a second or two), so
    # the per-chat pace is raised here; test_rate_limits.py runs with Telegram's real limits.
    emu = BotApiEmulator(rate_limits=RateLimits(per_chat_per_second=20.0))
    await emu.start()
    yield emu
    await emu.stop()
    # Every call the bot made must have been a valid Bot API call.
    assert emu.violations == []


@pytest.fixture
def settings(tmp_path: Path, emulator: BotApiEmulator) -> Settings:
    base = parse_settings({"ASHI_CLINIC_NAME": "Ashi Test Clinic"}, require_token=False)
    return dataclasses.replace(
        base,
        token=emulator.token,
        api_url=emulator.base_url,
        db_path=tmp_path / "ashi.sqlite3",
        practitioner_ids=frozenset({PRACTITIONER_ID}),
    )


Runner = Callable[[], AbstractAsyncContextManager[object]]


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Storage]:
    """Every Storage opened from now on (the bot's is the first)."""
    storages: list[Storage] = []
    original = Storage.open

    async def capture(path: str | Path, *, clock: Clock = utc_now) -> Storage:
        storage = await original(path, clock=clock)
        storages.append(storage)
        return storage

    monkeypatch.setattr(Storage, "open", capture)
    return storages


# ASHI_TEST_WEBHOOK=1: every `bot()` takes its updates on a webhook instead of polling.
ON_WEBHOOK = os.environ.get("ASHI_TEST_WEBHOOK") == "1"
WEBHOOK_SECRET = "s3cret-for-the-tests_0123456789"


def hooked(settings: Settings) -> Settings:
    """The settings with a webhook on a free local port."""
    port = free_port()
    return dataclasses.replace(
        settings,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        listen=("127.0.0.1", port),
        webhook_secret=WEBHOOK_SECRET,
    )


@pytest.fixture
def bot(settings: Settings, emulator: BotApiEmulator) -> Runner:
    """`async with bot():` runs a fresh application (a new process, in effect) on the
    same database until the block ends (on a webhook with ASHI_TEST_WEBHOOK=1)."""

    @asynccontextmanager
    async def run() -> AsyncIterator[object]:
        if ON_WEBHOOK:
            on = hooked(settings)
            async with serving(build_application(on), webhook=webhook_plan(on)) as app:
                await emulator.wait_for(lambda: emulator.world.webhook is not None)
                yield app
            return
        async with serving(build_application(settings), poll_timeout=1) as app:
            await emulator.wait_for(lambda: emulator.is_polling)
            yield app

    return run


class Person:
    """A simulated Telegram user who reads what the bot sends and taps its buttons."""

    def __init__(self, emulator: BotApiEmulator, user_id: int, name: str, **kw: str) -> None:
        self.emu, self.id = emulator, user_id
        emulator.add_user(user_id, name, **kw)
        self.seen = 0  # highest message id already looked at

    def messages(self) -> list[ChatMessage]:
        return self.emu.bot_messages(self.id)

    def send(self, text: str) -> None:
        self.seen = self.emu.send_text(self.id, text)

    async def sees(self, *fragments: str, within: float = 10.0) -> ChatMessage:
        """Wait for a bot message newer than the last action that contains every fragment."""

        def found() -> ChatMessage | None:
            return next(
                (
                    m
                    for m in self.messages()
                    if m.message_id > self.seen and all(f in m.text for f in fragments)
                ),
                None,
            )

        message: ChatMessage = await self.emu.wait_for(found, within)
        return message

    def _button(self, label: str) -> tuple[ChatMessage, str]:
        for message in reversed(self.messages()):
            for row in message.buttons:
                for button in row:
                    if button.text.removeprefix("✅ ") == label and button.callback_data:
                        return message, button.callback_data
        raise AssertionError(f"no button {label!r}; last message: {self.messages()[-1:]}")

    async def tap(self, label: str, then: str | None = None) -> None:
        """Tap the newest button with this label; wait until the bot answered the tap
        (and, when `then` is given, for a new message containing it)."""
        message, data = self._button(label)
        self.seen = max(m.message_id for m in self.emu.chat(self.id))
        query = self.emu.press_button(self.id, message.message_id, data)
        await self.emu.wait_for(lambda: self.emu.callback_query(query).answered)
        if then is not None:
            await self.sees(then)

    async def toggles(self, label: str) -> None:
        """Tap a multi-select option and wait for its check mark to change."""
        message, data = self._button(label)

        def checked() -> bool:
            current = self.emu.world.find_message(self.id, message.message_id)
            assert current is not None
            return any(b.text == f"✅ {label}" for row in current.buttons for b in row)

        before = checked()
        self.emu.press_button(self.id, message.message_id, data)
        await self.emu.wait_for(lambda: checked() != before)


async def stored_records(settings: Settings) -> list[IntakeRecord]:
    """Every intake in the bot's database, read as the practitioner's export would."""
    storage = await Storage.open(settings.db_path)
    try:
        return await storage.intake_records()
    finally:
        await storage.close()


SCREENING_AND_RED_FLAGS = 19
ACTIVITIES_PROMPT = "What does the pain make hard"


async def started(emulator: BotApiEmulator, user_id: int, name: str) -> Person:
    """A patient who has opened the bot and agreed to share answers (any clinic name)."""
    patient = Person(emulator, user_id, name)
    patient.send("/start")
    await patient.sees("Do you agree")
    await patient.tap("I agree", then="Question 1 of")
    return patient


async def consent(p: Person) -> None:
    p.send("/start")
    await p.sees("intake assistant of Ashi Test Clinic", "Do you agree")
    await p.tap("I agree", then="Question 1 of")


async def pain_questions(p: Person, *areas: str) -> None:
    for area in areas:
        await p.toggles(area)
    if "Somewhere else" in areas:
        await p.tap("Done", then="Where else do you feel pain?")
        p.send("left foot")
        await p.sees("What brought the pain on?")
    else:
        await p.tap("Done", then="What brought the pain on?")
    await p.tap("Long sitting or desk work", then="How strong is the pain")
    await p.tap("7", then="How long have you had this pain?")
    await p.tap("More than 12 weeks", then="hurts sharply when you press it")
    await p.tap("Yes", then="spreading in an arm or a leg")


async def safety_questions(
    p: Person, yes: tuple[str, ...] = (), count: int = SCREENING_AND_RED_FLAGS
) -> None:
    """Answer `count` one-tap safety questions: Yes where the question has one of `yes`;
    the activities question after the last one skipped (they are for other tests)."""
    for _ in range(count):
        question = p.messages()[-1].text
        await p.tap("Yes" if any(word in question for word in yes) else "No")
    if ACTIVITIES_PROMPT in p.messages()[-1].text:
        await p.tap("Skip", then="Anything else the practitioner should know")


async def answer_and_confirm(p: Person, area: str) -> None:
    """After consent: pain in one area, no to every safety question, no notes, confirmed."""
    await pain_questions(p, area)
    await safety_questions(p)
    await p.tap("Skip", then="Please check your answers")
    await p.tap("Confirm", then="Thank you! Your answers are saved")


async def reachable_practitioner(emulator: BotApiEmulator) -> Person:
    """The practitioner, who has written to the bot once so that it can write back."""
    practitioner = Person(emulator, PRACTITIONER_ID, "Dr Na")
    practitioner.send("/help")
    # The patients' help, then the practitioners' own: both in, before a test goes on (one
    # that makes Telegram refuse the practitioner's next message must not hit the second).
    await practitioner.sees("/delete")
    await practitioner.sees("For practitioners")
    return practitioner


async def export_text(settings: Settings, fmt: str) -> str:
    """What `ashi export --format FMT` prints for the bot's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASHI_", "TELEGRAM_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "export", "--format", fmt),
        env={**env, "ASHI_DB_PATH": str(settings.db_path)},
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    assert process.returncode == 0
    return stdout.decode("utf-8")


async def export_json(settings: Settings) -> dict[str, Any]:
    """What `ashi export --format json` prints for the bot's database."""
    data: dict[str, Any] = json.loads(await export_text(settings, "json"))
    return data
