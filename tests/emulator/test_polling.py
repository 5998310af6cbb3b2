"""Our getUpdates loop: a batch is confirmed to Telegram only once it is stored."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Sequence

from telegram import Bot, Update

from bot.emulator import BotApiEmulator
from bot.polling import Poller


async def test_a_batch_the_database_refuses_is_fetched_again_not_confirmed(
    emu: BotApiEmulator, bot: Bot
) -> None:
    queue: asyncio.Queue[object] = asyncio.Queue()
    tries: list[list[int]] = []

    async def accept(updates: Sequence[Update]) -> list[Update]:
        tries.append([u.update_id for u in updates])
        if len(tries) == 1:
            raise sqlite3.OperationalError("database or disk is full")
        return list(updates)

    poller = Poller(bot, queue, accept, timeout=1, allowed_updates=["message"], retry_pause=0.01)
    polling = asyncio.create_task(poller.run())
    try:
        first = await asyncio.wait_for(queue.get(), timeout=10)
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
    assert isinstance(first, Update) and first.message is not None
    assert first.message.text == "hello"
    # Refused once, so not confirmed: Telegram sent the same update again.
    assert tries[0] == tries[1] == [first.update_id]
    gets = [c for c in emu.transcript if c.method == "getUpdates"]
    assert gets[1].params.get("offset") == gets[0].params.get("offset")
