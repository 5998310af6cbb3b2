"""Follow-up warning signs end to end: the real app against the emulator, check-ins sent by
the dispatcher on a plan in seconds (and, for the later check-in, an appointment a week ago)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.emulator.models import ChatMessage
from bot.emulator.server import BotApiEmulator
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.plan import parse_plan
from bot.settings import Settings
from storage import Appointment, Storage, utc_now
from tests.e2e.conftest import Person, Runner, reachable_practitioner, started

# The first check-in a second after the start (the "+24 h" one), the later one a week on.
PLAN = "followup:+1s,followup:+7d"
FOLLOWUP = "How are you feeling after your treatment"
ALERT = "Follow-up needs attention"
REASSURANCE = "Soreness for a day or two after treatment is expected"
BREATHING = "have you had shortness of breath, chest pain"
INFECTION = "Is there redness that is spreading"
NUMBNESS = "have you had new numbness or weakness?"
BLEEDING = "kept bleeding even after 10 minutes of firm pressure"
NOTE = "Anything else you would like the practitioner to know?"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        reminder_plan=parse_plan(PLAN),
        quiet_hours=None,
        emergency_number="119",
        clinic_phone="020 7946 0000",
    )


@pytest.fixture
async def clinic(settings: Settings) -> AsyncIterator[AppointmentBook]:
    storage = await Storage.open(settings.db_path)
    yield AppointmentBook(storage, plan=settings.reminder_plan)
    await storage.close()


async def book(clinic: AppointmentBook, patient: Person, starts_in: timedelta) -> Appointment:
    starts = utc_now() + starts_in
    appointment = await clinic.book(NewAppointment(starts, telegram_user_id=patient.id))
    assert appointment is not None
    return appointment


def since(patient: Person, first: ChatMessage) -> list[str]:
    """The texts the patient received from `first` on, in order."""
    return [m.text for m in patient.messages() if m.message_id >= first.message_id]


async def test_a_breathing_problem_gets_emergency_advice_at_once_and_alerts_the_practitioner(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook
) -> None:
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        patient = await started(emulator, 5001, "Hana")
        await book(clinic, patient, timedelta(seconds=1))
        await patient.sees(FOLLOWUP, within=10)
        await patient.tap("2", then="Compared with before")
        await patient.tap("Better", then=BREATHING)
        await patient.tap("Yes", then=INFECTION)
        advice = await patient.sees("Call 119")
        assert "go to an emergency department now" in advice.text
        assert "collapsed lung" in advice.text and "you had needling" in advice.text
        # At once: before the next question.
        nxt = await patient.sees(INFECTION)
        assert advice.message_id < nxt.message_id
        alert = await practitioner.sees(ALERT, "Hana")
        assert "Breathing problems or chest pain: Yes" in alert.text
        await patient.tap("No", then=NUMBNESS)
        await patient.tap("No", then=BLEEDING)
        await patient.tap("No", then=NOTE)
        await patient.tap("Skip", then="Your answers are saved")
        closing = patient.messages()[-1].text
        assert "Please follow the advice above" in closing
        assert REASSURANCE not in closing


async def test_every_answer_that_needs_attention_gets_its_advice_and_an_alert(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook
) -> None:
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        patient = await started(emulator, 5002, "Jun")
        await book(clinic, patient, timedelta(seconds=1))
        first = await patient.sees(FOLLOWUP, within=10)
        await patient.tap("8", then="Compared with before")
        await patient.tap("Worse", then=BREATHING)
        await patient.tap("No", then=INFECTION)
        await patient.tap("Yes", then=NUMBNESS)
        await patient.tap("Yes", then=BLEEDING)
        await patient.tap("No", then=NOTE)
        await patient.tap("Skip", then="Your answers are saved")
        await emulator.wait_for(
            lambda: len([m for m in practitioner.messages() if ALERT in m.text]) == 4
        )
        texts = since(patient, first)
        closing = texts[-1]

    general = [t for t in texts if "I have let the practitioner know, and the clinic" in t]
    infection = [t for t in texts if t.startswith("⚠️ Please see a doctor today.")]
    numbness = [t for t in texts if t.startswith("⚠️ Please contact a doctor today.")]
    assert len(general) == len(infection) == len(numbness) == 1
    assert "call 119" in infection[0]
    assert "call 119 now" in numbness[0]
    assert "face droops" in numbness[0] and "pus where a needle went in" in infection[0]
    # Each advice comes right after its answer, before the next question.
    assert texts.index(infection[0]) < next(i for i, t in enumerate(texts) if NUMBNESS in t)
    assert texts.index(numbness[0]) < next(i for i, t in enumerate(texts) if BLEEDING in t)
    assert not any("Call 119 or go to" in t for t in texts)
    lines = [m.text for m in practitioner.messages() if ALERT in m.text]
    assert [line.splitlines()[1] for line in lines] == [
        "• Soreness now (0-10): 8",
        "• Pain compared with before: Worse",
        "• Signs of infection or fever: Yes",
        "• New numbness or weakness: Yes",
    ]
    assert "Please follow the advice above" in closing and REASSURANCE not in closing


async def test_closing_words_fit_the_day_after_and_a_week_on(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    async with bot():
        day_after = await started(emulator, 5003, "Ara")
        week_on = await started(emulator, 5004, "Bom")
        await book(clinic, day_after, timedelta(seconds=1))
        # An appointment a week ago: its first check-in is long stale, the later one is due.
        old = await book(clinic, week_on, timedelta(seconds=2) - timedelta(days=7))
        for patient in (day_after, week_on):
            await patient.sees(FOLLOWUP, within=10)
            for answer in ("2", "Better", "No", "No", "No", "No"):
                await patient.tap(answer)
            if patient is week_on:  # a week on, pain now as well (no activities were named)
                await patient.sees("How strong is the pain you came in with")
                await patient.tap("3", then="Anything else you would like")
            await patient.tap("Skip", then="Your answers are saved")
        first, later = (p.messages()[-1].text for p in (day_after, week_on))
    assert REASSURANCE in first
    assert REASSURANCE not in later
    assert "If your pain is not improving by now" in later
    assert "contact the clinic on 020 7946 0000" in later
    # The week-old appointment got one check-in only: the later one.
    storage = await Storage.open(settings.db_path)
    try:
        messages = await storage.messages_for(old.id)
    finally:
        await storage.close()
    assert [(m.offset_seconds, m.status) for m in messages] == [(1, "dropped"), (604800, "sent")]
