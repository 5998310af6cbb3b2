"""The emulator's injected faults: slow responses and dropped connections (errors are in
test_server.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError

from bot.edge.transport import AiohttpRequest, ReplyTimedOut
from bot.emulator import BotApiEmulator
from bot.emulator.faults import DroppedConnection, FaultPlan, SlowResponse
from bot.emulator.models import ApiError
from bot.emulator.server import DROPPED
from tests.emulator.conftest import USER


@pytest.fixture
async def impatient_bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    """A bot on the bot's own HTTP client that waits at most 0.3 s for a response."""
    request = AiohttpRequest(1, read_timeout=0.3)
    async with Bot(emu.token, base_url=emu.base_url, request=request) as ptb_bot:
        yield ptb_bot


async def test_a_slow_response_times_out_the_client_but_the_call_took_effect(
    emu: BotApiEmulator, impatient_bot: Bot
) -> None:
    emu.inject_slow_response("sendMessage", 2.0)
    with pytest.raises(ReplyTimedOut):  # the client knows it may have taken effect
        await impatient_bot.send_message(USER, "late")
    assert [m.text for m in emu.bot_messages(USER)] == ["late"]
    assert [c.ok for c in emu.transcript if c.method == "sendMessage"] == [True]
    await impatient_bot.send_message(USER, "on time")  # one call only
    assert [m.text for m in emu.bot_messages(USER)] == ["late", "on time"]


async def test_a_slow_response_within_the_timeout_is_just_late(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.inject_slow_response("sendMessage", 0.2)
    message = await bot.send_message(USER, "slow")
    assert message.text == "slow"


async def test_a_connection_dropped_before_the_call_has_no_effect(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.inject_dropped_connection("sendMessage", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "lost")
    await bot.send_message(USER, "arrives")
    assert [m.text for m in emu.bot_messages(USER)] == ["arrives"]
    calls = [(c.ok, c.error_code, c.description) for c in emu.transcript]
    assert calls[-3:] == [(False, None, DROPPED), (False, None, DROPPED), (True, None, None)]
    assert emu.violations == []


async def test_a_connection_dropped_after_the_call_loses_only_the_response(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.inject_dropped_connection("sendMessage", after_effect=True)
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "delivered, unconfirmed")
    assert [m.text for m in emu.bot_messages(USER)] == ["delivered, unconfirmed"]
    assert emu.transcript[-1].ok


def test_the_fault_plan_is_per_method_and_in_order() -> None:
    plan = FaultPlan()
    plan.add("sendMessage", SlowResponse(1.0))
    plan.add("sendMessage", DroppedConnection(), times=2)
    error = ApiError(500, "Internal Server Error")
    plan.add("getMe", error)
    assert plan.pending("sendMessage") == 3
    assert plan.take("sendMessage") == SlowResponse(1.0)
    assert plan.take("sendMessage") == DroppedConnection()
    assert plan.take("getMe") is error
    assert plan.take("getMe") is None
    assert plan.pending("sendMessage") == 1
    with pytest.raises(ValueError, match="at least 1"):
        plan.add("getMe", error, times=0)


def test_faults_are_only_injected_into_real_methods(emu: BotApiEmulator) -> None:
    with pytest.raises(ValueError, match="not a Bot API method"):
        emu.inject_slow_response("sendmessage", 1.0)
    with pytest.raises(ValueError, match="not a Bot API method"):
        emu.inject_dropped_connection("sendMsg")
