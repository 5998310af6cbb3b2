"""Property-based: random sequences of commands, odd texts, stale, foreign and forged button
data from several interleaved patients, driven through Conversation and PracticeService
(the domain behind every handler). Nothing raises, every action gets an answer, the
database stays consistent, and no patient sees another's data.

A patient's free text carries their marker; a marker in anyone else's replies is a leak.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content import Content
from bot.practice.service import PracticeService
from bot.questionnaire import Kind
from bot.scheduling.checkins import CheckIns
from bot.vocabulary import flow
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Outcome, Reply
from bot.vocabulary.people import Who, localised
from bot.vocabulary.rendering import CHECK
from storage import Storage
from tests.support.conversation import Conversation
from tests.support.hostile import HOSTILE_TEXTS, INTAKE_VERBS, forged_data
from tests.support.questionnaire import ORDER, QUESTIONS

PRACTITIONER = 900
PATIENTS = (
    Who(1001, 1001, "Ana", "ana", "en"),
    Who(1002, 1002, "<b>Bo</b>", None, "ko"),
    Who(1003, 1003, "Cy", "cy_cy", None),
)
DOCTOR = Who(PRACTITIONER, PRACTITIONER, "Dr", None, "en")
CONTENT = Content.load()
STEPS = {*ORDER, *flow.CHECK_STEPS.values(), flow.SUMMARY, flow.DONE}


def marker(who: Who) -> str:
    return f"MARK{who.user_id}X"


@st.composite
def free_text(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(HOSTILE_TEXTS) | st.text(max_size=60))
    return base  # the marker is added by the runner (so that it is never cut off)


@dataclass(frozen=True)
class Step:
    patient: int  # index into PATIENTS, or -1 for the practitioner
    kind: str
    text: str = ""
    index: int = 0


COMMANDS = ("start", "cancel", "delete", "language", "mydata", "help", "privacy", "guide")
PRACTICE = ("today", "upcoming", "intakes", "flagged", "patient", "export")


answers = st.builds(Step, st.integers(0, 2), st.just("answer"), index=st.integers(0, 12))
steps = st.one_of(
    *[answers] * 12,  # mostly a cooperative patient, so that intakes get far
    st.builds(Step, st.integers(0, 2), st.just("press"), index=st.integers(0, 12)),
    st.builds(Step, st.integers(0, 2), st.just("stale"), index=st.integers(0, 50)),
    st.builds(Step, st.integers(0, 2), st.just("foreign"), index=st.integers(0, 50)),
    st.builds(Step, st.integers(0, 2), st.just("forged"), text=forged_data()),
    st.builds(Step, st.integers(0, 2), st.just("text"), text=free_text()),
    st.builds(Step, st.integers(0, 2), st.just("command"), text=st.sampled_from(COMMANDS)),
    st.builds(
        Step,
        st.integers(0, 2),
        st.just("start"),
        text=st.sampled_from(["spring_flyer", "appt-xyz", "a" * 64, "a" * 65, "<b>", ""])
        | st.text(max_size=70),
    ),
    st.builds(Step, st.integers(0, 2), st.just("unexpected"), index=st.integers(0, 1)),
    st.builds(Step, st.integers(-1, 2), st.just("practice"), text=st.sampled_from(PRACTICE)),
    st.builds(Step, st.just(-1), st.just("practice_press"), index=st.integers(0, 50)),
)


# How far each patient gets before the random steps: up to past the summary (~26 moves).
DEPTHS = st.lists(st.integers(0, 30), min_size=3, max_size=3)


@dataclass
class World:
    intakes: Conversation
    practice: PracticeService
    storage: Storage
    keyboards: dict[int, list[Reply]] = field(default_factory=dict)  # by user id, oldest first
    # Everything each user was shown: replies, edits, toasts, documents.
    shown: dict[int, list[str]] = field(default_factory=dict)


def texts_of(outcome: Outcome) -> list[str]:
    shown = [r.html for r in outcome.replies]
    shown += [outcome.edit.html] if outcome.edit else []
    shown += [outcome.toast] if outcome.toast else []
    for document in outcome.documents:
        shown += [document.caption, document.data.decode("utf-8", "replace")]
    return shown


def keyboards_of(outcome: Outcome) -> list[Reply]:
    found = [r for r in outcome.replies if r.keyboard]
    return found + ([outcome.edit] if outcome.edit and outcome.edit.keyboard else [])


def button_data(replies: list[Reply]) -> list[str]:
    return [b.data for reply in replies for row in reply.keyboard for b in row]


async def next_move(world: World, who: Who, step: Step) -> Step | None:
    """What a cooperative patient does next: type when a text is asked, else tap an answer
    of the latest keyboard (on a multi-select question a tick first, then Done)."""
    patient = await world.storage.patient_by_telegram_id(who.user_id)
    intake = await world.storage.open_intake(patient.id) if patient else None
    asked = intake.step if intake and not intake.paused else None
    if asked in QUESTIONS and QUESTIONS[asked].kind is Kind.TEXT:
        return Step(step.patient, "text", f"answer {step.index}")
    last = world.keyboards.get(who.user_id, [])[-1:]
    buttons = [b for reply in last for row in reply.keyboard for b in row]
    ticked = any(b.label.startswith(CHECK) for b in buttons)
    moves = [b.data for b in buttons if not (ticked and b.data.startswith("t:"))]
    if not moves:
        return None
    return Step(step.patient, "data", moves[step.index % len(moves)])


async def act(world: World, step: Step) -> None:
    who = DOCTOR if step.patient < 0 else PATIENTS[step.patient]
    who = await localised(world.storage, who)
    mine = world.keyboards.setdefault(who.user_id, [])
    if step.kind == "answer":
        cooperative = await next_move(world, who, step)
        if cooperative is None:
            return
        step = cooperative
    is_button = step.kind in ("press", "stale", "foreign", "forged", "data", "practice_press")
    if step.kind == "press":
        data = button_data(mine[-1:])
        if not data:
            return
        outcome = await world.intakes.button(who, data[step.index % len(data)])
    elif step.kind == "stale":
        data = button_data(mine[:-1])
        if not data:
            return
        outcome = await world.intakes.button(who, data[step.index % len(data)])
    elif step.kind == "foreign":
        others = [r for uid, rs in world.keyboards.items() if uid != who.user_id for r in rs]
        data = button_data(others)
        if not data:
            return
        chosen = data[step.index % len(data)]
        if step.patient >= 0 and chosen[:2] in ("o:", "w:", "p:"):
            outcome = await world.practice.button(who, chosen)
        else:
            outcome = await world.intakes.button(who, chosen)
    elif step.kind in ("forged", "data"):
        if Action.decode(step.text) and step.text[:2] in ("o:", "w:", "p:"):
            outcome = await world.practice.button(who, step.text)
        else:
            outcome = await world.intakes.button(who, step.text)
    elif step.kind == "practice_press":
        data = [d for d in button_data(mine) if d[:2] in ("o:", "w:", "p:")]
        if not data:
            return
        outcome = await world.practice.button(who, data[step.index % len(data)])
    elif step.kind == "text":
        outcome = await world.intakes.text(who, f"{step.text} {marker(who)}")
    elif step.kind == "start":
        outcome = await world.intakes.command(who, "start", step.text)
    elif step.kind == "command":
        outcome = await world.intakes.command(who, step.text)
    elif step.kind == "unexpected":
        outcome = await world.intakes.unexpected(who, edited=bool(step.index))
    else:  # practice
        args = [str(PATIENTS[0].user_id)] if step.text == "patient" else []
        outcome = await world.practice.command(who, step.text, args)

    # Every action is answered: a message with at least one reply, a press with something.
    if is_button:
        assert outcome.replies or outcome.edit or outcome.toast, (step, outcome)
    else:
        assert outcome.replies or outcome.documents, (step, outcome)
    for note in outcome.notifications:
        assert note.chat_id == PRACTITIONER
    world.shown.setdefault(who.user_id, []).extend(texts_of(outcome))
    mine.extend(keyboards_of(outcome))
    for callback_data in button_data(keyboards_of(outcome)):
        assert len(callback_data.encode()) <= 64


async def check_database(storage: Storage) -> None:
    db = storage._db
    rows = await db.execute_fetchall(
        "SELECT patient_id, COUNT(*) FROM intakes WHERE status = 'in_progress'"
        " GROUP BY patient_id HAVING COUNT(*) > 1"
    )
    assert rows == []
    intakes = await db.execute_fetchall(
        "SELECT id, status, step, completed_at, returning_from FROM intakes"
    )
    for intake_id, status, step, completed_at, returning_from in intakes:
        assert step in STEPS, step
        assert (status == "completed") == (step == flow.DONE) == (completed_at is not None)
        answers = await storage.answers(intake_id)
        assert set(answers) <= set(QUESTIONS), answers
        if returning_from is not None and step not in (flow.SUMMARY, flow.DONE):
            # A returning intake: nothing is missing before the block the step belongs to
            # (its notes are taken at the summary); its blocks are carried forward whole.
            block = flow.check_block(step) or flow.block_of(QUESTIONS[step])
            first = next(
                (ORDER.index(q) for q in ORDER if block and flow.block_of(QUESTIONS[q]) is block),
                ORDER.index(step) if step in ORDER else 0,
            )
            before = [
                q
                for q in ORDER[:first]
                if QUESTIONS[q].applies(answers) and QUESTIONS[q].group != "notes"
            ]
            assert all(q in answers for q in before), (step, answers)
        elif step in ORDER:
            # Nothing before the current step is missing. Beyond it, either nothing is
            # answered (on the way through), or, while one answer is changed from the
            # summary, everything that applies but what the step itself opens.
            position = ORDER.index(step)
            before = [q for q in ORDER[:position] if QUESTIONS[q].applies(answers)]
            assert all(q in answers for q in before), (step, answers)
            if any(ORDER.index(q) > position for q in answers):
                beyond = [q for q in ORDER[position + 1 :] if QUESTIONS[q].applies(answers)]
                opened = {
                    q for q in beyond if (c := QUESTIONS[q].asked_when) and c.question == step
                }
                assert all(q in answers for q in beyond if q not in opened), (step, answers)
    rows = await db.execute_fetchall("SELECT value FROM answers")
    for (value,) in rows:
        json.loads(value)


async def check_ownership(world: World) -> None:
    """Each patient's text is stored in their own intakes only; each is shown only their
    own markers and buttons of their own intakes."""
    db = world.storage._db
    rows = await db.execute_fetchall(
        "SELECT p.telegram_user_id, i.id, a.value FROM answers a"
        " JOIN intakes i ON i.id = a.intake_id JOIN patients p ON p.id = i.patient_id"
    )
    owned: dict[int, set[int]] = {}
    for user_id, intake_id, value in rows:
        owned.setdefault(user_id, set()).add(intake_id)
        for other in PATIENTS:
            if other.user_id != user_id:
                assert marker(other) not in value, (user_id, value)
    rows = await db.execute_fetchall(
        "SELECT p.telegram_user_id, i.id FROM intakes i JOIN patients p ON p.id = i.patient_id"
    )
    for user_id, intake_id in rows:
        owned.setdefault(user_id, set()).add(intake_id)
    for who in PATIENTS:
        shown = "\n".join(world.shown.get(who.user_id, []))
        for other in PATIENTS:
            if other is not who:
                assert marker(other) not in shown, (who, other)
        for data in button_data(world.keyboards.get(who.user_id, [])):
            action = Action.decode(data)
            if action is not None and action.verb in INTAKE_VERBS:
                # Intakes since erased (/delete, a refused consent) are no longer listed.
                assert action.intake_id in owned.get(who.user_id, set()) or not any(
                    action.intake_id in ids for ids in owned.values()
                ), (who, data)


async def run(depths: list[int], sequence: list[Step]) -> None:
    """Each patient consents and answers `depths[i]` questions cooperatively (anywhere from
    the first question to a completed intake), then `sequence` is played."""
    storage = await Storage.open(":memory:")
    try:
        tz = ZoneInfo("Europe/London")
        checkins = CheckIns(
            storage,
            CONTENT,
            clinic_name="Prop Clinic",
            clinic_address="1 Lane",
            practitioner_ids=[PRACTITIONER],
            timezone=tz,
        )
        intakes = Conversation(
            storage,
            CONTENT,
            checkins,
            clinic_name="Prop Clinic",
            practitioner_ids=[PRACTITIONER],
            timezone=tz,
        )

        async def csv_export() -> tuple[str, int]:
            return "id\n", 0

        practice = PracticeService(
            storage,
            CONTENT,
            practitioner_ids=[PRACTITIONER],
            timezone=tz,
            csv_export=csv_export,
            messaging=intakes.messaging,
        )
        world = World(intakes, practice, storage)
        # Everyone starts: without consent nothing of theirs is stored to leak.
        for who in PATIENTS:
            await act(world, Step(PATIENTS.index(who), "start"))
            await act(world, Step(PATIENTS.index(who), "press", index=0))  # I agree
        for index, depth in enumerate(depths):
            for n in range(depth):
                await act(world, Step(index, "answer", index=n))
        for step in sequence:
            await act(world, step)
            await check_database(storage)
        await check_ownership(world)
    finally:
        await storage.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DEPTHS, st.lists(steps, min_size=1, max_size=60))
def test_random_patients_never_break_the_intake_or_see_each_other(
    depths: list[int], sequence: list[Step]
) -> None:
    asyncio.run(run(depths, sequence))


@pytest.mark.slow
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DEPTHS, st.lists(steps, min_size=1, max_size=150))
def test_random_patients_never_break_the_intake_long(
    depths: list[int], sequence: list[Step]
) -> None:
    asyncio.run(run(depths, sequence))


def test_forged_ids_beyond_sqlite_integers_are_stale() -> None:
    # Found by the long run: "i:9223372036854775808::" reached SQLite (OverflowError), and a
    # practitioner's page button "p:9223372036854775807::" overflowed its OFFSET.
    owners = ("9223372036854775807", "9223372036854775808", "9" * 30)
    forged = [
        Step(who, "forged", text=f"{verb.value}:{owner}:{question}:")
        for verb in Verb
        for owner in owners
        for who, question in ((0, ""), (-1, "x"))
    ]
    asyncio.run(run([0, 0, 0], forged))
