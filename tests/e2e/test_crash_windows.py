"""SIGKILL in each window where a crash could lose or repeat something, made to happen on
purpose: the emulator holds a call at the chosen moment, the test checks that the bot is in
that window, kills it, restarts it on the same database, and counts what the patient got.

Nothing is lost; a message is repeated only where Telegram gives no way to know that it
arrived (it took the message, and the bot died before recording that).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.emulator.server import BotApiEmulator
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.plan import parse_plan
from storage import Storage, utc_now
from tests.e2e.conftest import Person, pain_questions, safety_questions
from tests.support.bot_process import BotProcess
from tests.support.waiting import eventually

WELCOME = "Do you agree"
THANKS = "Thank you! Your answers are saved"
REMINDER = "Reminder: your appointment"


@pytest.fixture
async def bot(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(emulator, tmp_path)
    await process.start()
    try:
        await emulator.wait_for(lambda: process.running() and emulator.is_polling, timeout=30)
        yield process
        assert await process.stop() == 0
    except BaseException:
        if process.process is not None:
            await process.kill()
        print(process.logs())
        raise


async def restarted(bot: BotProcess, emulator: BotApiEmulator) -> None:
    await bot.kill()
    await bot.start()
    await emulator.wait_for(lambda: bot.running() and emulator.is_polling, timeout=30)


def texts(person: Person, fragment: str) -> list[str]:
    return [m.text for m in person.messages() if fragment in m.text]


async def query(db_path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with aiosqlite.connect(db_path) as db:
        await db.execute("PRAGMA busy_timeout = 5000")
        async with db.execute(sql, params) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]


async def _matching(db_path: Path, sql: str, wanted: list[tuple[Any, ...]]) -> bool:
    return await query(db_path, sql) == wanted


async def test_an_update_fetched_and_confirmed_but_not_handled_survives_a_sigkill(
    emulator: BotApiEmulator, bot: BotProcess
) -> None:
    person = Person(emulator, 96_001, "Window")
    ids: list[int] = []
    emulator.world.update_listeners.append(lambda update, _: ids.append(update["update_id"]))
    # The reply to /start is held before it takes effect: the update is being handled.
    held = emulator.hold("sendMessage", chat_id=person.id)
    person.send("/start")
    await asyncio.wait_for(held.arrived.wait(), timeout=10)
    [update_id] = ids
    # The window: Telegram has the update as confirmed (it will never send it again), and
    # the patient has no answer.
    await emulator.wait_for(lambda: emulator.confirmed(update_id), timeout=15)
    assert texts(person, WELCOME) == []
    await restarted(bot, emulator)
    await person.sees(WELCOME, within=20)
    assert len(texts(person, WELCOME)) == 1  # handled once, from the inbox


async def test_a_sigkill_during_confirm_still_brings_the_guide_once(
    emulator: BotApiEmulator, bot: BotProcess
) -> None:
    person = Person(emulator, 96_002, "Confirm")
    person.send("/start")
    await person.sees(WELCOME)
    await person.tap("I agree", then="Question 1 of")
    await pain_questions(person, "Lower back & hips")
    await safety_questions(person)
    await person.tap("Skip", then="Please check your answers")
    # The thank-you (first of the replies after Confirm) is held before it takes effect.
    held = emulator.hold("sendMessage", chat_id=person.id)
    message, data = person._button("Confirm")
    emulator.press_button(person.id, message.message_id, data)
    await asyncio.wait_for(held.arrived.wait(), timeout=10)
    # The window: the intake is stored as completed, and its guide has not gone out.
    rows = await query(bot.db_path, "SELECT status, guide_sent_at FROM intakes")
    assert rows == [("completed", None)]
    await restarted(bot, emulator)
    await person.sees(THANKS, within=20)
    await person.sees("What to expect")
    assert len(texts(person, THANKS)) == 1
    guided = "SELECT status, guide_sent_at IS NOT NULL FROM intakes"
    assert await eventually(lambda: _matching(bot.db_path, guided, [("completed", 1)]))


async def test_a_reminder_telegram_took_before_the_sigkill_is_sent_once_more_at_most(
    emulator: BotApiEmulator, bot: BotProcess
) -> None:
    person = Person(emulator, 96_003, "Reminded")
    person.send("/start")
    await person.sees(WELCOME)
    # Telegram takes the reminder at once and holds its answer: the bot cannot record it.
    emulator.inject_slow_response("sendMessage", 60.0, chat_id=person.id)
    storage = await Storage.open(bot.db_path)
    try:
        patient = await storage.patient_by_telegram_id(person.id)
        assert patient is not None
        await storage.record_consent(patient.id, True, "v")
        book = AppointmentBook(storage, plan=parse_plan("reminder:-60s"))
        await book.book(NewAppointment(utc_now() + timedelta(seconds=60), person.id))
    finally:
        await storage.close()
    await person.sees(REMINDER, within=20)
    # The window: delivered, and still 'sending' in the database.
    assert await query(bot.db_path, "SELECT status FROM outbox") == [("sending",)]
    await restarted(bot, emulator)

    sent = [("sent",)]
    assert await eventually(lambda: _matching(bot.db_path, "SELECT status FROM outbox", sent), 30)
    # Telegram gives no way to know it arrived: sent again once, never lost.
    assert len(texts(person, REMINDER)) == 2
