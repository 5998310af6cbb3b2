"""The intake's order of steps: which question comes next, given the answers so far."""

from __future__ import annotations

from collections.abc import Mapping

from bot.vocabulary.questionnaire import AREA_OTHER, ORDER

CONSENT = "consent"
SUMMARY = "summary"
DONE = "done"
FIRST_QUESTION = ORDER[0]


def applies(question_id: str, answers: Mapping[str, object]) -> bool:
    """Whether a question is asked at all, given the answers so far."""
    if question_id == "areas_other":
        areas = answers.get("areas")
        return isinstance(areas, list) and AREA_OTHER in areas
    return True


def next_step(after: str, answers: Mapping[str, object]) -> str:
    """The step that follows `after` (consent, a question id or the summary)."""
    if after == CONSENT:
        start = 0
    elif after == SUMMARY:
        return DONE
    else:
        start = ORDER.index(after) + 1
    for question_id in ORDER[start:]:
        if applies(question_id, answers):
            return question_id
    return SUMMARY


# Asked only after "somewhere else" is ticked: part of the areas question, so the count does
# not jump when it is.
_FOLLOW_ON = {"areas_other": "areas"}
_NUMBERED = [q for q in ORDER if q not in _FOLLOW_ON]


def position(step: str) -> tuple[int, int]:
    """(number of this question, total questions), both counted from 1; a follow-on
    question has the number of the question it follows."""
    step = _FOLLOW_ON.get(step, step)
    number = _NUMBERED.index(step) + 1 if step in _NUMBERED else len(_NUMBERED)
    return number, len(_NUMBERED)
