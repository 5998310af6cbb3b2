"""A returning patient through Telegram: the short intake in at most 8 taps when nothing
changed, every red flag named to them afresh and the screening confirmed; a red flag reported
there gets its advice and the practitioner's alert at once; the practitioner's summary and
the exports mark what was carried forward."""

from __future__ import annotations

import csv
import io

from bot.content import Content
from bot.emulator.server import BotApiEmulator
from bot.settings import Settings
from tests.e2e.conftest import (
    Person,
    Runner,
    answer_and_confirm,
    consent,
    export_json,
    export_text,
    reachable_practitioner,
)

HISTORY = {"areas", "cause", "duration", "ashi_point"}


class Counted(Person):
    """A patient whose taps are counted."""

    taps = 0

    async def tap(self, label: str, then: str | None = None) -> None:
        self.taps += 1
        await super().tap(label, then)


async def first_visit_with_activities(p: Person) -> None:
    """A first intake: neck and shoulders, every safety answer No, two activities rated."""
    await consent(p)
    await p.toggles("Neck & shoulders")
    await p.tap("Done", then="What brought the pain on?")
    await p.tap("Long sitting or desk work", then="How strong is the pain")
    await p.tap("7", then="How long have you had this pain?")
    await p.tap("More than 12 weeks", then="hurts sharply when you press it")
    await p.tap("Yes", then="spreading in an arm or a leg")
    while "What does the pain make hard" not in p.messages()[-1].text:
        await p.tap("No")
    for name, rating in (("Carry the shopping", 3), ("Lift my child", 4)):
        p.send(name)
        await p.sees(f"{name}: how well can you do it now?")
        await p.tap(str(rating), then="type another activity")
    await p.tap("Done", then="Anything else the practitioner should know")
    await p.tap("Skip", then="Please check your answers")
    await p.tap("Confirm", then="Thank you!")


async def test_nothing_changed_takes_eight_taps_and_is_marked_for_the_practitioner(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    en = Content.load().catalog("en")
    patient = Counted(emulator, 6301, "Sora")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        await first_visit_with_activities(patient)
        first = await practitioner.sees("New intake: Sora")
        practitioner.seen = first.message_id
        patient.send("/start")
        await patient.sees("You already completed an intake")
        await patient.tap("Start a new intake", then="Has any of this changed since then?")

        patient.taps = 0  # from the first step of the short intake to the guide
        history = patient.messages()[-1].text
        assert history.startswith("Question 1 of 5\n\nWelcome back!")
        assert "Where it hurts: Neck & shoulders" in history and "Pain now" not in history
        await patient.tap("Nothing changed", then="How strong is the pain right now?")
        await patient.tap("4", then="Do you have any of these now?")
        flags = patient.messages()[-1].text
        for q in en.questionnaire.intake:
            if q.group == "red_flag":  # every one named, in full
                assert f"• {en.raw(f'questions.{q.id}.in_full')}" in flags
        await patient.tap("None of these", then="Is all of this still the same?")
        screening = patient.messages()[-1].text
        assert (
            "• Pregnant or could be: No" in screening
            and "• Cancer now or in the past: No" in screening
        )
        await patient.tap("No changes", then="Carry the shopping: 3 out of 10 last time")
        await patient.tap("5", then="Lift my child: 4 out of 10 last time")
        await patient.tap("6", then="type another activity")
        await patient.tap("Done", then="Please check your answers")
        patient.send("The left side is better")
        await patient.sees("Your note is saved")
        await patient.sees("Notes: The left side is better")
        await patient.tap("Confirm", then="Thank you!")
        assert patient.taps == 8

        note = await practitioner.sees("New intake: Sora")
        assert "Returning patient: answers marked ↺ are from intake #1" in note.text
        assert "• Where it hurts: Neck & shoulders ↺" in note.text
        assert "• Pain now (0-10): 4\n" in note.text
        assert "Safety answers: 13 of 13 confirmed unchanged." in note.text
        assert "Red flags: all asked again in one message, none reported." in note.text

    data = await export_json(settings)
    first_intake, second = data["intakes"]
    assert second["returning_from"] == first_intake["intake_id"]
    assert second["returning_checks"] == {
        "history": "same",
        "red_flags": "none",
        "screening": "same",
    }
    answers = {a["question_id"]: a for a in second["answers"]}
    assert answers["areas"]["carried_from"] == first_intake["intake_id"]
    assert answers["areas"]["confirmed_unchanged_at"] is not None
    for fresh in ("intensity", "psfs", "notes", "rf_chest_pain"):
        assert answers[fresh]["confirmed_unchanged_at"] is None, fresh
    rows = list(csv.DictReader(io.StringIO((await export_text(settings, "csv")).lstrip("\ufeff"))))
    carried = set(rows[1]["confirmed_unchanged"].split("; "))
    assert carried >= HISTORY and "pregnancy" in carried and "intensity" not in carried
    assert rows[0]["confirmed_unchanged"] == "" and rows[1]["returning_from"] == "1"


async def test_a_red_flag_reported_by_a_returning_patient_is_advised_and_alerted_at_once(
    emulator: BotApiEmulator, bot: Runner
) -> None:
    patient = Person(emulator, 6302, "Woo")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        await consent(patient)
        await answer_and_confirm(patient, "Lower back & hips")
        await practitioner.sees("New intake: Woo")
        patient.send("/start")
        await patient.sees("You already completed an intake")
        await patient.tap("Start a new intake", then="Has any of this changed since then?")
        await patient.tap("Some things changed", then="What has changed?")
        await patient.tap("For how long", then="Your answer was: More than 12 weeks")
        await patient.tap("6 to 12 weeks", then="What has changed?")
        await patient.tap("That's all", then="How strong is the pain right now?")
        await patient.tap("8", then="Do you have any of these now?")
        await patient.tap("Yes, one or more", then="spreading in an arm or a leg")
        await practitioner.sees("Red flag from Woo", "listed together")
        await patient.tap("No", then="difficulty passing urine")
        await patient.tap("Yes", then="This is an emergency")
        alert = await practitioner.sees("Red flag from Woo", "Bladder or bowel problems")
        assert "advised to seek medical care" in alert.text
        for _ in range(4):
            await patient.tap("No")
        await patient.sees("Is all of this still the same?")
        await patient.tap("No changes", then="What does the pain make hard")
        await patient.tap("Skip", then="Please check your answers")
        await patient.tap("Confirm", then="Thank you!")
        note = await practitioner.sees("New intake: Woo", "URGENT")
        assert "• For how long: 6 to 12 weeks\n" in note.text
        assert "• Brought on by: Long sitting or desk work ↺" in note.text
        assert "none reported" not in note.text
