"""The bot's HTTP client (bot.edge.transport) against the emulator: what goes over the wire, and
which failures may have reached Telegram (SentUnconfirmed: never repeat) or surely did not."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut

from bot.edge.transport import AiohttpRequest, ConnectionLost, ReplyTimedOut, SentUnconfirmed
from bot.emulator import BotApiEmulator
from tests.emulator.conftest import USER


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    """A bot on AiohttpRequest that waits at most 0.3 s for an answer."""
    request = AiohttpRequest(2, read_timeout=0.3, pool_timeout=0.2)
    async with Bot(emu.token, base_url=emu.base_url, request=request) as ptb_bot:
        yield ptb_bot


async def test_messages_buttons_and_uploads_arrive_as_sent(emu: BotApiEmulator, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Neck ✓", callback_data="a:1:q:n")]])
    text = "<b>Where</b> does it hurt? 목"
    sent = await bot.send_message(USER, text, "HTML", reply_markup=keyboard)
    await bot.send_document(USER, InputFile(b"id,answer\n1,neck\n", filename="intakes.csv"))
    [question, document] = emu.bot_messages(USER)
    assert sent.message_id == question.message_id
    assert question.text == "Where does it hurt? 목"
    assert question.reply_markup == keyboard.to_dict()
    assert (document.document, document.filename) == (b"id,answer\n1,neck\n", "intakes.csv")
    assert emu.violations == []


async def test_a_connection_dropped_after_the_request_went_out_is_sent_unconfirmed(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.inject_dropped_connection("sendMessage")
    with pytest.raises(ConnectionLost) as raised:
        await bot.send_message(USER, "lost")
    # Not a timeout, and not safe to repeat: Telegram may have carried it out.
    assert not isinstance(raised.value, TimedOut)
    assert isinstance(raised.value, SentUnconfirmed)
    await bot.send_message(USER, "arrives")  # the pool recovers
    assert [m.text for m in emu.bot_messages(USER)] == ["arrives"]


async def test_waiting_for_a_free_connection_times_out_before_sending(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.inject_slow_response("sendMessage", 1.0, times=2)
    busy = [
        asyncio.create_task(bot.send_message(USER, f"slow {i}", read_timeout=5.0)) for i in range(2)
    ]
    await emu.wait_for(lambda: len(emu.transcript) >= 2, timeout=5)
    with pytest.raises(TimedOut) as raised:
        # Both connections are taken for a second; this waits at most 0.2 s for one.
        await bot.send_message(USER, "queued", pool_timeout=0.1, connect_timeout=0.1)
    assert not isinstance(raised.value, ReplyTimedOut)  # safe to retry: never went out
    await asyncio.gather(*busy)
    # The two went out side by side, in either order; the queued one never did.
    assert sorted(m.text for m in emu.bot_messages(USER)) == ["slow 0", "slow 1"]


async def test_nobody_listening_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(1, connect_timeout=1.0)
    bot = Bot("123:ABC", base_url=f"http://127.0.0.1:{port}/bot", request=request)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await bot.send_message(USER, "nobody there")
        assert not isinstance(raised.value, SentUnconfirmed)  # refused: never went out
    finally:
        await request.shutdown()


async def test_a_request_needs_initialize_and_shutdown_closes_it(emu: BotApiEmulator) -> None:
    request = AiohttpRequest(1)
    bot = Bot(emu.token, base_url=emu.base_url, request=request)
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(emu.base_url + "/getMe", "POST")
    async with bot:
        assert (await bot.get_me()).is_bot
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(emu.base_url + "/getMe", "POST")


async def test_the_proxy_from_the_environment_is_used(
    emu: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nowhere = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("HTTP_PROXY", nowhere)  # the emulator speaks plain http
    monkeypatch.setenv("HTTPS_PROXY", nowhere)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(NetworkError, match=f"127.0.0.1:{port}"):
        async with Bot(emu.token, base_url=emu.base_url, request=AiohttpRequest(1)):
            pass  # getMe, on the way in, already goes to the proxy that is not there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with Bot(emu.token, base_url=emu.base_url, request=AiohttpRequest(1)) as direct:
        await direct.send_message(USER, "straight through")
    assert [m.text for m in emu.bot_messages(USER)] == ["straight through"]
