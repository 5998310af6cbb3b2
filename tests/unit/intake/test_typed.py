"""Answers typed where buttons were offered: taken when unambiguous, never guessed, and a
red flag only on a clear yes or no."""

from __future__ import annotations

import dataclasses
from typing import cast

import pytest

from bot.content import Catalog, Content
from bot.intake.typed import Typed, typed_answer
from bot.scheduling.checkins import CheckIns
from bot.vocabulary.outgoing import Outcome
from storage import Storage
from tests.conftest import PRACTITIONER
from tests.support.conversation import Conversation
from tests.support.followups import sent_followup
from tests.support.patient_flow import PAT, agreed, press, texts

CONTENT = Content.load()
EN, KO = CONTENT.catalog("en"), CONTENT.catalog("ko")
QUESTIONS = CONTENT.questionnaire


@pytest.mark.parametrize(
    ("catalog", "question", "text", "code"),
    [
        (EN, "intensity", "7", "7"),
        (EN, "intensity", " 7 / 10 ", "7"),
        (EN, "intensity", "\uff17", "7"),  # a full-width digit
        (EN, "intensity", "0", "0"),
        (EN, "intensity", "11", None),
        (EN, "intensity", "seven", None),
        (EN, "intensity", "7.5", None),
        (EN, "rf_chest_pain", "Yes.", "yes"),
        (EN, "rf_chest_pain", "NOPE", "no"),
        (EN, "rf_chest_pain", "ye", None),  # a red flag: no beginnings of words
        (EN, "rf_chest_pain", "y", None),
        (EN, "rf_chest_pain", "maybe", None),
        (EN, "rf_chest_pain", "not really", None),
        (KO, "rf_chest_pain", "네", "yes"),
        (KO, "rf_chest_pain", "아니요.", "no"),
        (KO, "rf_chest_pain", "없어요", "no"),
        (KO, "pregnancy", "아마도", None),
        (EN, "duration", "More than 12 weeks", "gt_3m"),
        (EN, "duration", "more", "gt_3m"),  # a clear beginning
        (EN, "duration", "1", None),  # too short to be clear
        (EN, "ashi_point", "no", "no"),  # in full: not the beginning of "not sure"
        (EN, "ashi_point", "not", "not_sure"),
        (KO, "cause", "운동", "exercise"),
        (KO, "duration", "12주", "gt_3m"),
        (EN, "cause", "desk", None),  # inside a label, not its beginning: no guess
    ],
)
def test_a_typed_answer_is_taken_only_when_it_is_clear(
    catalog: Catalog, question: str, text: str, code: str | None
) -> None:
    assert typed_answer(catalog, QUESTIONS.question(question), text).code == code


class Labels:
    """A catalog stand-in with two options beginning alike."""

    def option(self, question_id: str, code: str) -> str:
        return {"a": "Lower back", "b": "Lower leg"}[code]


def test_text_that_fits_two_options_names_both_and_takes_neither() -> None:
    question = dataclasses.replace(QUESTIONS.question("cause"), options=("a", "b"))
    assert typed_answer(cast(Catalog, Labels()), question, "lower") == Typed(None, ("a", "b"))
    assert typed_answer(cast(Catalog, Labels()), question, "lower l") == Typed("b")


async def through_cause(service: Conversation) -> Outcome:
    outcome = await agreed(service)
    outcome = await press(service, outcome, "Neck & shoulders")
    return await press(service, outcome, "Done")


async def test_typed_answers_in_the_intake_are_said_back_and_stored(
    service: Conversation, storage: Storage
) -> None:
    outcome = await through_cause(service)
    outcome = await service.text(PAT, "exercise")
    assert outcome.replies[0].html == "Your answer: Exercise or sport"
    assert "How strong is the pain" in texts(outcome)
    outcome = await service.text(PAT, "12")
    assert "Please answer with the buttons" in texts(outcome)
    assert "How strong is the pain" in texts(outcome)  # asked again
    outcome = await service.text(PAT, "6/10")
    outcome = await service.text(PAT, "more than 12")
    outcome = await service.text(PAT, "yes")  # the tender spot
    assert "spreading in an arm or a leg" in texts(outcome)
    outcome = await service.text(PAT, "maybe")
    assert "Please answer with the buttons" in texts(outcome)
    outcome = await service.text(PAT, "no")
    [record] = await storage.intake_records()
    answers = record.decoded_answers()
    assert (answers["cause"], answers["intensity"], answers["duration"]) == ("exercise", 6, "gt_3m")
    assert (answers["ashi_point"], answers["rf_numbness_weakness"]) == ("yes", "no")


async def test_a_red_flag_typed_yes_gets_its_advice_and_alert_at_once(
    service: Conversation,
) -> None:
    outcome = await through_cause(service)
    for typed in ("desk work", "Long sitting or desk work", "5", "less", "no"):
        outcome = await service.text(PAT, typed)
    while "chest pain" not in texts(outcome):
        outcome = await service.text(PAT, "no")
    outcome = await service.text(PAT, "Yes")
    assert "emergency" in texts(outcome).lower()
    assert outcome.notifications  # the practitioners are alerted at once


async def test_a_check_in_takes_typed_answers_unless_a_conversation_is_open(
    service: Conversation, storage: Storage, checkins: CheckIns
) -> None:
    message_id, outcome = await sent_followup(checkins, storage, PAT)
    outcome = await service.text(PAT, "2")
    assert outcome.replies[0].html == "Your answer: 2"
    assert "Compared with before the treatment" in texts(outcome)
    outcome = await service.text(PAT, "about")  # the beginning of "About the same"
    assert outcome.replies[0].html == "Your answer: About the same"
    outcome = await service.text(PAT, "hmm")
    assert "Please answer with the buttons" in texts(outcome)
    assert await storage.followup_answers(message_id) == {"fu_soreness": 2, "fu_compared": "same"}

    # With a conversation with the clinic open, "no" is for the practitioner, not taken for
    # a warning sign's answer.
    patient = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient is not None
    await storage.open_thread(patient.id, PRACTITIONER)
    await service.text(PAT, "no")
    assert "fu_breathing" not in await storage.followup_answers(message_id)
    assert service.relays.to(PRACTITIONER)


async def test_an_old_unanswered_check_in_does_not_take_an_intake_s_typed_answers(
    service: Conversation, storage: Storage, checkins: CheckIns
) -> None:
    message_id, _ = await sent_followup(checkins, storage, PAT)  # never answered
    outcome = await through_cause(service)
    outcome = await service.text(PAT, "exercise")
    assert outcome.replies[0].html == "Your answer: Exercise or sport"
    outcome = await service.text(PAT, "7")
    assert "How long have you had this pain?" in texts(outcome)
    assert outcome.notifications == []  # no check-in escalation
    assert await storage.followup_answers(message_id) == {}
    [record] = await storage.intake_records()
    assert record.decoded_answers()["intensity"] == 7
