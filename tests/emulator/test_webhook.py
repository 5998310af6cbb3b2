"""Webhooks: the emulator delivers as Telegram does, and our receiver stores each update
before its 200 (one the database refuses is handled all the same, once)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, Update
from telegram.error import BadRequest, Conflict

from bot.edge.webhook import SECRET_HEADER, WebhookReceiver
from bot.emulator import BotApiEmulator
from tests.support.inbox import refusing_first
from tests.support.ports import free_port

SECRET = "a-secret-of-sixteen-or-more"


async def test_while_a_webhook_is_set_get_updates_is_refused(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.set_webhook(f"http://127.0.0.1:{free_port()}/hook", secret_token=SECRET)
    assert (await bot.get_webhook_info()).url.endswith("/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert [u.message.text for u in await bot.get_updates(timeout=0) if u.message] == ["hello"]


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("http://bot.example.org/hook", None),  # Telegram takes HTTPS only
        ("https://bot.example.org:8080/hook", None),  # nor any port
        ("https://bot.example.org/hook", "spaces are not allowed"),
    ],
)
async def test_a_webhook_telegram_would_refuse_is_refused(
    emu: BotApiEmulator, bot: Bot, url: str, secret: str | None
) -> None:
    with pytest.raises(BadRequest):
        await bot.set_webhook(url, secret_token=secret)
    assert emu.world.webhook is None


@pytest.fixture
async def receiving(
    emu: BotApiEmulator, bot: Bot
) -> AsyncIterator[tuple[asyncio.Queue[object], list[list[int]]]]:
    """Our receiver on a free port, registered with the emulator; the database refuses the
    first update it is given."""
    queue: asyncio.Queue[object] = asyncio.Queue()
    tries: list[list[int]] = []

    accept = refusing_first(tries)

    async def health() -> dict[str, bool]:
        return {"database": True}

    receiver = WebhookReceiver(bot, queue, accept, SECRET, health)
    runner = web.AppRunner(receiver.application("/hook"))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token=SECRET)
    try:
        yield queue, tries
    finally:
        await runner.cleanup()


async def test_an_update_the_database_refuses_is_still_handled_once(
    emu: BotApiEmulator, receiving: tuple[asyncio.Queue[object], list[list[int]]]
) -> None:
    queue, tries = receiving
    first = await asyncio.wait_for(queue.get(), timeout=10)
    assert isinstance(first, Update) and first.message and first.message.text == "hello"
    # Its handler meets the same refusal and asks the patient to try again.
    await emu.wait_for(lambda: emu.confirmed(first.update_id), timeout=10)
    assert tries == [[first.update_id]] and not emu.world.pending
    emu.send_text(42, "in order")
    second = await asyncio.wait_for(queue.get(), timeout=10)
    assert isinstance(second, Update) and second.message and second.message.text == "in order"
    assert queue.empty()


async def test_the_receiver_refuses_strangers_and_what_is_no_update(
    emu: BotApiEmulator, receiving: tuple[asyncio.Queue[object], list[list[int]]]
) -> None:
    queue, _ = receiving
    await asyncio.wait_for(queue.get(), timeout=10)  # "hello", delivered by the emulator
    webhook = emu.world.webhook
    assert webhook is not None
    async with aiohttp.ClientSession() as session:
        for body, headers, status in (
            (b"{}", {}, 401),
            (b"{}", {SECRET_HEADER: SECRET + "x"}, 401),
            (b"{}", {SECRET_HEADER: "\u00ff\u00fe"}, 401),
            # With the secret, but no update: dropped, so that it does not block the rest.
            (b"not json", {SECRET_HEADER: SECRET}, 200),
            (b"[1, 2]", {SECRET_HEADER: SECRET}, 200),
            (b'{"update_id": "x", "message": 3}', {SECRET_HEADER: SECRET}, 200),
        ):
            async with session.post(webhook.url, data=body, headers=headers) as answer:
                assert answer.status == status, body
    assert queue.empty()
