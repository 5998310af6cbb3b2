"""Conversations through the bot ("Message patient"), without Telegram: a practitioner
writes, the patient answers, either side's words reach the other, stored and audited;
what ends a conversation; and what a patient's text means while an intake waits for one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.content import Content
from bot.practice.messaging import THREAD_LAPSES
from bot.practice.service import PracticeService
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Outcome, Relayed
from storage import Author, Delivery, Storage, utc_now
from tests.conftest import CLINIC_TZ, PRACTITIONER
from tests.support.conversation import Conversation
from tests.support.patient_flow import (
    PAT,
    answer_all,
    completed_intake,
    data_for,
    last_keyboard,
    texts,
    through_pain_questions,
)
from tests.unit.practice.conftest import Exports
from tests.unit.practice.test_service import DOC, STRANGER, buttons, patient

MINA = "Mina @mina (id 42)"
DELIVERED = Delivery.DELIVERED


async def opened(service: Conversation, practice: PracticeService) -> Outcome:
    """Mina has completed her intake; the practitioner pressed "Message patient"."""
    await completed_intake(service)
    return await practice.button(DOC, Action(Verb.MESSAGE, PAT.user_id).encode())


async def test_the_practitioner_writes_and_the_patient_answers(
    service: Conversation, practice: PracticeService, storage: Storage
) -> None:
    outcome = await opened(service, practice)
    assert texts(outcome).startswith(f"✉️ <b>Conversation with {MINA}</b>")
    assert "after 24 hours without a message" in texts(outcome)
    assert list(buttons(last_keyboard(outcome))) == ["End conversation", "Open record"]

    sent = await service.text(DOC, "Could you come at 10:00 <b>instead</b> & bring shorts?")

    assert texts(sent) == f"✓ Sent to {MINA}."
    [to_patient] = service.relays.to(PAT.chat_id)
    assert to_patient.startswith("✉️ <b>Message from Test Clinic</b>\n\n")
    # The practitioner's words arrive as they were written, never as markup.
    assert "Could you come at 10:00 &lt;b&gt;instead&lt;/b&gt; &amp; bring shorts?" in to_patient

    answer = await service.text(PAT, "Yes, see you at 10")

    assert texts(answer) == "Sent to the clinic."
    [to_practitioner] = service.relays.to(PRACTITIONER)
    assert to_practitioner == f"✉️ <b>{MINA}</b> writes:\nYes, see you at 10"
    [(_, reply)] = [(c, r) for c, r in service.relays.sent if c == PRACTITIONER]
    assert list(buttons(reply)) == ["End conversation", "Open record"]

    patient_row = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient_row is not None
    stored = await storage.thread_messages(patient_row.id)
    assert [(m.author, m.text, m.delivery) for m in stored] == [
        (
            Author.CLINIC,
            "Could you come at 10:00 <b>instead</b> & bring shorts?",
            Delivery.DELIVERED,
        ),
        (Author.PATIENT, "Yes, see you at 10", DELIVERED),
    ]
    trail = [(e.actor, e.action, e.subject, e.detail) for e in await storage.audit_entries()]
    assert (PRACTITIONER, "opened a conversation", PAT.user_id, "thread 1") in trail
    assert (PRACTITIONER, "messaged a patient", PAT.user_id, "thread 1") in trail
    # The trail says that a message went, never what it said.
    assert not any("shorts" in (e.detail or "") for e in await storage.audit_entries())


async def test_the_record_shows_the_latest_messages(
    service: Conversation, practice: PracticeService
) -> None:
    await opened(service, practice)
    await service.text(DOC, "Please bring shorts")
    await service.text(PAT, "Will do <3")

    record = await practice.command(DOC, "patient", [str(PAT.user_id)])

    history = texts(record)
    assert "<b>Messages</b> (the latest)" in history
    assert " clinic: Please bring shorts" in history
    assert f" {MINA}: Will do &lt;3" in history


async def test_ending_tells_the_patient_and_their_next_text_is_not_passed_on(
    service: Conversation, practice: PracticeService
) -> None:
    outcome = await opened(service, practice)
    end = data_for(last_keyboard(outcome), "End conversation")

    ended = await practice.button(DOC, end)

    assert texts(ended) == f"Conversation with {MINA} ended."
    [told] = service.relays.to(PAT.chat_id)
    assert told.startswith("The clinic has ended this conversation")
    after = await service.text(PAT, "One more thing")
    assert "Sent to the clinic" not in texts(after)
    assert service.relays.to(PRACTITIONER) == []
    again = await practice.button(DOC, end)
    assert again.toast == "This conversation has already ended."
    # The practitioner's own texts are theirs again, not the patient's.
    mine = await service.text(DOC, "hello")
    assert "Sent to" not in texts(mine)


async def test_a_typed_intake_answer_is_not_taken_for_a_message_to_the_clinic(
    service: Conversation, practice: PracticeService, storage: Storage
) -> None:
    # Mina is at the notes question, which takes typed text, when the clinic writes.
    await answer_all(service, await through_pain_questions(service))
    await practice.button(DOC, Action(Verb.MESSAGE, PAT.user_id).encode())

    answered = await service.text(PAT, "Worse in the mornings")

    assert "Please check your answers" in texts(answered)
    assert service.relays.to(PRACTITIONER) == []
    # At the summary (buttons only) a text goes to the clinic again.
    message = await service.text(PAT, "Is parking free?")
    assert texts(message) == "Sent to the clinic."
    assert service.relays.to(PRACTITIONER)[-1].endswith("\nIs parking free?")


async def test_a_patient_who_blocked_the_bot_closes_the_conversation(
    service: Conversation, practice: PracticeService, storage: Storage
) -> None:
    await opened(service, practice)
    service.relays.answer = Relayed.UNREACHABLE

    outcome = await service.text(DOC, "Are you coming?")

    assert texts(outcome) == (
        f"✗ {MINA} has blocked the bot: messages cannot reach them. Contact them another way."
    )
    patient_row = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient_row is not None and patient_row.unreachable_at is not None
    [stored] = await storage.thread_messages(patient_row.id)
    assert stored.delivery is Delivery.UNREACHABLE
    assert await storage.open_thread_of(PRACTITIONER) is None


async def test_a_message_telegram_did_not_take_is_stored_and_the_sender_told(
    service: Conversation, practice: PracticeService, storage: Storage
) -> None:
    await opened(service, practice)
    service.relays.answer = Relayed.FAILED

    to_patient = await service.text(DOC, "Running late")
    to_clinic = await service.text(PAT, "My knee is worse")

    assert texts(to_patient).startswith("✗ Telegram did not take the message just now.")
    assert texts(to_clinic).startswith("Your message is saved, but it could not be passed on")
    assert "If you feel seriously unwell, call" in texts(to_clinic)
    patient_row = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient_row is not None
    stored = await storage.thread_messages(patient_row.id)
    assert [m.delivery for m in stored] == [Delivery.FAILED, Delivery.FAILED]


async def test_a_conversation_lapses_after_a_day_without_a_message(
    service: Conversation,
    practice: PracticeService,
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await opened(service, practice)
    later = utc_now() + THREAD_LAPSES + timedelta(minutes=1)
    monkeypatch.setattr("bot.practice.messaging.utc_now", lambda: later)

    outcome = await service.text(DOC, "Still there?")

    assert texts(outcome).startswith(f"The conversation with {MINA} ended after a day")
    assert service.relays.to(PAT.chat_id) == []
    assert await storage.open_thread_of(PRACTITIONER) is None


async def test_a_long_patient_message_reaches_the_practitioner_whole(
    service: Conversation, practice: PracticeService
) -> None:
    await opened(service, practice)
    long = "pain " * 819  # 4095 characters, as much as Telegram lets a patient send

    await service.text(PAT, long)

    heading, body = service.relays.to(PRACTITIONER)
    assert heading == f"✉️ <b>{MINA}</b> writes (the next message):"
    assert body == long


async def test_a_practitioner_message_too_long_to_pass_on_is_refused_before_storing(
    service: Conversation, practice: PracticeService, storage: Storage
) -> None:
    await opened(service, practice)

    outcome = await service.text(DOC, "x" * 4090)

    assert texts(outcome) == "That is too long for one Telegram message: send it in two parts."
    assert service.relays.sent == []
    patient_row = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient_row is not None
    assert await storage.thread_messages(patient_row.id) == []


async def test_only_practitioners_open_conversations_and_only_with_consenting_patients(
    service: Conversation, practice: PracticeService, storage: Storage
) -> None:
    await completed_intake(service)
    refused = await practice.button(STRANGER, Action(Verb.MESSAGE, PAT.user_id).encode())
    assert refused.toast == "Sorry, this is not available."
    assert await storage.open_thread_of(STRANGER.user_id) is None

    omar = patient(43, "Omar")
    await service.start(omar)  # has not agreed
    outcome = await practice.button(DOC, Action(Verb.MESSAGE, omar.user_id).encode())
    assert texts(outcome).startswith("This patient cannot be written to through the bot")
    assert await storage.open_thread_of(PRACTITIONER) is None


OTHER = patient(901, "Dr Kim")


@pytest.fixture
def both(
    storage: Storage, content: Content, exports: Exports, service: Conversation
) -> PracticeService:
    """The practitioners' service with a second practitioner, OTHER."""
    return PracticeService(
        storage,
        content,
        practitioner_ids=[PRACTITIONER, OTHER.user_id],
        timezone=CLINIC_TZ,
        csv_export=exports,
        messaging=service.messaging,
    )


