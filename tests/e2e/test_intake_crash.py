"""Hard crashes in the middle of intakes: `ashi run` is killed with SIGKILL at random moments
while several patients answer at once, and restarted on the same database each time.

Every answer the bot acknowledged (its next question arrived) is stored; each patient goes
on where they were (the old buttons still work; a patient left without an answer sends
/start and continues); no answer is stored twice and no question is skipped or asked again
except when a patient asks to continue. Set ASHI_CRASH_SEED to replay a run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite
import pytest

from bot.emulator.server import BotApiEmulator
from bot.questionnaire import Kind
from bot.scores.activities import SKIP
from bot.vocabulary import flow
from bot.vocabulary.actions import Action, Verb
from tests.e2e.conftest import Person
from tests.support.bot_process import BotProcess
from tests.support.questionnaire import ORDER, QUESTIONS, SHIPPED

FIRST = 95_001
KILL_ZONE = ORDER[1:]  # areas_other ... notes, then the summary's Confirm
SUMMARY = "Please check your answers"
DONE = "Thank you! Your answers are saved"
RESUME = "Welcome back! You have an intake in progress"
ALREADY_DONE = "You already completed an intake"


def prompt_of(position: int) -> str:
    """What the message asking for step `position` (0 = areas_other) contains."""
    if position < len(KILL_ZONE):
        number, total = flow.position(SHIPPED, KILL_ZONE[position])
        return f"Question {number} of {total}\n"
    return SUMMARY if position == len(KILL_ZONE) else DONE


@dataclass
class Patient:
    person: Person
    rng: random.Random
    script: list[object] = field(default_factory=list)  # the value for each step
    acked: int = 0  # steps whose next prompt arrived
    in_flight: int | None = None  # message id after which the ack is expected
    resumes: int = 0

    @property
    def done(self) -> bool:
        return self.acked > len(KILL_ZONE)

    def plan(self) -> None:
        for question_id in KILL_ZONE:
            q = QUESTIONS[question_id]
            if q.kind is Kind.TEXT:
                self.script.append(f"{question_id} of {self.person.id}, café 😀")
            elif q.kind is Kind.SCALE:
                self.script.append(self.rng.randint(0, 10))
            elif q.kind is Kind.ACTIVITIES:
                self.script.append(SKIP)  # a one-tap answer: not given
            else:
                self.script.append(self.rng.choice(q.codes))

    def acknowledged(self) -> bool:
        """Whether the in-flight step's next prompt has arrived (and records it)."""
        if self.in_flight is None:
            return True
        after, wanted = self.in_flight, prompt_of(self.acked + 1)
        if any(m.message_id > after and wanted in m.text for m in self.person.messages()):
            self.acked += 1
            self.in_flight = None
            return True
        return False

    def act(self) -> None:
        """Answer the current step without waiting for the bot."""
        emu, chat = self.person.emu, self.person.id
        self.in_flight = max(m.message_id for m in emu.chat(chat))
        if self.acked == len(KILL_ZONE):
            self._press(Verb.SUMMARY, "", "ok")
            return
        question_id, value = KILL_ZONE[self.acked], self.script[self.acked]
        if QUESTIONS[question_id].kind is Kind.TEXT:
            self.person.send(str(value))
        else:
            self._press(Verb.ANSWER, question_id, str(value))

    def _press(self, verb: Verb, question_id: str, code: str) -> None:
        wanted = prompt_of(self.acked)
        message = next(m for m in reversed(self.person.messages()) if wanted in m.text)
        data = next(
            b.callback_data
            for row in message.buttons
            for b in row
            if b.callback_data
            and (a := Action.decode(b.callback_data))
            and (a.verb, a.question, a.code) == (verb, question_id, code)
        )
        self.person.emu.press_button(self.person.id, message.message_id, data)

    async def resume(self) -> None:
        """After a restart with no answer to the last step: /start, Continue, and see where
        the intake is: at that step (the answer was lost) or the next (it was stored)."""
        assert self.in_flight is not None
        person = self.person
        person.send("/start")
        reply = await person.emu.wait_for(
            lambda: next(
                (
                    m
                    for m in person.messages()
                    if m.message_id > person.seen and (RESUME in m.text or ALREADY_DONE in m.text)
                ),
                None,
            ),
            timeout=20,
        )
        if ALREADY_DONE in reply.text:
            assert self.acked == len(KILL_ZONE), "completed before the last step"
            self.acked, self.in_flight = self.acked + 1, None
            return
        self.resumes += 1
        await person.tap("Continue")
        shown = await person.emu.wait_for(
            lambda: next((m for m in person.messages() if m.message_id > person.seen), None)
        )
        if prompt_of(self.acked + 1) in shown.text:
            self.acked += 1
        else:
            assert prompt_of(self.acked) in shown.text, f"skipped or repeated: {shown.text!r}"
        self.in_flight = None


def some_answer(people: list[Patient]) -> bool:
    """Whether some patient's step was acknowledged (or none is waiting)."""
    waiting = [p for p in people if p.in_flight is not None]
    return not waiting or any(p.acknowledged() for p in waiting)


