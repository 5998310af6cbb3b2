"""Hostile text from patients reaches the practitioner as literal text, never as markup."""

from __future__ import annotations

from bot.emulator.models import ChatMessage
from bot.emulator.server import BotApiEmulator
from tests.e2e.conftest import (
    PRACTITIONER_ID,
    SCREENING_AND_RED_FLAGS,
    Person,
    Runner,
    consent,
    reachable_practitioner,
    safety_questions,
)

MARKUP = '<b>x</b><a href="https://evil.example">y</a>'
NAME = '<i>Dr</i> <a href="tg://user?id=1">Admin</a>'
WHERE = "<code>left</code> *foot* _heel_ [link](https://evil.example) &amp;"


def markup_entities(message: ChatMessage) -> list[dict[str, object]]:
    """Entities a client would render from the message: links, bold, code, and so on."""
    return [e for e in message.entities if e.get("type") not in ("bot_command",)]


def assert_literal(message: ChatMessage, *texts: str) -> None:
    """Each text is shown exactly as typed, and nothing from it became markup."""
    assert message.html is not None
    for text in texts:
        assert text in message.text, message.text
        assert text not in message.html  # it was escaped on the way
    links = [e for e in markup_entities(message) if e.get("type") in ("text_link", "text_mention")]
    assert links == []
    assert "evil.example" not in str(message.reply_markup or "")
    for entity in markup_entities(message):
        start, length = int(str(entity["offset"])), int(str(entity["length"]))
        shown = message.text.encode("utf-16-le")[2 * start : 2 * (start + length)]
        covered = shown.decode("utf-16-le")
        assert not any(covered and covered in text for text in texts), (entity, covered)


async def test_patient_text_and_name_reach_the_practitioner_as_literal_text(
    emulator: BotApiEmulator, bot: Runner
) -> None:
    patient = Person(emulator, 6001, NAME, username="evil_user")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        await consent(patient)
        await patient.toggles("Somewhere else")
        await patient.tap("Done", then="Where else do you feel pain?")
        patient.send(WHERE)
        await patient.sees("What brought the pain on?")
        await patient.tap("Long sitting or desk work", then="How strong is the pain")
        await patient.tap("7", then="How long have you had this pain?")
        await patient.tap("More than 12 weeks", then="hurts sharply when you press it")
        await patient.tap("Yes", then="spreading in an arm or a leg")
        # A red flag: the practitioner is alerted. ("Where else" shares the areas' number.)
        await patient.tap("Yes", then="Question 7 of")
        alert = await practitioner.sees("Red flag from")
        assert_literal(alert, NAME)
        await safety_questions(patient, count=SCREENING_AND_RED_FLAGS - 1)
        patient.send(MARKUP)
        summary = await patient.sees("Please check your answers")
        assert_literal(summary, MARKUP, WHERE)
        await patient.tap("Confirm", then="Thank you! Your answers are saved")

        practitioner.seen = alert.message_id
        note = await practitioner.sees("New intake")
        assert_literal(note, MARKUP, WHERE, NAME)
        assert note.html is not None
        assert '&lt;b&gt;x&lt;/b&gt;&lt;a href="https://evil.example"&gt;y&lt;/a&gt;' in note.html

        practitioner.send(f"/patient {patient.id}")
        record = await practitioner.sees("Notes from the patient")
        assert_literal(record, MARKUP, WHERE, NAME)
    sent = [
        str(c.params.get("text"))
        for c in emulator.transcript
        if c.method == "sendMessage" and c.params.get("chat_id") == PRACTITIONER_ID
    ]
    assert not any(MARKUP in text or NAME in text for text in sent)  # never raw on the wire
