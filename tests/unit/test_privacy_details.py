"""Small privacy guarantees (from issue 12): names that cannot disguise a notification,
files of health data readable by their owner only, no library logging update contents."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from telegram import Update

from bot.content import Content
from bot.edge.patient import who
from bot.logs import configure_logging
from bot.vocabulary import rendering
from bot.vocabulary.people import Who
from storage import Patient, Storage
from tests.support.conversation import Conversation
from tests.support.databases import create_database
from tests.support.patient_flow import (
    PAT,
    completed_intake,
    data_for,
    last_keyboard,
    press,
    through_pain_questions,
)
from tests.support.process import ashi


def test_names_shown_to_practitioners_lose_bidi_and_invisible_characters(
    content: Content,
) -> None:
    # U+202E reverses what follows; U+2066 isolates; U+200B is invisible.
    patient = Patient(
        1, 42, 42, "\u202eanahnaM\u2066 Kim\u200b", "evil\u202e_gnik", "en", datetime.now(UTC)
    )
    shown = rendering.patient_name(content.staff, patient)
    assert shown == "anahnaM Kim @evil_gnik (id 42)"
    assert "한나" in rendering.patient_name(
        content.staff, Patient(2, 43, 43, "한나", None, "ko", datetime.now(UTC))
    )


async def test_an_existing_database_and_its_wal_are_made_private(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    await create_database(path)
    for suffix in ("", "-wal", "-shm"):
        file = path.with_name(path.name + suffix)
        file.touch()
        os.chmod(file, 0o644)
    storage = await Storage.open(path)
    await storage.close()
    for suffix in ("", "-wal", "-shm"):
        file = path.with_name(path.name + suffix)
        if file.exists():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, suffix


async def test_an_export_never_follows_a_symlink_nor_stays_readable_by_others(
    tmp_path: Path,
) -> None:
    db = tmp_path / "ashi.sqlite3"
    await create_database(db)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("untouched")
    link = tmp_path / "export.json"
    link.symlink_to(elsewhere)
    refused = ashi("export", "--output", str(link), cwd=tmp_path, ASHI_DB_PATH=str(db))
    assert refused.returncode == 2
    assert refused.stderr == f"ashi: --output {link} is a symbolic link: refused\n"
    assert elsewhere.read_text() == "untouched"
    existing = tmp_path / "shared.json"
    existing.write_text("old")
    os.chmod(existing, 0o644)
    done = ashi("export", "--output", str(existing), cwd=tmp_path, ASHI_DB_PATH=str(db))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    assert existing.read_text().startswith("{")


def test_libraries_never_log_at_debug() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(None, logging.DEBUG)
        for library in ("telegram", "telegram.ext", "aiohttp", "aiosqlite"):
            assert not logging.getLogger(library).isEnabledFor(logging.DEBUG), library
        assert logging.getLogger("bot").isEnabledFor(logging.DEBUG)
    finally:
        logging.captureWarnings(False)
        root.handlers[:] = handlers
        root.setLevel(level)
        for library in ("telegram", "aiohttp", "apscheduler", "aiosqlite", "asyncio"):
            logging.getLogger(library).setLevel(logging.NOTSET)


def update_from(chat_type: str) -> Update:
    chat = {"id": -100123 if chat_type != "private" else 42, "type": chat_type, "title": "t"}
    user = {"id": 42, "is_bot": False, "first_name": "Mina"}
    message = {"message_id": 7, "date": 1_800_000_000, "chat": chat, "from": user, "text": "x"}
    query = {
        "id": "q1",
        "from": user,
        "chat_instance": "ci",
        "data": "a:1:areas:neck_shoulders",
        "message": {**message, "from": {"id": 1, "is_bot": True, "first_name": "Ashi"}},
    }
    return Update.de_json({"update_id": 1, "callback_query": query}, None)


def test_buttons_and_messages_outside_the_private_chat_are_ignored() -> None:
    for chat_type in ("group", "supergroup", "channel"):
        assert who(update_from(chat_type)) is None, chat_type
    private = who(update_from("private"))
    assert private is not None and private.chat_id == 42


async def test_two_accounts_opening_one_link_at_once_link_it_once(
    service: Conversation, storage: Storage
) -> None:
    starts = datetime(2031, 6, 2, 9, 30, tzinfo=UTC)
    booked = await storage.add_appointment(starts, [], name="Jane Doe", link_token="apt_race1")
    assert booked is not None
    first = Who(user_id=501, chat_id=501, first_name="A", username=None, language_code="en")
    second = Who(user_id=502, chat_id=502, first_name="B", username=None, language_code="en")
    outcomes = await asyncio.gather(
        service.start(first, "apt_race1"), service.start(second, "apt_race1")
    )
    said = ["\n".join(r.html for r in o.replies) for o in outcomes]
    winners = [text for text in said if "is now linked to this chat" in text]
    losers = [text for text in said if "This link is not valid any more" in text]
    assert len(winners) == 1 and len(losers) == 1
    assert "2031-06-02" not in losers[0]  # the loser learns nothing of the appointment
    appointment = await storage.appointment(booked.id)
    assert appointment is not None
    owner = await storage.patient(appointment.patient_id or 0)
    assert owner is not None
    loser = second if owner.telegram_user_id == first.user_id else first
    # The loser goes on to an intake of their own that points at no appointment.
    await service.button(
        loser, data_for(last_keyboard(outcomes[[first, second].index(loser)]), "I agree")
    )
    records = await storage.intake_records(telegram_user_id=loser.user_id)
    assert [r.intake.appointment_id for r in records] == [None]


async def test_erasure_says_what_it_cannot_erase_and_frees_the_slots(
    service: Conversation, storage: Storage
) -> None:
    privacy = "\n".join(r.html for r in (await service.privacy(PAT)).replies)
    assert "cannot erase" in privacy and "exports and backups" in privacy
    await through_pain_questions(service)
    patient = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient is not None
    later = datetime(2031, 6, 2, 9, 30, tzinfo=UTC)
    gone = datetime(2020, 1, 1, 9, 0, tzinfo=UTC)  # past: nothing to free
    for starts in (later, gone):
        await storage.add_appointment(starts, [], patient_id=patient.id)
    confirm = await service.delete(PAT)
    asked = "\n".join(r.html for r in confirm.replies)
    assert "appointments" in asked and "cannot erase messages already sent" in asked
    done = await press(service, confirm, "Yes, erase everything")
    [notice] = [n.reply.html for n in done.notifications]
    assert "these times are free again: 2031-06-02 10:30" in notice  # Europe/London
    assert "2020-01-01" not in notice
    assert "Mina" not in notice and str(PAT.user_id) not in notice
    assert await storage.patient_appointments(patient.id) == []


async def test_withdrawing_consent_erases_what_delete_erases_after_the_same_question(
    service: Conversation, storage: Storage
) -> None:
    welcome = await service.start(PAT)
    await completed_intake(service)
    patient = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient is not None
    await storage.add_appointment(
        datetime(2031, 6, 2, 9, 30, tzinfo=UTC), [], patient_id=patient.id
    )
    # "No thanks" on a welcome (shown again after the consent text changed).
    asked = await press(service, welcome, "No thanks")
    assert "It cannot be undone" in "\n".join(r.html for r in asked.replies)
    assert len(await storage.intake_records()) == 1  # nothing erased before the answer
    kept = await press(service, asked, "No, keep my data")
    assert kept.edit is not None and "Nothing was erased" in kept.edit.html
    consent = await storage.latest_consent(patient.id)
    assert consent is not None and consent.given  # unchanged
    asked = await press(service, welcome, "No thanks")
    done = await press(service, asked, "Yes, erase everything")
    assert "None of your answers are kept" in "\n".join(r.html for r in done.replies)
    assert await storage.intake_records() == []
    again = await storage.patient_by_telegram_id(PAT.user_id)
    assert again is not None and again.first_name is None
    assert await storage.patient_appointments(again.id) == []
    refusal = await storage.latest_consent(again.id)
    assert refusal is not None and not refusal.given
    assert [e.action for e in await storage.audit_entries()][-1] == "erased (consent withdrawn)"
    assert done.notifications  # the practitioners are told, as after /delete
