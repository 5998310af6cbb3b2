"""Only "blocked" and "chat not found" make a chat unreachable (issue 12): any other refusal
of a practitioner's intake summary keeps it pending, and it is sent again with back-off
until Telegram accepts it; a scheduled message refused so is tried again too."""

from __future__ import annotations

import dataclasses
import itertools
import logging

import pytest

from bot.edge.app import build_application, serving
from bot.emulator.server import BotApiEmulator
from bot.settings import Settings
from storage import Storage
from tests.e2e.conftest import (
    PRACTITIONER_ID,
    Person,
    answer_and_confirm,
    consent,
    reachable_practitioner,
)
from tests.support.waiting import eventually

REFUSAL = "Bad Request: not enough rights to send text messages to the chat"


async def notified(settings: Settings) -> list[bool]:
    storage = await Storage.open(settings.db_path)
    try:
        return [r.intake.notified_at is not None for r in await storage.intake_records()]
    finally:
        await storage.close()


async def _all_notified(settings: Settings) -> bool:
    return await notified(settings) == [True]


def refusals(emulator: BotApiEmulator) -> list[float]:
    """When Telegram refused a message to the practitioner so."""
    return [c.time for c in emulator.transcript if c.description == REFUSAL]


async def test_a_refused_summary_stays_pending_and_is_sent_again_with_back_off(
    emulator: BotApiEmulator, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_application(settings, notification_retry=0.2)
    async with serving(app, poll_timeout=1):
        await emulator.wait_for(lambda: emulator.is_polling)
        practitioner = await reachable_practitioner(emulator)
        emulator.inject_failure(
            "sendMessage", status=400, description=REFUSAL, times=4, chat_id=PRACTITIONER_ID
        )
        patient = Person(emulator, 7101, "Noa")
        await consent(patient)
        await answer_and_confirm(patient, "Neck & shoulders")
        await emulator.wait_for(lambda: len(refusals(emulator)) >= 3, timeout=15)
        assert await notified(settings) == [False]  # nothing arrived: not marked notified
        summary = await practitioner.sees("New intake: Noa", within=15)
        assert "Neck & shoulders" in summary.text
    times = refusals(emulator)
    assert len(times) == 4  # the first send and three retries, then accepted
    gaps = [b - a for a, b in itertools.pairwise(times[1:])]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps))  # back-off
    assert await notified(settings) == [True]
    logged = [r for r in caplog.records if "refused a notification" in r.getMessage()]
    assert len(logged) == 1  # reported once, not at every retry
    assert all(r.levelno == logging.WARNING for r in logged)
    # The practitioner still counts as reachable: nothing said they blocked the bot.
    assert not any("not reachable" in r.getMessage() for r in caplog.records)


async def test_a_summary_refused_for_one_practitioner_is_resent_to_that_one_only(
    emulator: BotApiEmulator, settings: Settings
) -> None:
    second_id = PRACTITIONER_ID + 1
    two = dataclasses.replace(settings, practitioner_ids=frozenset({PRACTITIONER_ID, second_id}))
    app = build_application(two, notification_retry=0.2)
    async with serving(app, poll_timeout=1):
        await emulator.wait_for(lambda: emulator.is_polling)
        first = await reachable_practitioner(emulator)
        second = Person(emulator, second_id, "Dr Lee")
        second.send("/help")
        await second.sees("/delete")
        emulator.inject_failure(
            "sendMessage", status=400, description=REFUSAL, times=2, chat_id=second_id
        )
        patient = Person(emulator, 7102, "Ola")
        await consent(patient)
        await answer_and_confirm(patient, "Arms")
        await second.sees("New intake: Ola", within=15)
        await eventually(lambda: _all_notified(two))
    # The one who got it at once is not sent it again by the retries for the other.
    assert len([m for m in first.messages() if "New intake: Ola" in m.text]) == 1
    assert len([m for m in second.messages() if "New intake: Ola" in m.text]) == 1
    assert await notified(two) == [True]  # recorded before the bot stopped
