"""The practitioner's workspace in Telegram, and what everyone else cannot see."""

from __future__ import annotations

import csv
import io
import json
from functools import partial

import pytest

from bot.emulator.server import BotApiEmulator
from bot.emulator.world import CallbackQueryState
from bot.settings import Settings
from storage import Storage
from tests.e2e.conftest import (
    Person,
    Runner,
    consent,
    pain_questions,
    reachable_practitioner,
    safety_questions,
)


def answered(emulator: BotApiEmulator, query: str) -> CallbackQueryState | None:
    state = emulator.callback_query(query)
    return state if state.answered else None


PRACTICE_COMMANDS = ("/today", "/upcoming", "/intakes", "/flagged", "/patient 5001", "/export")


async def completed_intake(patient: Person, *, red_flag: bool = False) -> None:
    await consent(patient)
    await pain_questions(patient, "Neck & shoulders")
    await safety_questions(patient, yes=("chest pain",) if red_flag else ())
    patient.send("Prefers mornings")
    await patient.sees("Please check your answers")
    await patient.tap("Confirm", then="Thank you!")


async def test_a_practitioner_reviews_and_exports_in_telegram(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 5001, "Ines")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        await completed_intake(patient, red_flag=True)
        alert = await practitioner.sees("Red flag from Ines")
        assert [[b.text for b in row] for row in alert.buttons] == [
            ["Open record"],
            ["Message patient"],
        ]
        summary = await practitioner.sees("New intake: Ines")
        assert [[b.text for b in row] for row in summary.buttons] == [
            ["Open record", "Mark reviewed"],
            ["Message patient"],
        ]

        practitioner.seen = summary.message_id
        await practitioner.tap("Open record")
        record = await practitioner.sees("Patient record: Ines (id 5001)")
        assert "Scores over time" in record.text and "pain 7/10 (intake)" in record.text
        assert "completed, 🚨 urgent" in record.text

        practitioner.send("/flagged")
        flagged = await practitioner.sees("Needs attention")
        assert "Ines (id 5001)" in flagged.text
        await practitioner.tap(f"Mark reviewed #{summary.text.split('Intake #')[1].split()[0]}")
        practitioner.send("/intakes")
        listing = await practitioner.sees("Recent intakes, page 1")
        assert "✔ reviewed" in listing.text

        practitioner.send("/patient 5001")
        await practitioner.sees("Patient record: Ines")
        practitioner.send("/patient nobody")
        await practitioner.sees("No patient has that name")
        practitioner.send("/patient ine")
        await practitioner.sees("Patient record: Ines")
        practitioner.send("/patient")
        await practitioner.sees("Send /patient followed by")
        practitioner.send("/today")
        await practitioner.sees("Today (")
        practitioner.send("/upcoming")
        await practitioner.sees("Next 7 days")

        practitioner.send("/export")
        document = await emulator.wait_for(
            lambda: next((m for m in practitioner.messages() if m.kind == "document"), None)
        )
        assert document.filename and document.filename.endswith(".csv")
        assert document.document is not None
        text = document.document.decode("utf-8")
        assert text.startswith("\ufeff")
        [row] = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
        assert row["first_name"] == "Ines"
        assert row["areas"] == "Neck & shoulders"
        assert row["rf_chest_pain"] == "Yes" and row["urgent"] == "yes"
        assert row["notes"] == "Prefers mornings"
        assert row["completed_at"].endswith(("+00:00", "+01:00"))  # clinic time, with offset

    storage = await Storage.open(settings.db_path)
    try:
        actions = [entry.action for entry in await storage.audit_entries()]
    finally:
        await storage.close()
    for action in ("viewed a record", "viewed /flagged", "marked reviewed", "exported (Telegram)"):
        assert action in actions


