"""Our getUpdates loop: a batch is confirmed to Telegram only once it is stored."""

from __future__ import annotations

import asyncio
import contextlib

from telegram import Bot, Update

from bot.edge.polling import Poller
from bot.emulator import BotApiEmulator
from tests.support.inbox import refusing_first


async def test_a_batch_the_database_refuses_is_still_handled_once(
    emu: BotApiEmulator, bot: Bot
) -> None:
    queue: asyncio.Queue[object] = asyncio.Queue()
    tries: list[list[int]] = []

    accept = refusing_first(tries)
    poller = Poller(bot, queue, accept, timeout=1, allowed_updates=["message"], retry_pause=0.01)
    polling = asyncio.create_task(poller.run())
    try:
        first = await asyncio.wait_for(queue.get(), timeout=10)
        assert isinstance(first, Update) and first.message is not None
        assert first.message.text == "hello"
        # Its handler meets the same refusal and asks the patient to try again; the patient
        # resends, so it is confirmed and not handled a second time.
        await emu.wait_for(lambda: emu.confirmed(first.update_id), timeout=10)
        emu.send_text(42, "again")
        second = await asyncio.wait_for(queue.get(), timeout=10)
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
    assert isinstance(second, Update) and second.message is not None
    assert second.message.text == "again"
    assert tries == [[first.update_id], [second.update_id]]
