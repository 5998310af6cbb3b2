"""The intake's order of steps: which question comes next, given the answers so far."""

from __future__ import annotations

from collections.abc import Mapping

from bot.questionnaire import Questionnaire

CONSENT = "consent"
SUMMARY = "summary"
DONE = "done"


def first_question(questionnaire: Questionnaire) -> str:
    """The step an intake starts at once consent is given."""
    return questionnaire.order[0]


def next_step(questionnaire: Questionnaire, after: str, answers: Mapping[str, object]) -> str:
    """The step that follows `after` (consent, a question id or the summary): the next
    question that applies and is not answered yet, else the summary (so that an answer
    changed from the summary leads back to it, through any question it newly opens)."""
    if after == CONSENT:
        start = 0
    elif after == SUMMARY:
        return DONE
    else:
        start = questionnaire.order.index(after) + 1
    for q in questionnaire.intake[start:]:
        if q.applies(answers) and q.id not in answers:
            return q.id
    return SUMMARY


def position(questionnaire: Questionnaire, step: str) -> tuple[int, int]:
    """(number of this question, total questions), both counted from 1. A question asked
    only after an earlier answer has that question's number, so the count does not jump."""
    numbered = [q.id for q in questionnaire.intake if q.asked_when is None]
    q = questionnaire.question(step) if questionnaire.asks(step) else None
    if q is not None and q.asked_when is not None:
        step = q.asked_when.question
    number = numbered.index(step) + 1 if step in numbered else len(numbered)
    return number, len(numbered)


def current_step(questionnaire: Questionnaire, step: str, answers: Mapping[str, object]) -> str:
    """Where an intake stands: its stored step, or, when the clinic has since removed that
    question, the first question still unanswered."""
    if step in (CONSENT, SUMMARY, DONE) or questionnaire.asks(step):
        return step
    for q in questionnaire.intake:
        if q.applies(answers) and q.id not in answers:
            return q.id
    return SUMMARY