async def test_a_practitioner_and_a_patient_talk_through_the_bot(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 5002, "Joon")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        await completed_intake(patient)
        summary = await practitioner.sees("New intake: Joon")
        practitioner.seen = summary.message_id
        await practitioner.tap("Message patient", then="Conversation with Joon")

        practitioner.send("Can you come at 9 instead of 10? <i>Reply</i> & tell me")
        await practitioner.sees("✓ Sent to Joon")
        message = await patient.sees("Message from Ashi Test Clinic")
        # What the practitioner typed is shown as typed: no markup of theirs is applied.
        assert "Can you come at 9 instead of 10? <i>Reply</i> & tell me" in message.text

        patient.send("Yes, 9 is fine")
        await patient.sees("Sent to the clinic.")
        reply = await practitioner.sees("Joon", "writes:", "Yes, 9 is fine")
        assert [b.text for row in reply.buttons for b in row] == ["End conversation", "Open record"]

        # Commands still work for the practitioner while the conversation is open.
        practitioner.send("/patient 5002")
        record = await practitioner.sees("Patient record: Joon")
        assert "clinic: Can you come at 9" in record.text and "Yes, 9 is fine" in record.text

        await practitioner.tap("End conversation", then="Conversation with Joon")
        await patient.sees("The clinic has ended this conversation")
        patient.send("/mydata")
        mine = await patient.sees("Messages with the clinic")
        assert "you: Yes, 9 is fine" in mine.text

        # A patient who blocked the bot: the practitioner learns it at once.
        await practitioner.tap("Message patient", then="Conversation with Joon")
        emulator.world.set_blocked(patient.id, True)
        practitioner.send("Are you still coming?")
        await practitioner.sees("Joon", "has blocked the bot")

    storage = await Storage.open(settings.db_path)
    try:
        actions = [entry.action for entry in await storage.audit_entries()]
    finally:
        await storage.close()
    assert actions.count("opened a conversation") == 2
    assert actions.count("messaged a patient") == 2
    assert "ended a conversation" in actions


async def test_nobody_else_learns_anything(
    emulator: BotApiEmulator,
    bot: Runner,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    patient = Person(emulator, 5001, "Ines")
    snoop = Person(emulator, 6666, "Mallory")
    async with bot():
        await completed_intake(patient)
        snoop.send("/start")
        await snoop.sees("Do you agree")
        for command in PRACTICE_COMMANDS:
            snoop.send(command)
            await snoop.sees("Sorry, this is not available.")
        # Forged or replayed button data for every practitioner action.
        target = snoop.messages()[-1].message_id
        for data in ("o:5001::", "w:1::", "p:0::", "o:1:snoop-marker:y", "w:999999::"):
            query = emulator.press_raw(snoop.id, target, data)
            state = await emulator.wait_for(partial(answered, emulator, query))
            assert state.answer_text == "Sorry, this is not available."
    everything = " ".join(m.text for m in snoop.messages())
    assert "Ines" not in everything and "5001" not in everything
    assert not [m for m in snoop.messages() if m.kind == "document"]
    storage = await Storage.open(settings.db_path)
    try:
        refused = [e for e in await storage.audit_entries() if e.action == "refused"]
        intake = await storage.intake(1)
    finally:
        await storage.close()
    assert len(refused) == len(PRACTICE_COMMANDS) + 5
    assert all(e.actor == snoop.id for e in refused)
    # What a stranger sent is kept in the audit trail, never in the log.
    assert any("snoop-marker" in (e.detail or "") for e in refused)
    assert "refused a button" in caplog.text
    assert "snoop-marker" not in caplog.text
    assert intake is not None and intake.reviewed_at is None


async def test_mydata_and_delete_as_promised(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 5002, "Jo")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        await completed_intake(patient)
        patient.send("/mydata")
        readable = await patient.sees("Everything stored about you")
        assert "Where it hurts: Neck & shoulders" in readable.text
        assert "Notes: Prefers mornings" in readable.text
        assert ", completed:" in readable.text  # words, not internal codes
        document = await emulator.wait_for(
            lambda: next((m for m in patient.messages() if m.kind == "document"), None)
        )
        assert document.document is not None
        data = json.loads(document.document)
        assert data["patient"]["telegram_user_id"] == 5002
        assert data["intakes"][0]["answers"][0]["question_id"] == "areas"
        assert data["consents"][0]["given"] is True

        patient.send("/delete")
        await patient.sees("It cannot be undone")
        await patient.tap("Yes, erase everything")
        notice = await practitioner.sees("A patient erased everything")
        assert "Jo" not in notice.text and "5002" not in notice.text
        patient.send("/mydata")
        await patient.sees("Nothing is stored about you.")
