"""Changing one answer from the summary: only that question (and what it newly opens) is
asked again, then the summary returns; the old answer is kept for the record; a red flag
changed to yes gets its advice and alert at once."""

from __future__ import annotations

import json

from bot.vocabulary.outgoing import Outcome
from storage import Storage
from tests.support.conversation import Conversation
from tests.support.patient_flow import PAT, answer_all, press, texts, through_pain_questions

SUMMARY = "Please check your answers"


async def at_summary(service: Conversation) -> Outcome:
    outcome = await through_pain_questions(service)
    outcome = await answer_all(service, outcome)
    outcome = await press(service, outcome, "Skip")
    assert SUMMARY in texts(outcome)
    return outcome


async def change(service: Conversation, outcome: Outcome, short: str) -> Outcome:
    outcome = await press(service, outcome, "Change an answer")
    assert "Which answer would you like to change?" in texts(outcome)
    return await press(service, outcome, short)


async def test_one_answer_is_asked_again_then_the_summary_returns(
    service: Conversation, storage: Storage
) -> None:
    summary = await at_summary(service)
    outcome = await change(service, summary, "Pain now (0-10)")
    assert outcome.replies[0].html == "Your answer was: 6. Please answer again:"
    assert "How strong is the pain right now?" in texts(outcome)
    outcome = await press(service, outcome, "3")
    assert SUMMARY in texts(outcome) and "Pain now (0-10): 3" in texts(outcome)
    [record] = await storage.intake_records()
    assert record.decoded_answers()["intensity"] == 3
    assert await storage.answer_changes(record.intake.id) == [("intensity", 6)]
    mine = await service.command(PAT, "mydata")
    [document] = mine.documents
    assert json.loads(document.data)["changed_answers"] == [
        {"intake_id": record.intake.id, "question_id": "intensity", "value": 6, "label": "6"}
    ]
    # Back without changing anything.
    outcome = await press(service, outcome, "Change an answer")
    outcome = await press(service, outcome, "Back to my answers")
    assert SUMMARY in texts(outcome)
    confirmed = await press(service, outcome, "Confirm")
    assert "Thank you!" in texts(confirmed)


async def test_a_changed_area_asks_what_it_opens_and_removes_what_it_closes(
    service: Conversation, storage: Storage
) -> None:
    summary = await at_summary(service)
    outcome = await change(service, summary, "Where it hurts")
    for label in ("Lower back & hips", "Somewhere else", "Done"):
        outcome = await press(service, outcome, label)
    assert "Where else do you feel pain?" in texts(outcome)
    outcome = await service.text(PAT, "left ankle")
    assert SUMMARY in texts(outcome) and "Other area: left ankle" in texts(outcome)
    outcome = await change(service, outcome, "Where it hurts")
    for label in ("Somewhere else", "Done"):
        outcome = await press(service, outcome, label)
    assert "“Other area” no longer applies, so that answer was removed." in texts(outcome)
    assert SUMMARY in texts(outcome) and "left ankle" not in texts(outcome)
    [record] = await storage.intake_records()
    assert record.decoded_answers()["areas"] == ["neck_shoulders"]
    assert "areas_other" not in record.decoded_answers()


async def test_a_red_flag_changed_to_yes_is_advised_and_alerted_at_once(
    service: Conversation, storage: Storage
) -> None:
    summary = await at_summary(service)
    outcome = await change(service, summary, "Chest pain")
    outcome = await press(service, outcome, "Yes")
    assert "Call" in texts(outcome) and "now" in texts(outcome)  # the emergency advice
    assert [n.chat_id for n in outcome.notifications]  # the practitioners, at once
    assert SUMMARY in texts(outcome) and "Chest pain: Yes" in texts(outcome)
    [record] = await storage.intake_records()
    assert record.intake.urgent


async def test_the_old_summary_s_buttons_wait_while_an_answer_is_changed(
    service: Conversation,
) -> None:
    summary = await at_summary(service)
    asked = await change(service, summary, "For how long")
    stale = await press(service, summary, "Confirm")
    assert stale.toast is not None and "How long have you had this pain?" in texts(stale)
    outcome = await press(service, asked, "Less than a week")
    assert SUMMARY in texts(outcome)
