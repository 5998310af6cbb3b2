"""The outbox dispatcher when Telegram pushes back: 429, 502, 403, and quiet hours.

Each test checks the promise of issue 3 from the emulator's transcript (what really went
over the wire) and from the outbox rows (what was recorded).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.emulator.server import BotApiEmulator
from bot.scheduling.plan import QuietHours, parse_plan
from bot.settings import Settings
from storage import Appointment, ScheduledMessage, Storage, utc_now
from tests.e2e.conftest import PRACTITIONER_ID, Person, Runner, consent, reachable_practitioner
from tests.support.outbox import REMINDER, book, chat_started, delivered, dispatcher, sends_to
from tests.support.waiting import eventually

# What the intake message says to a patient who has consented (an intake is under way).
INVITATION = "You have already started your intake"
FOLLOWUP = "How are you feeling after your treatment"
BLOCKED_NOTICE = "has blocked the bot"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The e2e settings with a plan in seconds and no quiet hours."""
    plan = parse_plan("intake:-5s,reminder:-3s,followup:+1s,followup:+4s")
    return dataclasses.replace(settings, reminder_plan=plan, quiet_hours=None)


@pytest.fixture
async def storage(settings: Settings) -> AsyncIterator[Storage]:
    """The clinic's own connection to the bot's database (as `ashi appointments` has)."""
    store = await Storage.open(settings.db_path)
    yield store
    await store.close()


async def rows(storage: Storage, appointment: Appointment) -> list[ScheduledMessage]:
    return await storage.messages_for(appointment.id)


# 429 ---------------------------------------------------------------------------------------


async def test_429_is_honoured_and_the_message_arrives_once(
    emulator: BotApiEmulator, bot: Runner, storage: Storage
) -> None:
    Person(emulator, PRACTITIONER_ID, "Dr Na").send("/start")  # so nothing else is refused
    async with bot():
        patient = Person(emulator, 5001, "Ren")
        await consent(patient)
        # More refusals than AIORateLimiter(max_retries=3) absorbs: four calls fail inside
        # one claim, the dispatcher puts the row back for retry_after, and its next claim
        # meets a fifth 429 before the message goes through.
        emulator.inject_failure(
            "sendMessage",
            status=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
            times=5,
        )
        appointment = await book(storage, "reminder:-60s", utc_now() + timedelta(seconds=60), 5001)
        await patient.sees(REMINDER, within=15)

    calls = sends_to(emulator, patient.id)
    refused = [call for call in calls if call.error_code == 429]
    assert len(refused) == 5
    assert len(delivered(sends_to(emulator, patient.id, REMINDER))) == 1
    # No call to the chat came sooner than retry_after after a 429.
    for previous, following in itertools.pairwise(calls):
        if previous.error_code == 429:
            assert following.time - previous.time >= 1.0, (previous, following)
    assert delivered(calls)[-1].time - refused[0].time >= 5 * 1.0
    [row] = await rows(storage, appointment)
    assert row.status == "sent"
    assert row.attempts == 2  # claimed again by the dispatcher after the limiter gave up
    # Nothing but the 429s was refused: the limits were respected otherwise.
    assert [c for c in emulator.transcript if not c.ok and c.method != "getUpdates"] == refused


# 502 ---------------------------------------------------------------------------------------


async def test_502_is_retried_with_back_off_and_the_message_arrives_once(
    emulator: BotApiEmulator, settings: Settings, storage: Storage
) -> None:
    await chat_started(emulator, 5002, storage)
    async with dispatcher(settings, emulator, storage, retry_base=1.0) as sender:
        emulator.inject_failure("sendMessage", status=502, description="Bad Gateway", times=2)
        appointment = await book(storage, "reminder:-60s", utc_now() + timedelta(seconds=60), 5002)
        sender.start()
        try:
            await emulator.wait_for(lambda: delivered(sends_to(emulator, 5002)), timeout=10)
            [row] = await eventually(lambda: _with_status(storage, appointment, "sent"), within=5)
        finally:
            await sender.stop()

    calls = sends_to(emulator, 5002, REMINDER)
    assert [c.error_code for c in calls] == [502, 502, None]
    # Back-off of retry_base * 2**(attempts-1): one second, then two.
    assert calls[1].time - calls[0].time >= 1.0
    assert calls[2].time - calls[1].time >= 2.0
    assert row.attempts == 3
    assert row.sent_at is not None


