"""Appointments and their scheduled messages, end to end with short offsets in seconds."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.emulator.server import BotApiEmulator
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.plan import parse_plan
from bot.settings import Settings
from storage import Appointment, Storage, utc_now
from tests.e2e.conftest import Person, Runner, reachable_practitioner

PLAN = "intake:-5s,reminder:-3s,followup:+1s,followup:+4s"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The e2e settings with a plan in seconds and no quiet hours."""
    return dataclasses.replace(settings, reminder_plan=parse_plan(PLAN), quiet_hours=None)


@pytest.fixture
async def clinic(settings: Settings) -> AsyncIterator[AppointmentBook]:
    """The clinic's side: books appointments in the database, as `ashi appointments` does."""
    storage = await Storage.open(settings.db_path)
    yield AppointmentBook(storage, plan=settings.reminder_plan)
    await storage.close()


def arrived(emulator: BotApiEmulator, chat_id: int, fragment: str) -> list[float]:
    """When (time.monotonic) each message containing `fragment` was sent to the chat."""
    return [
        call.time
        for call in emulator.transcript
        if call.ok
        and call.method == "sendMessage"
        and call.params.get("chat_id") == chat_id
        and fragment in str(call.params.get("text"))
    ]


async def book_in(clinic: AppointmentBook, seconds: float, **who: object) -> Appointment:
    starts = utc_now() + timedelta(seconds=seconds)
    appointment = await clinic.book(NewAppointment(starts, **who))  # type: ignore[arg-type]
    assert appointment is not None
    return appointment


async def started(emulator: BotApiEmulator, user_id: int, name: str) -> Person:
    """A patient who has opened the bot and agreed to share answers."""
    patient = Person(emulator, user_id, name)
    patient.send("/start")
    await patient.sees("Do you agree")
    await patient.tap("I agree", then="Question 1 of")
    return patient


async def test_messages_arrive_on_plan_and_the_answers_are_kept(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        patient = await started(emulator, 4001, "Min")
        appointment = await book_in(clinic, 6, telegram_user_id=patient.id)
        # The transcript's clock is time.monotonic(): where the appointment starts on it.
        start = time.monotonic() + appointment.starts_at.timestamp() - time.time()

        invitation = await patient.sees("please answer a few questions about your pain", within=8)
        reminder = await patient.sees("Reminder: your appointment", within=8)
        assert "1 Needle Lane" not in reminder.text  # no address configured: the clinic's name
        assert "Ashi Test Clinic" in reminder.text
        await patient.tap("I'll be there", then="see you then")

        followup = await patient.sees("How are you feeling after your treatment", within=10)
        assert "How sore is the treated area" in followup.text
        await patient.tap("8", then="Compared with before")
        assert any("I have let the practitioner know" in m.text for m in patient.messages())
        alert = await practitioner.sees("Follow-up needs attention: Min")
        assert "Soreness now (0-10): 8" in alert.text
        await patient.tap("Worse", then="have you had any of these?")
        await patient.tap("No", then="Anything else you would like")
        patient.send("Stiff in the morning")
        await patient.sees("Your answers are saved for the practitioner")

        second = await patient.sees("How are you feeling after your treatment", within=10)
        assert second.message_id != followup.message_id
        await patient.tap("2")
        await patient.tap("Better")
        await patient.tap("No")
        await patient.tap("Skip", then="Your answers are saved")

    # Each message went out within a second or two of its planned time.
    sent = {
        -5: min(arrived(emulator, patient.id, "please answer a few questions about your pain")),
        -3: min(arrived(emulator, patient.id, "Reminder: your appointment")),
    }
    sent[1], sent[4] = sorted(arrived(emulator, patient.id, "How are you feeling"))
    for offset, moment in sent.items():
        assert -0.1 <= moment - (start + offset) <= 2.0, offset
    assert invitation.message_id < reminder.message_id

    storage = await Storage.open(settings.db_path)
    try:
        messages = await storage.messages_for(appointment.id)
        assert [(m.kind, m.status) for m in messages] == [
            ("intake", "sent"),
            ("reminder", "sent"),
            ("followup", "sent"),
            ("followup", "sent"),
        ]
        answers = await storage.followup_answers(messages[2].id)
        assert answers == {
            "fu_soreness": 8,
            "fu_compared": "worse",
            "fu_warning_signs": "no",
            "fu_note": "Stiff in the morning",
        }
        booked = await storage.appointment(appointment.id)
        assert booked is not None and booked.attendance == "confirmed"
    finally:
        await storage.close()