async def test_another_practitioners_end_button_does_not_end_it(
    service: Conversation, practice: PracticeService, storage: Storage, both: PracticeService
) -> None:
    outcome = await opened(service, practice)
    end = data_for(last_keyboard(outcome), "End conversation")

    pressed = await both.button(OTHER, end)

    assert pressed.toast == "This conversation has already ended."
    assert await storage.open_thread_of(PRACTITIONER) is not None


async def test_mydata_shows_the_messages_and_delete_erases_them(
    service: Conversation, practice: PracticeService, storage: Storage
) -> None:
    await opened(service, practice)
    await service.text(DOC, "See you Tuesday")
    await service.text(PAT, "Thanks!")

    mine = await service.mydata(PAT)

    shown = texts(mine)
    assert "<b>Messages with the clinic</b>" in shown
    assert "clinic: See you Tuesday" in shown and "you: Thanks!" in shown
    [document] = mine.documents
    assert b'"text": "See you Tuesday"' in document.data

    mina = await storage.patient_by_telegram_id(PAT.user_id)
    assert mina is not None
    confirm = await service.delete(PAT)
    await service.button(PAT, data_for(last_keyboard(confirm), "Yes, erase everything"))

    assert await storage.patient_by_telegram_id(PAT.user_id) is None
    assert await storage.open_thread_of(PRACTITIONER) is None
    assert await storage.thread_messages(mina.id) == []


async def test_a_second_practitioner_taking_over_tells_the_first(
    service: Conversation, both: PracticeService
) -> None:
    await completed_intake(service)
    await both.button(DOC, Action(Verb.MESSAGE, PAT.user_id).encode())

    await both.button(OTHER, Action(Verb.MESSAGE, PAT.user_id).encode())

    [told] = service.relays.to(PRACTITIONER)
    assert told.startswith(f"Another practitioner is now talking with {MINA}")
    await service.text(PAT, "Hello?")
    assert service.relays.to(OTHER.user_id)[-1].endswith("writes:\nHello?")
    assert len(service.relays.to(PRACTITIONER)) == 1  # the reply went to the new one only
    # The same practitioner opening again is told nothing new.
    await both.button(OTHER, Action(Verb.MESSAGE, PAT.user_id).encode())
    assert len(service.relays.to(PRACTITIONER)) == 1
