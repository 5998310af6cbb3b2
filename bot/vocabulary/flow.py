"""The intake's order of steps: which question comes next, given the answers so far.

A returning patient's intake (one that starts from their last completed intake) has three
steps that are no questions, one message each for a block of questions: the pain history
("has anything changed since?"), every red flag at once, and the screening answers as they
were. `checks` holds its decisions by block; a first intake has none (None).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from bot.questionnaire import Group, Kind, Question, Questionnaire

CONSENT = "consent"
SUMMARY = "summary"
DONE = "done"
# About how long one step takes a patient: 22 taps took real people three to four minutes.
SECONDS_PER_STEP = 10


class Block(StrEnum):
    """A block of questions a returning patient answers in one message."""

    HISTORY = "history"  # the pain history: carried forward, or changed one by one
    RED_FLAGS = "red_flags"  # never carried: asked afresh, all in one message
    SCREENING = "screening"  # carried forward only when the patient confirms it


class Decision(StrEnum):
    """A returning patient's answer for a block."""

    SAME = "same"  # nothing changed: the answers carried forward, confirmed
    CHANGING = "changing"  # some changed: carried forward, the patient picks what to change
    CHANGED = "changed"  # that is all that changed
    NOTHING = "nothing"  # nothing of the earlier intake could stand: each question asked
    NONE = "none"  # red flags: none of these
    SOME = "some"  # red flags: yes, one or more (then each is asked)


# The step of each block (not a question id: those have no dashes).
CHECK_STEPS = {block: f"check-{block.replace('_', '-')}" for block in Block}
_BLOCK_AT = {step: block for block, step in CHECK_STEPS.items()}
Checks = Mapping[str, str]


def block_of(question: Question) -> Block | None:
    """The block a question belongs to in a returning patient's intake, if any: what they
    are measured by at every visit (pain now, their activities) and their notes are not."""
    if question.group is Group.RED_FLAG:
        return Block.RED_FLAGS
    if question.group is Group.SCREENING:
        return Block.SCREENING
    if question.group is Group.PAIN and question.measure is None:
        return None if question.kind is Kind.ACTIVITIES else Block.HISTORY
    return None


def check_block(step: str) -> Block | None:
    """The block whose step this is, if it is one."""
    return _BLOCK_AT.get(step)


def settled(checks: Checks, block: Block) -> bool:
    """Whether the patient has answered for the block (and finished changing it)."""
    return checks.get(block) not in (None, Decision.CHANGING)


def block_questions(questionnaire: Questionnaire, block: Block) -> list[Question]:
    """The intake questions of one block, in asking order."""
    return [q for q in questionnaire.intake if block_of(q) is block]


def first_question(questionnaire: Questionnaire, checks: Checks | None = None) -> str:
    """The step an intake starts at once consent is given."""
    if checks is not None:
        return next_step(questionnaire, CONSENT, {}, checks)
    return questionnaire.order[0]


def next_step(
    questionnaire: Questionnaire,
    after: str,
    answers: Mapping[str, object],
    checks: Checks | None = None,
) -> str:
    """The step that follows `after` (consent, a question id or the summary): the next
    question that applies and is not answered yet, else the summary (so that an answer
    changed from the summary leads back to it, through any question it newly opens).

    In a returning intake a block not settled comes first at its place, the notes are
    asked at the summary, and every question is looked at from the start: an answer
    changed from a block's step leads back to that step."""
    if after == SUMMARY:
        return DONE
    if checks is not None:
        for q in questionnaire.intake:
            block = block_of(q)
            if block is not None and not settled(checks, block):
                return CHECK_STEPS[block]
            if q.group is not Group.NOTES and q.applies(answers) and q.id not in answers:
                return q.id
        return SUMMARY
    start = 0 if after == CONSENT else questionnaire.order.index(after) + 1
    for q in questionnaire.intake[start:]:
        if q.applies(answers) and q.id not in answers:
            return q.id
    return SUMMARY


def _numbered(questionnaire: Questionnaire, returning: bool) -> list[str]:
    """The steps a patient is shown numbered: each question not asked only after another,
    and in a returning intake each block as one step, without the notes."""
    steps: list[str] = []
    for q in questionnaire.intake:
        if q.asked_when is not None:
            continue
        block = block_of(q) if returning else None
        if block is not None:
            if CHECK_STEPS[block] not in steps:
                steps.append(CHECK_STEPS[block])
        elif not (returning and q.group is Group.NOTES):
            steps.append(q.id)
    return steps


def position(
    questionnaire: Questionnaire, step: str, *, returning: bool = False
) -> tuple[int, int]:
    """(number of this step, total steps), both counted from 1. A question asked only after
    an earlier answer has that question's number, and in a returning intake a question of
    a block has the block's, so the count does not jump."""
    numbered = _numbered(questionnaire, returning)
    q = questionnaire.question(step) if questionnaire.asks(step) else None
    if q is not None and q.asked_when is not None:
        q = questionnaire.question(q.asked_when.question)
        step = q.id
    block = block_of(q) if q is not None and returning else None
    if block is not None:
        step = CHECK_STEPS[block]
    number = numbered.index(step) + 1 if step in numbered else len(numbered)
    return number, len(numbered)


def minutes(questionnaire: Questionnaire, *, returning: bool) -> int:
    """About how many minutes the intake takes, from the steps this patient will see."""
    seconds = len(_numbered(questionnaire, returning)) * SECONDS_PER_STEP
    return max(1, round(seconds / 60))


def current_step(
    questionnaire: Questionnaire,
    step: str,
    answers: Mapping[str, object],
    checks: Checks | None = None,
) -> str:
    """Where an intake stands: its stored step, or, when the clinic has since removed that
    question, the first question still unanswered."""
    if step in (CONSENT, SUMMARY, DONE) or questionnaire.asks(step):
        return step
    if checks is not None and step in _BLOCK_AT and not settled(checks, _BLOCK_AT[step]):
        return step
    return next_step(questionnaire, CONSENT, answers, checks)
