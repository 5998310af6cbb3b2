"""Appointments and their scheduled messages, end to end with short offsets in seconds."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest

from bot.emulator.server import BotApiEmulator
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.plan import parse_plan
from bot.settings import Settings
from storage import Appointment, ScheduledMessage, Storage, Visit, utc_now
from tests.e2e.conftest import (
    Person,
    Runner,
    export_json,
    pain_questions,
    reachable_practitioner,
    safety_questions,
    started,
)
from tests.support.waiting import eventually

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


async def test_messages_arrive_on_plan_and_the_answers_are_kept(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        patient = await started(emulator, 4001, "Min")
        appointment = await book_in(clinic, 6, telegram_user_id=patient.id)
        # The transcript's clock is time.monotonic(): where the appointment starts on it.
        start = time.monotonic() + appointment.starts_at.timestamp() - time.time()

        # Already in the middle of an intake: no second invitation, a pointer back instead.
        invitation = await patient.sees("You have already started your intake", within=8)
        assert "/start" in invitation.text and not invitation.buttons
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
        await patient.tap("Worse", then="have you had shortness of breath, chest pain")
        await patient.tap("No", then="Is there redness that is spreading")
        await patient.tap("No", then="have you had new numbness or weakness?")
        await patient.tap("No", then="kept bleeding even after 10 minutes of firm pressure")
        await patient.tap("No", then="Anything else you would like")
        patient.send("Stiff in the morning")
        closing = await patient.sees("Your answers are saved, and the practitioner has been told")
        assert "Soreness for a day or two" not in closing.text  # no reassurance after an alert

        second = await patient.sees("How are you feeling after your treatment", within=10)
        assert second.message_id != followup.message_id
        await patient.tap("2")
        await patient.tap("Better")
        for _ in range(4):  # the four warning signs
            await patient.tap("No")
        await patient.tap("Skip", then="Your answers are saved for the practitioner")
        calm = patient.messages()[-1].text
        assert "Soreness for a day or two after treatment is expected" in calm

    # Each message went out within a second or two of its planned time.
    sent = {
        -5: min(arrived(emulator, patient.id, "You have already started your intake")),
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
            "fu_breathing": "no",
            "fu_infection": "no",
            "fu_numbness": "no",
            "fu_bleeding": "no",
            "fu_note": "Stiff in the morning",
        }
        booked = await storage.appointment(appointment.id)
        assert booked is not None and booked.attendance == "confirmed"
    finally:
        await storage.close()

    exported = await export_json(settings)
    first, second = exported["followups"]
    assert {a["question_id"]: a["label"] for a in first["answers"]} == {
        "fu_soreness": "8",
        "fu_compared": "Worse",
        "fu_breathing": "No",
        "fu_infection": "No",
        "fu_numbness": "No",
        "fu_bleeding": "No",
        "fu_note": "Stiff in the morning",
    }
    assert second["telegram_user_id"] == patient.id


async def messages(settings: Settings, appointment: Appointment) -> list[ScheduledMessage]:
    storage = await Storage.open(settings.db_path)
    try:
        return await storage.messages_for(appointment.id)
    finally:
        await storage.close()


async def statuses(settings: Settings, appointment: Appointment) -> list[tuple[str, str]]:
    return [(m.kind, m.status) for m in await messages(settings, appointment)]


async def test_cancelled_and_opted_out_appointments_send_nothing(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    async with bot():
        cancelled = await started(emulator, 4101, "Ann")
        opted_out = await started(emulator, 4102, "Bea")
        control = await started(emulator, 4103, "Cal")
        opted_out.send("/reminders off")
        await opted_out.sees("Appointment messages are off")
        gone = await book_in(clinic, 6, telegram_user_id=cancelled.id)
        assert await clinic.cancel(gone.id)
        quiet = await book_in(clinic, 6, telegram_user_id=opted_out.id)
        await book_in(clinic, 6, telegram_user_id=control.id)
        # Once the control patient's reminder is there, the others' would have been too.
        await control.sees("Reminder: your appointment", within=8)
    for person in (cancelled, opted_out):
        assert not arrived(emulator, person.id, "Reminder: your appointment")
        assert not arrived(emulator, person.id, "please answer a few questions")
    assert await statuses(settings, gone) == [
        ("intake", "cancelled"),
        ("reminder", "cancelled"),
        ("followup", "cancelled"),
        ("followup", "cancelled"),
    ]
    assert (await statuses(settings, quiet))[:2] == [("intake", "skipped"), ("reminder", "skipped")]


async def test_the_invitation_is_skipped_once_the_intake_is_done(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    async with bot():
        patient = await started(emulator, 4201, "Dae")
        await pain_questions(patient, "Arms")
        await safety_questions(patient)
        await patient.tap("Skip", then="Please check your answers")
        await patient.tap("Confirm", then="Thank you!")
        appointment = await book_in(clinic, 6, telegram_user_id=patient.id)
        await patient.sees("Reminder: your appointment", within=8)
    assert not arrived(emulator, patient.id, "please answer a few questions")
    assert (await statuses(settings, appointment))[:2] == [
        ("intake", "skipped"),
        ("reminder", "sent"),
    ]


async def test_a_personal_link_connects_the_booking_and_starts_its_intake(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    appointment = await book_in(clinic, 30, name="Eun Lee")
    assert appointment.link_token and len(appointment.link_token) <= 64
    patient = Person(emulator, 4301, "Eun")
    async with bot():
        patient.send(f"/start {appointment.link_token}")
        await patient.sees("is now linked to this chat")
        await patient.sees("Do you agree")
        await patient.tap("I agree", then="Question 1 of")
        patient.send("/start not_a_real_apt_link")
        await patient.sees("continue where you left off")
        stranger = Person(emulator, 4302, "Mallory")
        stranger.send(f"/start {appointment.link_token}")
        await stranger.sees("This link is not valid any more")
    storage = await Storage.open(settings.db_path)
    try:
        linked = await storage.appointment(appointment.id)
        patient_row = await storage.patient_by_telegram_id(4301)
        assert linked is not None and patient_row is not None
        assert linked.patient_id == patient_row.id
        intake = await storage.open_intake(patient_row.id)
        assert intake is not None and intake.appointment_id == appointment.id
    finally:
        await storage.close()


async def test_reschedule_requests_reach_the_practitioner_who_sees_the_day(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook
) -> None:
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        patient = await started(emulator, 4401, "Gil")
        await book_in(clinic, 3600, telegram_user_id=patient.id)
        await book_in(clinic, 4, telegram_user_id=patient.id)
        await patient.sees("Reminder: your appointment", within=8)
        await patient.tap("I need to reschedule", then="The clinic will contact you")
        note = await practitioner.sees("Reschedule requested")
        assert "Gil (id 4401)" in note.text

        practitioner.send("/today")
        today = await practitioner.sees("Today (")
        assert today.text.count("Gil: intake in progress") >= 1
        patient.send("/today")
        await patient.sees("Sorry, this is not available.")


async def test_a_patient_without_an_intake_is_invited_and_the_button_starts_it(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook
) -> None:
    async with bot():
        patient = Person(emulator, 4501, "Hana")
        patient.send("/start")
        await patient.sees("Do you agree")
        await patient.tap("No thanks", then="None of your answers are kept")
        await book_in(clinic, 6, telegram_user_id=patient.id)
        invitation = await patient.sees("please answer a few questions about your pain", within=8)
        assert [b.text for row in invitation.buttons for b in row] == ["Start my intake"]
        await patient.tap("Start my intake", then="Do you agree")


async def test_a_moved_appointment_tells_the_patient_and_is_reminded_at_its_new_time(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    async with bot():
        patient = await started(emulator, 4601, "Ivo")
        appointment = await book_in(clinic, 3600, telegram_user_id=patient.id)
        new_time = utc_now() + timedelta(seconds=6)
        moved = await clinic.move(appointment.id, new_time)
        assert moved is not None and moved.starts_at == new_time
        notice = await patient.sees("has moved to", within=8)
        local = new_time.astimezone(settings.timezone)
        assert f"{local:%Y-%m-%d}" in notice.text and f"{local:%H:%M}" in notice.text
        assert [b.text for row in notice.buttons for b in row] == [
            "I'll be there",
            "I need to reschedule",
        ]
        await patient.sees("Reminder: your appointment", within=8)
    assert ("moved", "sent") in await statuses(settings, appointment)


async def test_an_old_reminder_pressed_after_a_move_asks_about_the_new_time(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    async with bot():
        patient = await started(emulator, 4602, "Uma")
        appointment = await book_in(clinic, 4, telegram_user_id=patient.id)
        reminder = await patient.sees("Reminder: your appointment", within=8)
        await clinic.move(appointment.id, utc_now() + timedelta(days=2))
        notice = await patient.sees("has moved to", within=8)
        [old_yes] = [b for row in reminder.buttons for b in row if b.text == "I'll be there"]
        assert old_yes.callback_data is not None

        patient.seen = notice.message_id
        query = emulator.press_button(patient.id, reminder.message_id, old_yes.callback_data)
        await emulator.wait_for(lambda: emulator.callback_query(query).answered)

        asked = await patient.sees("has moved to")
        assert [b.text for row in asked.buttons for b in row] == [
            "I'll be there",
            "I need to reschedule",
        ]
        stale = emulator.world.find_message(patient.id, reminder.message_id)
        assert stale is not None and stale.text == "(This message was about the earlier time.)"
        assert await attendance(settings, appointment) is None  # nothing was confirmed
        await patient.tap("I'll be there", then="see you then")
    assert await attendance(settings, appointment) == "confirmed"


async def attendance(settings: Settings, appointment: Appointment) -> str | None:
    storage = await Storage.open(settings.db_path)
    try:
        stored = await storage.appointment(appointment.id)
    finally:
        await storage.close()
    assert stored is not None
    return stored.attendance


async def test_no_check_in_after_a_no_show_or_while_a_reschedule_is_asked_for(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    async with bot():
        missed = await started(emulator, 4701, "Jo")
        rescheduling = await started(emulator, 4702, "Kai")
        no_show = await book_in(clinic, 4, telegram_user_id=missed.id)
        assert await clinic.record_visit(no_show.id, Visit.NO_SHOW)
        later = await book_in(clinic, 4, telegram_user_id=rescheduling.id)
        await rescheduling.sees("Reminder: your appointment", within=8)
        await rescheduling.tap("I need to reschedule", then="The clinic will contact you")

        def ended(appointment: Appointment) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return all(
                    status != "pending" for _, status in await statuses(settings, appointment)
                )

            return check

        await eventually(ended(no_show), within=15)
        await eventually(ended(later), within=15)
        assert not arrived(emulator, missed.id, "How are you feeling after your treatment")
        assert not arrived(emulator, rescheduling.id, "How are you feeling after your treatment")
        assert await outcomes(settings, no_show, "followup") == ["no-show", "no-show"]
        assert await outcomes(settings, later, "followup") == [
            "awaiting reschedule",
            "awaiting reschedule",
        ]

        # Moved to a new time: the check-ins are planned again, and come after it.
        await clinic.move(later.id, utc_now() + timedelta(seconds=2))
        await rescheduling.sees("has moved to", within=8)
        await rescheduling.sees("How are you feeling after your treatment", within=10)


async def outcomes(settings: Settings, appointment: Appointment, kind: str) -> list[str | None]:
    return [m.outcome for m in await messages(settings, appointment) if m.kind == kind]


async def test_the_practitioner_records_who_came_from_today(
    emulator: BotApiEmulator, bot: Runner, clinic: AppointmentBook, settings: Settings
) -> None:
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        patient = await started(emulator, 4801, "Lia")
        appointment = await book_in(clinic, 60, telegram_user_id=patient.id)
        practitioner.send("/today")
        today = await practitioner.sees("Today (")
        labels = [b.text for row in today.buttons for b in row]
        assert any(label.endswith("Lia: came") for label in labels), labels
        await practitioner.tap("no-show")

        def marked() -> bool:
            shown = emulator.world.find_message(practitioner.id, today.message_id)
            return shown is not None and "✗ no-show" in shown.text

        await emulator.wait_for(marked)
        shown = emulator.world.find_message(practitioner.id, today.message_id)
        assert shown is not None
        assert "✅ no-show" in [b.text for row in shown.buttons for b in row]
    storage = await Storage.open(settings.db_path)
    try:
        recorded = await storage.appointment(appointment.id)
        assert recorded is not None and recorded.visit is Visit.NO_SHOW
        entries = await storage.audit_entries()
        assert any(e.action == "recorded no_show" for e in entries), entries
    finally:
        await storage.close()
