"""A returning patient's intake: which completed intake it starts from, what is carried
forward from it, and the messages of its block steps (the pain history, every red flag at
once, and the screening answers as they were)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.content import Catalog
from bot.questionnaire import Kind, Question, Questionnaire
from bot.vocabulary import flow, rendering
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.flow import Block, Decision
from bot.vocabulary.outgoing import Button, Reply
from storage import Intake, Storage, utc_now

# How recent the last completed intake must be for the short one (ASHI_RETURNING_DAYS).
DEFAULT_RETURNING_DAYS = 180


def carried_forward(
    questionnaire: Questionnaire,
    block: Block,
    earlier: Mapping[str, object],
    answers: Mapping[str, object],
) -> dict[str, object]:
    """The earlier intake's answers to the block's questions that can stand for this one:
    not answered here yet, still a valid answer (an option the clinic has since removed is
    asked afresh), and of a question that applies given what is carried (a "where else"
    whose areas are asked afresh is asked afresh too)."""
    carried: dict[str, object] = {}
    for q in flow.block_questions(questionnaire, block):
        value = earlier.get(q.id)
        if q.id in answers or not _valid(q, value):
            continue
        if q.applies({**answers, **carried}):
            carried[q.id] = value
    return carried


def _valid(q: Question, value: object) -> bool:
    if q.kind in (Kind.CHOICE, Kind.YES_NO):
        return value in q.codes
    if q.kind is Kind.MULTI:
        return isinstance(value, list) and bool(value) and all(c in q.codes for c in value)
    if q.kind is Kind.TEXT:
        return isinstance(value, str) and bool(value.strip())
    return False  # a scale or the activities are measured afresh at every visit


def check_reply(
    catalog: Catalog,
    intake_id: int,
    block: Block,
    answers: Mapping[str, object],
    *,
    date: str,
    changing: bool,
) -> Reply:
    """A block's step. The pain history or screening: `answers` as they were on `date` and
    whether they still hold, or (`changing`) a button per answer to change it and "That's
    all". The red flags: each named in full, "none of these" or "yes, one or more"."""
    progress = catalog.text(
        "flow.progress", **_numbers(catalog.questionnaire, flow.CHECK_STEPS[block])
    )
    if block is Block.RED_FLAGS:
        return _red_flags(catalog, intake_id, progress)
    questions = [
        q.id
        for q in flow.block_questions(catalog.questionnaire, block)
        if q.applies(answers) and q.id in answers
    ]
    lines = rendering.answer_lines(catalog, "summary.line", answers, questions)
    key = f"returning.{block}"
    if changing:
        rows = tuple(
            (Button(catalog.short(qid), Action(Verb.CHANGE, intake_id, qid).encode()),)
            for qid in questions
        )
        done = _button(catalog, "returning.done_button", intake_id, block, Decision.CHANGED)
        text = [progress, "", catalog.text(f"{key}_changing"), "", *lines]
        return Reply("\n".join(text), (*rows, (done,)))
    buttons = (
        _button(catalog, f"{key}_same_button", intake_id, block, Decision.SAME),
        _button(catalog, f"{key}_some_button", intake_id, block, Decision.CHANGING),
    )
    text = [
        progress,
        "",
        catalog.text(key, date=date),
        "",
        *lines,
        "",
        catalog.text(f"{key}_ask"),
    ]
    return Reply("\n".join(text), (buttons,))


def _red_flags(catalog: Catalog, intake_id: int, progress: str) -> Reply:
    flags = [
        catalog.text("returning.red_flag_line", flag=catalog.raw(f"questions.{q.id}.in_full"))
        for q in flow.block_questions(catalog.questionnaire, Block.RED_FLAGS)
    ]
    buttons = (
        _button(
            catalog, "returning.red_flags_none_button", intake_id, Block.RED_FLAGS, Decision.NONE
        ),
        _button(
            catalog, "returning.red_flags_some_button", intake_id, Block.RED_FLAGS, Decision.SOME
        ),
    )
    text = [
        progress,
        "",
        catalog.text("returning.red_flags"),
        "",
        *flags,
        "",
        catalog.text("returning.red_flags_ask"),
    ]
    # One button a row: each label is a whole answer, and must not be cut short.
    return Reply("\n".join(text), tuple((b,) for b in buttons))


def _numbers(questionnaire: Questionnaire, step: str) -> dict[str, int]:
    number, total = flow.position(questionnaire, step, returning=True)
    return {"number": number, "total": total}


def _button(
    catalog: Catalog, label: str, intake_id: int, block: Block, decision: Decision
) -> Button:
    return Button(catalog.text(label), Action(Verb.CHECK, intake_id, block, decision).encode())


def decided(catalog: Catalog, reply: Reply, label: str) -> Reply:
    """A block's step after the patient answered it: its text without the progress line,
    and their answer, no buttons (as an answered question is shown)."""
    text = reply.html.split("\n\n", 1)[-1]
    return Reply(f"{text}\n\n{catalog.text('flow.chosen', answer=catalog.text(label))}")


def decision_label(block: Block, decision: Decision) -> str:
    """The text key of the button that made `decision` on `block`."""
    if block is Block.RED_FLAGS:
        return f"returning.red_flags_{'none' if decision is Decision.NONE else 'some'}_button"
    if decision is Decision.CHANGED:
        return "returning.done_button"
    return f"returning.{block}_{'same' if decision is Decision.SAME else 'some'}_button"


async def returning_from(storage: Storage, patient_id: int, days: int) -> Intake | None:
    """The completed intake a new one starts from: the patient's last, if it was completed
    within `days` (0: every intake asks everything)."""
    if days <= 0:
        return None
    done = await storage.latest_completed_intake(patient_id)
    if done is None or done.completed_at is None:
        return None
    return done if utc_now() - done.completed_at <= timedelta(days=days) else None