async def test_a_refusal_other_than_blocked_is_retried_not_given_up(
    emulator: BotApiEmulator, settings: Settings, storage: Storage
) -> None:
    await chat_started(emulator, 5005, storage)
    refusal = "Bad Request: not enough rights to send text messages to the chat"
    async with dispatcher(settings, emulator, storage, retry_base=0.2) as sender:
        emulator.inject_failure("sendMessage", status=400, description=refusal, chat_id=5005)
        appointment = await book(storage, "reminder:-60s", utc_now() + timedelta(seconds=60), 5005)
        sender.start()
        try:
            [row] = await eventually(lambda: _with_status(storage, appointment, "sent"), within=10)
        finally:
            await sender.stop()
    calls = sends_to(emulator, 5005, REMINDER)
    assert [c.error_code for c in calls] == [400, None]
    assert row.attempts == 2
    patient = await storage.patient_by_telegram_id(5005)
    assert patient is not None and patient.unreachable_at is None  # not taken for blocked


# Timeouts ----------------------------------------------------------------------------------


async def reminder_sent_despite(
    emulator: BotApiEmulator,
    settings: Settings,
    storage: Storage,
    patient_id: int,
    fault: Callable[[], None],
    *,
    read_timeout: float = 5.0,
) -> ScheduledMessage:
    """Book a reminder due now for a patient whose chat exists, set up `fault`, and let a
    dispatcher send it; returns the row once it counts as sent."""
    await chat_started(emulator, patient_id, storage)
    quick = dispatcher(settings, emulator, storage, retry_base=0.2, read_timeout=read_timeout)
    async with quick as sender:
        fault()
        due = utc_now() + timedelta(seconds=60)
        appointment = await book(storage, "reminder:-60s", due, patient_id)
        sender.start()
        try:
            [row] = await eventually(lambda: _with_status(storage, appointment, "sent"), within=10)
        finally:
            await sender.stop()
    return row


