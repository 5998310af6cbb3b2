"""No message the bot builds can be refused for its length (issue 12): free text is capped,
and long views are split between lines, a single over-long line at a safe point."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.practice import views
from bot.questionnaire import MAX_TEXT_ANSWER
from bot.scheduling.checkins import CheckIns
from bot.telegram_html import parse_html, utf16_len
from bot.vocabulary import rendering
from bot.vocabulary.outgoing import Reply
from storage import (
    Appointment,
    AppointmentStatus,
    Author,
    FollowupRecord,
    MessageStatus,
    Patient,
    PlannedMessage,
    ScheduledMessage,
    Storage,
    utc_now,
)
from tests.support.conversation import Conversation
from tests.support.followups import sent_followup, tap
from tests.support.patient_flow import PAT, texts

LIMIT = rendering.MAX_MESSAGE


def shown(replies: list[Reply]) -> list[str]:
    """What each message shows; parse_html refuses any invalid Telegram HTML."""
    return [parse_html(r.html).text for r in replies]


def test_a_single_line_longer_than_a_message_is_split_and_stays_valid() -> None:
    note = "&lt;b&gt; Ärger & ☺ " * 600  # escaped text: raw longer than what it shows
    line = f"• <b>Note</b>: {note.replace('& ', '&amp; ')}"
    replies = rendering.pack(["<b>Record</b>", line, "• last line"], separator="\n")
    assert len(replies) > 1
    for text in shown(replies):
        assert 0 < utf16_len(text) <= LIMIT
    joined = "".join(t.replace("\n", "") for t in shown(replies))
    assert joined == parse_html("<b>Record</b>" + line + "• last line").text


def test_raw_text_stays_under_telegrams_32_kib_whatever_it_holds() -> None:
    # Three UTF-8 bytes for each UTF-16 unit is the most any text takes (Korean, symbols).
    lines = ["통증 &amp; <b>붓기</b> ☺ " * 800, "&quot;" * 9000, "😀" * 5000]
    replies = rendering.pack(lines)
    assert all(len(r.html.encode()) <= 32 * 1024 for r in replies)
    assert all(utf16_len(text) <= LIMIT for text in shown(replies))


def test_a_tag_spanning_an_over_long_line_is_dropped_not_broken() -> None:
    line = "<i>" + "word " * 2000 + "</i>"
    replies = rendering.pack([line])
    assert all(utf16_len(t) <= LIMIT for t in shown(replies))
    assert "".join(shown(replies)).replace(" ", "") == ("word" * 2000)


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    replies = rendering.pack(["😀" * 3000])  # 6,000 UTF-16 units
    assert [utf16_len(t) for t in shown(replies)] == [4096, 1904]


async def test_a_follow_up_note_over_the_cap_is_refused_kindly(
    service: Conversation, storage: Storage, checkins: CheckIns
) -> None:
    message_id, outcome = await sent_followup(checkins, storage, PAT)
    for label in ("2", "Better", "No", "No", "No", "No"):
        outcome = await tap(service, PAT, outcome, label)
    refused = await service.text(PAT, "x" * (MAX_TEXT_ANSWER + 1))
    assert f"under {MAX_TEXT_ANSWER} characters" in texts(refused)
    assert "fu_note" not in await storage.followup_answers(message_id)
    kept = await service.text(PAT, "x" * MAX_TEXT_ANSWER)
    assert "Your answers are saved" in texts(kept)
    assert (await storage.followup_answers(message_id))["fu_note"] == "x" * MAX_TEXT_ANSWER


async def test_the_record_view_fits_even_with_an_old_over_long_note(
    storage: Storage, content: Content
) -> None:
    # Notes of any length could be stored before the cap: the view must still go out.
    patient = await storage.ensure_patient(77, 77, "en")
    await storage.start_intake(patient.id, step="areas", content_version="v", start_payload=None)
    starts = utc_now() - timedelta(days=1)
    plan = [PlannedMessage("followup", 3600, starts + timedelta(hours=1))]
    appointment = await storage.add_appointment(starts, plan, patient_id=patient.id)
    assert appointment is not None
    [message] = await storage.messages_for(appointment.id)
    await storage.finish_message(message.id, MessageStatus.SENT, first_step="fu_soreness")
    await storage.save_followup_answer(message.id, "fu_note", "<&>" * 3000, "done")
    # And messages with the clinic as long as Telegram lets a patient send.
    thread = await storage.open_thread(patient.id, 900)
    await storage.add_thread_message(thread.id, Author.PATIENT, "<&>" * 1365)
    records = await storage.intake_records(telegram_user_id=77)
    followups = await storage.followup_records(77)
    messages = await storage.thread_messages(patient.id)
    replies = views.patient_record(content.staff, records, followups, messages, ZoneInfo("UTC"))
    for text in shown(replies):
        assert 0 < utf16_len(text) <= LIMIT
    assert sum(t.count("<&>") for t in shown(replies)) == 3000 + 1365


def test_flagged_check_ins_fit_however_many_need_attention(content: Content) -> None:
    # The most /flagged shows: 30 check-ins, every answer alerting, long names.
    catalog = content.staff
    questions = catalog.questionnaire
    alerting = {"fu_soreness": 10, "fu_compared": "worse"}
    alerting |= {q.id: "yes" for q in questions.followup if q.kind.value == "yes_no"}
    sent = utc_now()
    records = []
    for n in range(30):
        patient = Patient(n, 10**12 + n, n, "N" * 64, "u" * 32, "en", sent)
        message = ScheduledMessage(
            n, n, "followup", 86400, sent, MessageStatus.SENT, 1, sent, None, "done"
        )
        appointment = Appointment(
            n, n, None, sent, None, None, None, AppointmentStatus.SCHEDULED, None, None
        )
        records.append((FollowupRecord(appointment, patient, message, alerting), alerting))
    replies = views.flagged_followups(catalog, records, ZoneInfo("UTC"), 14)
    assert len(replies) > 1
    for text in shown(replies):
        assert 0 < utf16_len(text) <= LIMIT
    assert all(reply.keyboard == () for reply in replies[:-1])
    assert len(replies[-1].keyboard) == 30
    every = "\n".join(shown(replies))
    assert all(f"(id {10**12 + n})" in every for n in range(30))
