"""`ashi run --webhook` against the emulator delivering updates as Telegram does (POST, the
secret header, tried again until 200): an intake goes through, a request without the secret
is refused, the health endpoint answers, and what arrives while the bot is down is handled
once it is back."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from bot.edge.app import build_application, serving
from bot.edge.webhook import SECRET_HEADER, WebhookPlan
from bot.emulator.server import BotApiEmulator
from bot.runner import StartError, run, webhook_plan
from bot.settings import Settings
from storage import DatabaseLock
from tests.e2e.conftest import (
    WEBHOOK_SECRET,
    Person,
    answer_and_confirm,
    consent,
    hooked,
    reachable_practitioner,
)


@asynccontextmanager
async def on_webhook(settings: Settings, emulator: BotApiEmulator) -> AsyncIterator[WebhookPlan]:
    plan = webhook_plan(settings)
    async with serving(build_application(settings), webhook=plan):
        await emulator.wait_for(lambda: emulator.world.webhook is not None)
        yield plan


async def test_an_intake_goes_through_the_webhook_and_strangers_are_refused(
    emulator: BotApiEmulator, settings: Settings
) -> None:
    settings = hooked(settings)
    queued: list[dict[str, object]] = []
    emulator.world.update_listeners.append(lambda update, _: queued.append(update))
    async with on_webhook(settings, emulator) as plan:
        practitioner = await reachable_practitioner(emulator)
        patient = Person(emulator, 6401, "Ara")
        await consent(patient)
        await answer_and_confirm(patient, "Arms")
        await practitioner.sees("New intake: Ara")

        async with aiohttp.ClientSession() as web:
            # Sent again, as Telegram does when our 200 was lost: recognised, not redone.
            [start] = [u for u in queued if "/start" in str(u.get("message"))][:1]
            before = len(patient.messages())
            secret = {SECRET_HEADER: WEBHOOK_SECRET}
            async with web.post(plan.url, json=start, headers=secret) as again:
                assert again.status == 200
            # The chat's next update is handled after it: by then a reply would be there.
            patient.send("/help")
            await patient.sees("I help you get ready for your appointment")
            redone = [m for m in patient.messages()[before:] if "already completed" in m.text]
            assert redone == []  # what /start handled again would say now

            update = {"update_id": 1, "message": {"message_id": 1}}
            for headers in ({}, {SECRET_HEADER: "wrong-secret-0123456789"}):
                async with web.post(plan.url, json=update, headers=headers) as refused:
                    assert refused.status == 401 and await refused.text() == ""
            health_url = plan.url.replace("/telegram", "/healthz")
            async with web.get(health_url) as health:
                assert health.status == 200
                assert await health.json() == {"database": True, "dispatcher": True}

    calls = [c.method for c in emulator.transcript]
    assert "setWebhook" in calls and "getUpdates" not in calls
    [registered] = [c for c in emulator.transcript if c.method == "setWebhook"]
    assert registered.params["secret_token"] == WEBHOOK_SECRET
    assert emulator.world.webhook is not None and emulator.world.webhook.attempts >= 20


async def test_what_arrives_while_the_bot_is_down_is_handled_once_it_is_back(
    emulator: BotApiEmulator, settings: Settings
) -> None:
    settings = hooked(settings)
    patient = Person(emulator, 6402, "Bom")
    async with on_webhook(settings, emulator):
        await consent(patient)
    patient.send("/help")  # the bot is down: Telegram keeps trying
    await emulator.wait_for(
        lambda: (
            emulator.world.webhook is not None
            and emulator.world.webhook.attempts > 0
            and emulator.world.webhook.last_error is not None
        )
    )
    async with on_webhook(settings, emulator):
        await patient.sees("I help you get ready for your appointment")
        assert not emulator.world.pending  # delivered, and answered 200


async def test_an_address_telegram_refuses_is_a_start_error_and_frees_the_port(
    emulator: BotApiEmulator, settings: Settings
) -> None:
    # Past the settings' own check, as if Telegram refused an address for its own reasons.
    settings = dataclasses.replace(
        hooked(settings), webhook_url="https://bot.example.org:8080/telegram"
    )
    lock = DatabaseLock.acquire(settings.db_path, "run")
    try:
        with pytest.raises(StartError, match="Telegram refused ASHI_WEBHOOK_URL"):
            await run(settings, settings.load_content(), lock, webhook=True)
    finally:
        lock.release()
    with socket.socket() as again:  # the listener was closed
        again.bind(settings.listen)