async def test_a_database_locked_while_a_sent_message_is_recorded_costs_no_duplicate(
    emulator: BotApiEmulator, settings: Settings, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    await chat_started(emulator, 5006, storage)
    async with dispatcher(settings, emulator, storage, retry_base=0.2, idle=0.2) as sender:
        # Telegram takes the message at once and answers a second later: in that second
        # another program takes the database's write lock, for longer than SQLite waits.
        emulator.inject_slow_response("sendMessage", 1.0)
        appointment = await book(storage, "reminder:-60s", utc_now() + timedelta(seconds=60), 5006)
        other = sqlite3.connect(settings.db_path, isolation_level=None)
        sender.start()
        try:
            await emulator.wait_for(lambda: sends_to(emulator, 5006, REMINDER))
            other.execute("BEGIN IMMEDIATE")
            await emulator.wait_for(
                lambda: any("cannot be recorded" in r.getMessage() for r in caplog.records),
                timeout=15,
            )
            other.execute("COMMIT")
            [row] = await eventually(lambda: _with_status(storage, appointment, "sent"), within=10)
        finally:
            other.close()
            await sender.stop()
    # Recorded by the first send: a row left 'sending' would have been claimed and sent again.
    assert len(sends_to(emulator, 5006, REMINDER)) == 1
    assert row.attempts == 1


async def test_a_reminder_whose_answer_times_out_is_recorded_and_not_sent_twice(
    emulator: BotApiEmulator, settings: Settings, storage: Storage
) -> None:
    # Telegram takes the message and answers only after the client gave up waiting.
    slow = functools.partial(emulator.inject_slow_response, "sendMessage", 1.0)
    row = await reminder_sent_despite(emulator, settings, storage, 5003, slow, read_timeout=0.3)
    assert row.outcome == "unconfirmed: read timed out"
    assert row.attempts == 1
    assert [c.ok for c in sends_to(emulator, 5003, REMINDER)] == [True]


async def test_a_reminder_whose_connection_dropped_after_the_request_is_not_sent_twice(
    emulator: BotApiEmulator, settings: Settings, storage: Storage
) -> None:
    # Telegram delivers it and the connection breaks before its answer.
    dropped = functools.partial(
        emulator.inject_dropped_connection, "sendMessage", after_effect=True
    )
    row = await reminder_sent_despite(emulator, settings, storage, 5004, dropped)
    assert row.outcome == "unconfirmed: connection lost"
    assert row.attempts == 1
    assert len(sends_to(emulator, 5004, REMINDER)) == 1
    [delivered] = emulator.bot_messages(5004)
    assert REMINDER in delivered.text


# The database refusing -----------------------------------------------------------------


async def test_a_database_that_refuses_writes_is_retried_less_often_with_one_line_each(
    emulator: BotApiEmulator,
    settings: Settings,
    storage: Storage,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await chat_started(emulator, 5005, storage)
    appointment = await book(storage, "reminder:-60s", utc_now() + timedelta(seconds=60), 5005)
    await storage._db.execute("PRAGMA query_only = ON")  # the file is not writable
    async with dispatcher(settings, emulator, storage, idle=0.2) as sender:
        sender.start()
        try:

            def refusals() -> list[logging.LogRecord]:
                return [r for r in caplog.records if r.name == "bot.edge.dispatch"]

            await emulator.wait_for(lambda: len(refusals()) >= 4, timeout=10)
            await storage._db.execute("PRAGMA query_only = OFF")  # writable again
            [row] = await eventually(lambda: _with_status(storage, appointment, "sent"), within=10)
        finally:
            await sender.stop()

    first = refusals()[:4]
    for record in first:
        assert record.getMessage().startswith(
            "dispatcher: database error: attempt to write a readonly database; retrying in"
        )
        assert record.exc_info is None
    # Waits of 0.2, 0.4 and 0.8 s between tries, not a try every 0.2 s.
    gaps = [b.created - a.created for a, b in itertools.pairwise(first)]
    for gap, pause in zip(gaps, (0.2, 0.4, 0.8), strict=True):
        assert gap >= pause - 0.05, gaps
    assert row.attempts == 1
    assert [c.ok for c in sends_to(emulator, 5005, REMINDER)] == [True]


async def _with_status(
    storage: Storage, appointment: Appointment, *statuses: str
) -> list[ScheduledMessage] | None:
    """The appointment's rows once every one has one of `statuses`."""
    found = await rows(storage, appointment)
    return found if found and all(m.status in statuses for m in found) else None


# 403 ---------------------------------------------------------------------------------------


async def test_403_marks_the_patient_unreachable_and_stops_further_messages(
    emulator: BotApiEmulator, bot: Runner, storage: Storage
) -> None:
    plan = "intake:-4s,reminder:-1s,followup:+1s,followup:+2s"
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        patient, control = Person(emulator, 5003, "Ines"), Person(emulator, 5004, "Jon")
        await consent(patient)
        await consent(control)
        starts = utc_now() + timedelta(seconds=4)
        appointment = await book(storage, plan, starts, patient.id)
        await book(storage, plan, starts, control.id)

        await patient.sees(INVITATION, within=5)
        emulator.block_bot(patient.id)  # before the reminder falls due
        notice = await practitioner.sees(BLOCKED_NOTICE, within=8)
        assert "Ines" in notice.text and f"id {patient.id}" in notice.text
        # The control patient with the same plan gets the last follow-up: by then every
        # message of the blocked patient would have been tried.
        await control.sees(FOLLOWUP, within=10)
        await emulator.wait_for(
            lambda: len(delivered(sends_to(emulator, control.id, FOLLOWUP))) == 2, timeout=5
        )

    attempts = sends_to(emulator, patient.id)
    assert [c.error_code for c in attempts if not c.ok] == [403]
    assert REMINDER in str(attempts[-1].params["text"])  # the reminder was the one refused
    assert not sends_to(emulator, patient.id, FOLLOWUP)
    intake, reminder, *followups = await rows(storage, appointment)
    assert (intake.kind, intake.status) == ("intake", "sent")
    assert (reminder.kind, reminder.status) == ("reminder", "failed")
    assert reminder.outcome is not None and reminder.outcome.startswith("unreachable")
    assert [(m.kind, m.status, m.outcome) for m in followups] == [
        ("followup", "skipped", "patient unreachable")
    ] * 2
    record = await storage.patient_by_telegram_id(patient.id)
    assert record is not None and record.unreachable_at is not None
    assert len([m for m in practitioner.messages() if BLOCKED_NOTICE in m.text]) == 1


async def test_403_stops_the_rest_of_a_batch_claimed_together(
    emulator: BotApiEmulator, bot: Runner, storage: Storage
) -> None:
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        patient = Person(emulator, 5005, "Kai")
        await consent(patient)
        emulator.block_bot(patient.id)
        # Both messages are due at once (as after downtime): one claim takes both.
        starts = utc_now() + timedelta(seconds=8)
        appointment = await book(storage, "intake:-10s,reminder:-8s", starts, patient.id)
        await practitioner.sees(BLOCKED_NOTICE, within=5)
        intake, reminder = await eventually(
            lambda: _with_status(storage, appointment, "sent", "failed", "skipped")
        )

    assert [c.error_code for c in sends_to(emulator, patient.id) if not c.ok] == [403]
    assert (intake.status, reminder.status) == ("failed", "skipped")
    assert reminder.outcome == "patient unreachable"
    assert len([m for m in practitioner.messages() if BLOCKED_NOTICE in m.text]) == 1


# Quiet hours -------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_quiet_hours_hold_a_message_and_drop_a_stale_reminder(
    emulator: BotApiEmulator, settings: Settings, storage: Storage
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    settings = dataclasses.replace(settings, timezone=berlin)
    quiet = QuietHours(start=time(21), end=time(8))

    def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
        return datetime(2030, 3, day, hour, minute, second, tzinfo=berlin).astimezone(UTC)

    await chat_started(emulator, 5006, storage)
    # Reminders twelve hours ahead: one for 10:00 (due 22:00, in quiet hours), one for
    # 07:30 (due 19:30, still unsent at 22:00; quiet hours end after it has started).
    later = await book(storage, "reminder:-12h", local(13, 10), 5006)
    early = await book(storage, "reminder:-12h", local(13, 7, 30), 5006)
    clock = FakeClock(local(12, 22))
    async with dispatcher(settings, emulator, storage, quiet=quiet, clock=clock) as sender:
        assert await sender.run_once() == 2
        [held] = await rows(storage, later)
        assert (held.status, held.due_at, held.outcome) == ("pending", local(13, 8), "quiet hours")
        [stale] = await rows(storage, early)
        assert stale.status == "dropped"
        assert stale.outcome is not None and "stale" in stale.outcome

        clock.now = local(13, 7, 59, 59)
        assert await sender.run_once() == 0
        assert not sends_to(emulator, 5006)  # nothing at all during quiet hours

        clock.now = local(13, 8)
        assert await sender.run_once() == 1

    [reminder] = delivered(sends_to(emulator, 5006))
    assert REMINDER in str(reminder.params["text"])
    assert "10:00" in str(reminder.params["text"])  # in clinic time
    [sent] = await rows(storage, later)
    assert sent.status == "sent"
    assert len(sends_to(emulator, 5006)) == 1
