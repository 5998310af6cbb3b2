"""A patient completes intakes in Telegram (emulated over HTTP) against the real bot."""

from __future__ import annotations

from bot.emulator.server import BotApiEmulator
from bot.settings import Settings
from storage import Storage
from tests.e2e.conftest import (
    SCREENING_AND_RED_FLAGS,
    Person,
    Runner,
    consent,
    export_json,
    pain_questions,
    reachable_practitioner,
    safety_questions,
    stored_records,
)


async def test_full_intake_with_several_areas(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 1001, "Mina", username="mina_k")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        commands = [c for c in emulator.transcript if c.method == "setMyCommands"]
        assert commands
        published = commands[0].params["commands"]
        assert isinstance(published, list)
        assert [c["command"] for c in published] == [
            "start",
            "guide",
            "help",
            "cancel",
            "privacy",
            "mydata",
            "progress",
            "delete",
            "reminders",
            "language",
        ]

        await consent(patient)
        await pain_questions(patient, "Neck & shoulders", "Lower back & hips", "Legs & calves")
        await safety_questions(patient, yes=("thins the blood",))
        patient.send("Desk job. <b>Left</b> side & worse at night")
        summary = await patient.sees("Please check your answers")
        assert "Neck & shoulders, Lower back & hips, Legs & calves" in summary.text
        assert "Desk job. <b>Left</b> side & worse at night" in summary.text
        await patient.tap("Confirm", then="Thank you! Your answers are saved")

        await patient.sees("About dry needling and muscle pain")  # opens every guide
        guide = await patient.sees("Neck and shoulder tension")
        await patient.sees("Lower back, hip and pelvic discomfort")
        expect = await patient.sees("local twitch response")
        # Legs after desk work, not exercise: no "tight after exercise" section.
        assert not any("Tight muscles after exercise" in m.text for m in patient.messages())
        assert "1\u20133 meaningful twitches" in expect.text
        assert "Dr. Byoungjin Na" in patient.messages()[-1].text
        assert guide.html and "<b>" in guide.html

        note = await practitioner.sees("New intake: Mina @mina_k")
        assert "Blood thinners or bleeding disorder: Yes" in note.text
        assert "Pain now (0-10): 7" in note.text
        assert note.html and "&lt;b&gt;Left&lt;/b&gt; side &amp; worse" in note.html
        assert "URGENT" not in note.text

    [record] = await stored_records(settings)
    answers = record.decoded_answers()
    assert len(answers) == 26  # every question but the "somewhere else" follow-up
    assert answers["areas"] == ["neck_shoulders", "lower_back_hips", "legs_calves"]
    assert answers["blood_thinners"] == "yes"
    assert answers["notes"] == "Desk job. <b>Left</b> side & worse at night"
    assert record.intake.completed_at is not None


async def test_consent_refused_stores_nothing_but_the_refusal(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 1002, "Jae")
    async with bot():
        patient.send("/start spring_flyer")
        await patient.sees("Do you agree")
        await patient.tap("No thanks", then="None of your answers are kept")
        patient.send("my back hurts")
        await patient.sees("To start or continue your intake, send /start")
    storage = await Storage.open(settings.db_path)
    try:
        assert await storage.intake_records() == []
        stored = await storage.patient_by_telegram_id(1002)
        assert stored is not None and stored.first_name is None
    finally:
        await storage.close()


async def test_red_flag_gets_urgent_advice_and_an_urgent_summary(
    emulator: BotApiEmulator, bot: Runner
) -> None:
    patient = Person(emulator, 1003, "Ola")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        await consent(patient)
        await pain_questions(patient, "Lower back & hips")
        await patient.tap("No", then="lost control of your bladder")
        await patient.tap("Yes", then="This is an emergency")
        advice = patient.messages()[-2]
        assert "call your local emergency number" in advice.text
        assert "fever together with back pain" in patient.messages()[-1].text
        # The practitioner hears at once, not only when the intake is finished.
        alert = await practitioner.sees("Red flag from Ola (id 1003)")
        assert "Bladder or bowel problems, or numbness between the legs" in alert.text
        assert "still in progress" in alert.text

        await safety_questions(patient, count=SCREENING_AND_RED_FLAGS - 2)
        await patient.tap("Skip", then="Please check your answers")
        await patient.tap("Confirm", then="This needs emergency care now")
        practitioner.seen = alert.message_id
        note = await practitioner.sees("URGENT red flags")
        assert note.text.index("URGENT") < note.text.index("Bladder or bowel problems")
        assert note.text.index("Bladder or bowel problems") < note.text.index("Pain\n")


