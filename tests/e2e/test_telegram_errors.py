"""Telegram misbehaving or refusing: the bot retries or records, and keeps serving."""

from __future__ import annotations

import dataclasses
import gc
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.error import NetworkError

from bot.edge.app import build_application, serving
from bot.emulator.ratelimit import RateLimits
from bot.emulator.server import BotApiEmulator
from bot.settings import Settings
from tests.e2e.conftest import (
    PRACTITIONER_ID,
    Person,
    Runner,
    consent,
    pain_questions,
    reachable_practitioner,
    safety_questions,
)


def sent_texts(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    return [
        str(call.params["text"])
        for call in emulator.transcript
        if call.ok and call.method == "sendMessage" and call.params["chat_id"] == chat_id
    ]


async def test_server_errors_are_retried_and_the_reply_arrives_once(
    emulator: BotApiEmulator, bot: Runner
) -> None:
    patient = Person(emulator, 2001, "Ari")
    async with bot():
        emulator.inject_failure("sendMessage", status=502, description="Bad Gateway", times=2)
        patient.send("/help")
        await patient.sees("I help you get ready")
        helps = [t for t in sent_texts(emulator, patient.id) if "I help you get ready" in t]
        assert len(helps) == 1
        failed = [c for c in emulator.transcript if c.error_code == 502]
        assert len(failed) == 2


async def test_a_patient_who_blocked_the_bot_does_not_stop_it(
    emulator: BotApiEmulator, bot: Runner
) -> None:
    gone = Person(emulator, 2002, "Bo")
    other = Person(emulator, 2003, "Cy")
    async with bot():
        # Bo blocks the bot right after writing: the reply to him is refused with 403.
        emulator.inject_failure(
            "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
        )
        gone.send("/help")
        await emulator.wait_for(lambda: any(c.error_code == 403 for c in emulator.transcript))
        other.send("/help")
        await other.sees("I help you get ready")
    refused = [c for c in emulator.transcript if c.error_code == 403]
    assert len(refused) == 1  # recorded, not retried


async def test_an_unreachable_practitioner_does_not_cost_the_patient_anything(
    emulator: BotApiEmulator, bot: Runner
) -> None:
    # The practitioner never started the bot: Telegram answers "chat not found".
    patient = Person(emulator, 2004, "Dee")
    async with bot():
        await consent(patient)
        await pain_questions(patient, "Arms")
        await safety_questions(patient)
        await patient.tap("Skip", then="Please check your answers")
        await patient.tap("Confirm", then="About dry needling and muscle pain")
        refused = await emulator.wait_for(
            lambda: [
                c
                for c in emulator.transcript
                if c.method == "sendMessage" and c.params["chat_id"] == PRACTITIONER_ID
            ]
        )
        assert [(c.ok, c.description) for c in refused] == [(False, "Bad Request: chat not found")]
        patient.send("/guide")
        await patient.sees("About dry needling and muscle pain")


@pytest.fixture
async def strict_emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator()  # Telegram's limits: a burst, then 1 message/s per chat
    await emu.start()
    yield emu
    await emu.stop()
    assert emu.violations == []


async def test_replies_over_the_chat_rate_limit_wait_for_retry_after(
    strict_emulator: BotApiEmulator, settings: Settings, tmp_path: Path
) -> None:
    emu = strict_emulator
    strict = dataclasses.replace(
        settings, token=emu.token, api_url=emu.base_url, db_path=tmp_path / "strict.sqlite3"
    )
    patient = Person(emu, 2005, "Eun")
    burst = RateLimits().per_chat_burst
    async with serving(build_application(strict), poll_timeout=1):
        await emu.wait_for(lambda: emu.is_polling)
        # Each sent once the previous reply is there (as a person does; a chat that does not
        # wait has its excess dropped, bot.edge.updates), yet faster than Telegram allows.
        for sent in range(1, burst + 3):
            patient.send("/help")
            await emu.wait_for(
                lambda: len([t for t in sent_texts(emu, patient.id) if "I help" in t]) == sent,  # noqa: B023
                timeout=15,
            )
    limited = [c for c in emu.transcript if c.error_code == 429]
    assert limited, "the burst should have exceeded the per-chat limit"
    helps = [t for t in sent_texts(emu, patient.id) if "I help" in t]
    assert len(helps) == burst + 2  # every reply delivered exactly once


async def test_a_notification_lost_to_telegram_errors_is_sent_after_a_restart(
    emulator: BotApiEmulator, bot: Runner
) -> None:
    patient = Person(emulator, 2006, "Fay")
    async with bot():
        practitioner = await reachable_practitioner(emulator)
        await consent(patient)
        await pain_questions(patient, "Arms")
        await safety_questions(patient)
        await patient.tap("Skip", then="Please check your answers")
        # Telegram fails every attempt at the practitioner's summary (sent first).
        emulator.inject_failure("sendMessage", status=502, description="Bad Gateway", times=4)
        await patient.tap("Confirm", then="About dry needling and muscle pain")
        assert not [m for m in practitioner.messages() if "New intake" in m.text]
    async with bot():
        note = await practitioner.sees("New intake: Fay")
        assert "Pain now (0-10): 7" in note.text
    async with bot():
        pass  # already told: a further restart sends nothing again
    assert len([m for m in practitioner.messages() if "New intake" in m.text]) == 1


async def test_a_proxy_in_the_environment_is_not_used_for_a_bot_api_on_this_machine(
    emulator: BotApiEmulator, bot: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clinic behind a proxy still runs `ashi demo`: no proxy can reach 127.0.0.1.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, nowhere)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    patient = Person(emulator, 2002, "Noor")
    async with bot():
        patient.send("/help")
        await patient.sees("I help you get ready")


async def test_a_start_without_telegram_fails_cleanly(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}/bot"
    app = build_application(dataclasses.replace(settings, api_url=nowhere))
    with pytest.raises(NetworkError):
        async with serving(app):
            pass
    del app
    gc.collect()  # an HTTP client left open complains when collected
    assert "Unclosed" not in caplog.text
