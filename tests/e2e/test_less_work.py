"""Less work for the patient, through Telegram: answers typed where buttons are offered
(said back; a red flag only on a clear yes or no, with its advice and alert at once), and
one answer changed from the summary without starting over."""

from __future__ import annotations

from bot.emulator.server import BotApiEmulator
from bot.settings import Settings
from tests.e2e.conftest import (
    SCREENING_AND_RED_FLAGS,
    Person,
    Runner,
    consent,
    export_json,
    reachable_practitioner,
)

RED_FLAGS = 6  # asked first; chest pain is the last of them


async def says(p: Person, text: str, then: str) -> None:
    p.send(text)
    await p.sees(then)


async def test_typed_answers_and_one_answer_changed_from_the_summary(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 6201, "Jun")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        await consent(patient)
        await patient.toggles("Neck & shoulders")
        await patient.tap("Done", then="What brought the pain on?")
        await says(patient, "exercise", then="Your answer: Exercise or sport")
        await patient.sees("How strong is the pain")
        await says(patient, "very bad", then="Please answer with the buttons")
        await says(patient, "7/10", then="How long have you had this pain?")
        await says(patient, "more than 12", then="hurts sharply when you press it")
        await says(patient, "yes", then="spreading in an arm or a leg")
        # A red flag: a guess is never taken.
        await says(patient, "maybe", then="Please answer with the buttons")
        for _ in range(RED_FLAGS - 1):
            await says(patient, "no", then="Question")
        assert "chest pain" in patient.messages()[-1].text
        await says(patient, "No", then="Safety check")
        for _ in range(SCREENING_AND_RED_FLAGS - RED_FLAGS):
            await patient.tap("No")
        await patient.tap("Skip", then="Anything else the practitioner should know")
        await patient.tap("Skip", then="Please check your answers")

        # Change one answer: only that question, then the summary again.
        await patient.tap("Change an answer", then="Which answer would you like to change?")
        await patient.tap("Pain now (0-10)", then="Your answer was: 7")
        await patient.tap("3", then="Please check your answers")
        summary = await patient.sees("Pain now (0-10): 3")
        # The areas: one more ticked, Done, and the summary again.
        await patient.tap("Change an answer", then="Which answer would you like to change?")
        await patient.tap("Where it hurts", then="Your answer was: Neck & shoulders")
        await patient.toggles("Arms")
        await patient.tap("Done", then="Please check your answers")
        await patient.sees("Where it hurts: Neck & shoulders, Arms")
        # A red flag changed to yes: its advice and the practitioner's alert at once.
        await patient.tap("Change an answer", then="Which answer would you like to change?")
        await patient.tap("Chest pain", then="Your answer was: No")
        await patient.tap("Yes", then="This needs emergency care now")
        await practitioner.sees("Red flag from Jun")
        summary = await patient.sees("Please check your answers", "Chest pain: Yes")
        assert summary.message_id > 0
        await patient.tap("Confirm", then="Thank you!")
        note = await practitioner.sees("New intake: Jun")
        assert "Pain now (0-10): 3" in note.text and "Brought on by: Exercise or sport" in note.text

    [intake] = (await export_json(settings))["intakes"]
    answers = {a["question_id"]: a["value"] for a in intake["answers"]}
    assert (answers["intensity"], answers["cause"], answers["rf_chest_pain"]) == (
        3,
        "exercise",
        "yes",
    )
    assert intake["urgent"] is True
    assert answers["areas"] == ["neck_shoulders", "arms"]