async def test_cancel_and_restart_of_the_bot_lose_nothing(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 1004, "Sam")
    async with bot():
        await consent(patient)
        await pain_questions(patient, "Arms", "Somewhere else")
        await patient.tap("No", then="lost control of your bladder")
        patient.send("/cancel")
        await patient.sees("Your answers so far are kept")
        patient.send("when is my appointment?")
        await patient.sees("I have not used that as an answer")

    # A new application on the same database: the conversation position was stored.
    async with bot():
        patient.send("/start")
        await patient.sees("continue where you left off")
        await patient.tap("Continue", then="lost control of your bladder")
        await patient.tap("No", then="fever together with back pain")

    async with bot():
        # Even without /start, the stored step decides what a button press means.
        await patient.tap("No", then="after a recent fall, accident or blow")

    [record] = await stored_records(settings)
    answers = record.decoded_answers()
    assert answers["areas"] == ["arms", "other"]
    assert answers["rf_numbness_weakness"] == "no"
    assert answers["rf_bladder_bowel"] == "no"
    assert answers["rf_fever_back_pain"] == "no"
    assert "when is my appointment?" not in answers.values()


async def test_delete_erases_everything_after_confirmation(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 1005, "Lee")
    async with bot():
        await consent(patient)
        await pain_questions(patient, "Upper back")
        patient.send("/delete")
        await patient.sees("It cannot be undone")
        await patient.tap("Yes, erase everything")
        await emulator.wait_for(lambda: "has been erased" in patient.messages()[-1].text)
        patient.send("/guide")
        await patient.sees("once you have completed an intake")
    storage = await Storage.open(settings.db_path)
    try:
        assert await storage.intake_records() == []
        assert await storage.patient_by_telegram_id(1005) is None
    finally:
        await storage.close()


async def test_unexpected_input_gets_a_reply_and_the_way_back(
    emulator: BotApiEmulator, bot: Runner
) -> None:
    patient = Person(emulator, 1006, "Kim")
    async with bot():
        patient.send("hello?")
        await patient.sees("To start or continue your intake, send /start")
        await consent(patient)
        stale_consent = next(m for m in patient.messages() if "Do you agree" in m.text)

        patient.seen = emulator.send_sticker(patient.id)
        await patient.sees("only read text messages")
        await patient.sees("Where do you feel pain?")

        patient.seen = emulator.send_photo(patient.id)
        await patient.sees("only read text messages")

        patient.send("neck")
        await patient.sees("answer with the buttons")
        await patient.sees("Where do you feel pain?")

        mine = patient.seen
        emulator.edit_text(patient.id, mine, "shoulders")
        await patient.sees("can't use edited messages")

        patient.seen = max(m.message_id for m in emulator.chat(patient.id))
        emulator.press_raw(patient.id, stale_consent.message_id, "c:1::yes")
        await patient.sees("belongs to an earlier message")
        emulator.press_raw(patient.id, stale_consent.message_id, "forged-data")
        await patient.sees("belongs to an earlier message")

        patient.send("/nonsense")
        await patient.sees("I don't know that command")
        for command, text in [
            ("/help", "/privacy"),
            ("/privacy", "What is stored and why"),
            ("/guide", "once you have completed an intake"),
        ]:
            patient.send(command)
            await patient.sees(text)


async def test_the_export_shows_every_answer_of_a_completed_intake(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 1007, "Rae")
    async with bot():
        await consent(patient)
        await pain_questions(patient, "Neck & shoulders", "Somewhere else")
        await safety_questions(patient, yes=("epilepsy",))
        patient.send("Prefers mornings")
        await patient.sees("Please check your answers")
        await patient.tap("Confirm", then="Thank you!")
    [intake] = (await export_json(settings))["intakes"]
    assert intake["status"] == "completed"
    labels = {a["question_id"]: a["label"] for a in intake["answers"]}
    assert len(labels) == 27  # every question, "somewhere else" included
    assert labels["areas"] == "Neck & shoulders, Somewhere else"
    assert labels["areas_other"] == "left foot"
    assert labels["epilepsy"] == "Yes"
    assert labels["notes"] == "Prefers mornings"
