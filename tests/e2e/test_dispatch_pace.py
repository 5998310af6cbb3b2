"""The dispatcher's pace: just under Telegram's 30/s when nobody is talking to the bot, and
two thirds of it while patients are being answered, so their replies are not held up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.edge.dispatch import PER_SECOND, SHARED_PER_SECOND
from bot.edge.updates import ACTIVE_FOR, PerChatUpdateProcessor
from bot.emulator.server import BotApiEmulator
from bot.settings import Settings
from storage import Storage, utc_now
from tests.support.outbox import (
    REMINDER,
    book,
    chat_started,
    delivered,
    dispatcher,
    sends_to,
)
from tests.support.updates import update

PATIENTS = range(5101, 5109)


async def test_reminders_slow_down_while_a_patient_is_being_answered(
    emulator: BotApiEmulator, settings: Settings, storage: Storage
) -> None:
    now = [0.0]
    updates = PerChatUpdateProcessor(clock=lambda: now[0])
    for patient in PATIENTS:
        await chat_started(emulator, patient, storage)
        await book(storage, "reminder:-60s", utc_now() + timedelta(seconds=60), patient)
    async with dispatcher(
        settings, emulator, storage, conversations_active=updates.conversations_active
    ) as sender:
        assert sender.pace() == PER_SECOND  # nobody has written
        # A patient's update is being handled while the reminders go out.
        answering = asyncio.Event()
        busy = asyncio.create_task(updates.process_update(update(1, 9999), answering.wait()))
        await asyncio.sleep(0)  # let it begin
        sender.start()
        try:
            assert sender.pace() == SHARED_PER_SECOND
            await emulator.wait_for(
                lambda: all(delivered(sends_to(emulator, p, REMINDER)) for p in PATIENTS),
                timeout=10,
            )
        finally:
            answering.set()
            await busy
            await sender.stop()
        now[0] += ACTIVE_FOR
        assert sender.pace() == PER_SECOND  # the conversation has gone quiet

    times = sorted(c.time for p in PATIENTS for c in delivered(sends_to(emulator, p, REMINDER)))
    assert len(times) == len(PATIENTS)
    # Paced at 20/s, not 29.5/s (a margin of one interval for a send that left late).
    assert times[-1] - times[0] >= (len(times) - 2) / SHARED_PER_SECOND