async def stored(db_path: Path) -> dict[int, list[tuple[str, str, str | None]]]:
    """Each patient's intakes: (status, step, None) rows, then answers as (question, value)."""
    found: dict[int, list[tuple[str, str, str | None]]] = {}
    async with aiosqlite.connect(db_path) as db:
        await db.execute("PRAGMA busy_timeout = 5000")
        async with db.execute(
            "SELECT p.telegram_user_id, i.status, i.step FROM intakes i"
            " JOIN patients p ON p.id = i.patient_id"
        ) as cursor:
            for user_id, status, step in await cursor.fetchall():
                found.setdefault(user_id, []).append((status, step, None))
        async with db.execute(
            "SELECT p.telegram_user_id, a.question_id, a.value FROM answers a"
            " JOIN intakes i ON i.id = a.intake_id JOIN patients p ON p.id = i.patient_id"
        ) as cursor:
            for user_id, question_id, value in await cursor.fetchall():
                found.setdefault(user_id, []).append(("answer", question_id, value))
    return found


async def check_acknowledged_answers_are_stored(db_path: Path, patients: list[Patient]) -> None:
    rows = await stored(db_path)
    for patient in patients:
        answers = {q: v for kind, q, v in rows.get(patient.person.id, []) if kind == "answer"}
        for position in range(min(patient.acked, len(KILL_ZONE))):
            question_id = KILL_ZONE[position]
            assert question_id in answers, f"acknowledged answer lost: {question_id}"


async def crash_during_intakes(
    emulator: BotApiEmulator, tmp_path: Path, *, patients: int, kills: int
) -> None:
    seed = int(os.environ.get("ASHI_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    print(f"seed {seed}: {patients} patients, {kills} kills")
    bot = BotProcess(emulator, tmp_path)
    await bot.start()
    people: list[Patient] = []
    try:
        await emulator.wait_for(lambda: bot.running() and emulator.is_polling, timeout=30)
        for i in range(patients):
            patient = Patient(Person(emulator, FIRST + i, f"K{i}"), random.Random(rng.random()))
            patient.plan()
            people.append(patient)
            person = patient.person
            person.send("/start")
            await person.sees("Do you agree")
            await person.tap("I agree", then="Question 1 of")
            await person.toggles("Somewhere else")
            await person.toggles("Upper back")
            await person.tap("Done", then=prompt_of(0))

        steps = patients * (len(KILL_ZONE) + 1)
        kill_after = sorted(rng.sample(range(2, steps - 2), kills))
        fired = 0
        while not all(p.done for p in people):
            for patient in people:
                patient.acknowledged()
            idle = [p for p in people if not p.done and p.in_flight is None]
            if not idle or rng.random() < 0.3:
                # Wait for some answer before going on (as people do, now and then).
                await emulator.wait_for(lambda: bot.running() and some_answer(people), timeout=20)
                continue
            rng.choice(idle).act()
            fired += 1
            if kill_after and fired >= kill_after[0]:
                kill_after.pop(0)
                await asyncio.sleep(rng.uniform(0, 0.04))  # not a wait: a random moment
                await bot.kill()
                for patient in people:
                    patient.acknowledged()
                await check_acknowledged_answers_are_stored(bot.db_path, people)
                await bot.start()
                await emulator.wait_for(lambda: bot.running() and emulator.is_polling, timeout=30)
                for patient in people:
                    if not patient.acknowledged():
                        await patient.resume()
        assert await bot.stop() == 0
        print(f"seed {seed}: resumed {[p.resumes for p in people]}")
    except BaseException:
        if bot.process is not None:
            await bot.kill()
        print(bot.logs())
        raise

    rows = await stored(bot.db_path)
    for patient in people:
        mine = rows[patient.person.id]
        intakes = [(status, step) for status, step, value in mine if value is None]
        assert intakes == [("completed", "done")], f"seed {seed}: {intakes}"
        answers = [(q, v) for kind, q, v in mine if kind == "answer"]
        assert Counter(q for q, _ in answers) == Counter(["areas", *KILL_ZONE]), f"seed {seed}"
        values = dict(answers)
        for question_id, expected in zip(KILL_ZONE, patient.script, strict=True):
            if expected == SKIP:  # skipped activities are stored as not given
                expected = "null"
            assert str(values[question_id]).strip('"') == str(expected), f"seed {seed}"
        # The transcript: each question asked in order, none skipped, and asked again only
        # when the patient asked to continue.
        numbers = [
            int(text.split(" of ")[0].removeprefix("Question "))
            for call in emulator.transcript
            if call.ok
            and call.method == "sendMessage"
            and call.params["chat_id"] == patient.person.id
            and (text := str(call.params["text"])).startswith("Question ")
        ]
        _, total = flow.position(SHIPPED, ORDER[0])
        assert sorted(set(numbers)) == list(range(1, total + 1)), f"seed {seed}: {numbers}"
        assert all(b - a in (0, 1) for a, b in itertools.pairwise(numbers)), numbers
        repeats = sum(1 for a, b in itertools.pairwise(numbers) if a == b)
        # "Where else" has the number of the areas question: one repeat by design.
        assert repeats <= patient.resumes + 1, f"seed {seed}: {numbers}"
        summaries = [m for m in patient.person.messages() if SUMMARY in m.text]
        assert len(summaries) <= 1 + patient.resumes


async def test_sigkill_in_the_middle_of_intakes_loses_and_repeats_nothing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    await crash_during_intakes(emulator, tmp_path, patients=3, kills=3)


@pytest.mark.slow
async def test_many_sigkills_in_the_middle_of_many_intakes(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    await crash_during_intakes(emulator, tmp_path, patients=8, kills=10)
