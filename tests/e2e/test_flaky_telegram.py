"""Telegram misbehaving while several patients go through their intakes: flood control
(429 with retry_after), server errors, dropped connections and a response slower than the
bot's timeout. The bot keeps serving, no answer is lost and no message arrives twice."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bot.emulator.server import DROPPED, BotApiEmulator
from bot.settings import Settings
from tests.e2e.conftest import (
    ON_WEBHOOK,
    SCREENING_AND_RED_FLAGS,
    Person,
    Runner,
    consent,
    pain_questions,
    stored_records,
)

INTAKE_ANSWERS = 26  # every question but "somewhere else"'s follow-up


def sent_texts(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    """Every message Telegram accepted for the chat."""
    return [
        str(call.params["text"])
        for call in emulator.transcript
        if call.ok and call.method == "sendMessage" and call.params["chat_id"] == chat_id
    ]


def duplicates(emulator: BotApiEmulator, chat_id: int) -> dict[str, int]:
    """Texts the chat received more than once (in a straight intake, each is different)."""
    return {t: n for t, n in Counter(sent_texts(emulator, chat_id)).items() if n > 1}


async def intake(patient: Person) -> None:
    """A whole intake, each step waiting for the bot's next question."""
    await consent(patient)
    await pain_questions(patient, "Upper back")
    for _ in range(SCREENING_AND_RED_FLAGS):
        last = _ == SCREENING_AND_RED_FLAGS - 1
        await patient.tap("No", then="What does the pain make hard" if last else "Question")
    await patient.tap("Skip", then="Anything else")
    patient.send(f"note from {patient.id}")
    await patient.sees("Please check your answers")
    await patient.tap("Confirm", then="Thank you! Your answers are saved")


@pytest.mark.skipif(ON_WEBHOOK, reason="getUpdates' faults: polling only (see test_webhook)")
async def test_errors_flood_control_and_dropped_connections_cost_nothing(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patients = [Person(emulator, 7001 + i, f"Flaky{i}") for i in range(3)]
    async with bot():
        # Queued up front: each hits the next call of its method, whoever it is for.
        emulator.inject_failure("getUpdates", status=500, description="Internal Server Error")
        emulator.inject_dropped_connection("getUpdates")
        emulator.inject_failure(
            "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
        )
        emulator.inject_failure("sendMessage", status=500, description="Internal Server Error")
        # Telegram delivers it and the connection breaks before the answer: not sent twice.
        emulator.inject_dropped_connection("sendMessage", after_effect=True)
        emulator.inject_failure("editMessageText", status=502, description="Bad Gateway")
        emulator.inject_dropped_connection("editMessageText")
        emulator.inject_failure(
            "answerCallbackQuery",
            status=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
        )
        emulator.inject_dropped_connection("answerCallbackQuery")

        async def later() -> None:
            """More faults in the middle of the intakes (the bot retries a send three times:
            queued together, they would all hit one send)."""
            await emulator.wait_for(lambda: len(sent_texts(emulator, patients[0].id)) >= 8)
            emulator.inject_dropped_connection("sendMessage", after_effect=True)
            emulator.inject_failure("sendMessage", status=502, description="Bad Gateway")
            await emulator.wait_for(lambda: len(sent_texts(emulator, patients[1].id)) >= 16)
            emulator.inject_dropped_connection("answerCallbackQuery")
            emulator.inject_dropped_connection("getUpdates")

        await asyncio.gather(later(), *(intake(p) for p in patients))
        for method in ("sendMessage", "editMessageText", "answerCallbackQuery", "getUpdates"):
            assert emulator.faults.pending(method) == 0, method

    failed = Counter(
        (c.method, c.error_code or c.description) for c in emulator.transcript if not c.ok
    )
    assert failed == {
        ("getUpdates", 500): 1,
        ("getUpdates", DROPPED): 2,
        ("sendMessage", 429): 1,
        ("sendMessage", 500): 1,
        ("sendMessage", 502): 1,
        ("editMessageText", 502): 1,
        ("editMessageText", DROPPED): 1,
        ("answerCallbackQuery", 429): 1,
        ("answerCallbackQuery", DROPPED): 2,
        ("sendMessage", 400): 3,  # the practitioner never started the bot: chat not found
        ("setMyCommands", 400): 1,  # the same: no command menu for a chat Telegram lacks
    }
    for patient in patients:
        assert duplicates(emulator, patient.id) == {}
        assert not [t for t in sent_texts(emulator, patient.id) if "something went wrong" in t]
    records = await stored_records(settings)
    assert sorted(r.patient.telegram_user_id for r in records) == [p.id for p in patients]
    for record in records:
        answers = record.decoded_answers()
        assert len(answers) == INTAKE_ANSWERS
        assert answers["notes"] == f"note from {record.patient.telegram_user_id}"
        assert record.intake.completed_at is not None


async def test_a_response_slower_than_the_timeout_is_not_sent_again(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    slow, other = Person(emulator, 7101, "Slow"), Person(emulator, 7102, "Other")
    async with bot():
        await consent(slow)
        await consent(other)
        # Telegram takes 6 s to answer: past the bot's 5 s read timeout. The message did
        # arrive; sending it again would show the patient the same question twice.
        emulator.inject_slow_response("sendMessage", 6.0)
        await slow.toggles("Upper back")
        await slow.tap("Done", then="What brought the pain on?")
        # The bot serves the next update, and the slow patient simply goes on.
        await other.toggles("Arms")
        await other.tap("Done", then="What brought the pain on?")
        await slow.tap("An injury", then="How strong is the pain")
    assert duplicates(emulator, slow.id) == {}
    asked = [t for t in sent_texts(emulator, slow.id) if "What brought the pain on?" in t]
    assert len(asked) == 1
    # It most likely arrived: no "try again" for a question the patient can see.
    assert not [t for t in sent_texts(emulator, slow.id) if "try again" in t]
    timed_out = [c for c in emulator.transcript if c.method == "sendMessage" and c.ok]
    assert timed_out  # the slow call is in the transcript as done
    records = {r.patient.telegram_user_id: r for r in await stored_records(settings)}
    assert records[slow.id].decoded_answers() == {"areas": ["upper_back"], "cause": "injury"}
    assert records[slow.id].intake.step == "intensity"
