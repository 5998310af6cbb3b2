"""Updates of different chats are handled side by side; each chat's strictly in order.

PTB's default handles one update at a time, so one patient's database waits and Bot API
round trips hold up everyone else. PTB's concurrent mode alone would reorder a patient's
own updates (a double tap could be handled twice against the same step). Here each update
waits for the previous update of its chat, so a chat sees exactly the sequential behaviour.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates in flight at once (PTB's semaphore). Each waiting update is a task; getUpdates
# brings at most 100 at a time, so this is never the limit in practice.
MAX_IN_FLIGHT = 1024


def lane(update: object) -> int | None:
    """The chat whose order an update belongs to (the user's, if it has no chat)."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None  # not from a chat: one lane of its own, in order too


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within a chat, in arrival order."""

    def __init__(self, max_concurrent_updates: int = MAX_IN_FLIGHT) -> None:
        super().__init__(max_concurrent_updates)
        self._tails: dict[int | None, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's previous update to finish, then handle this one.

        PTB starts one task per update in the order getUpdates returned them, and they reach
        this point in that order (the semaphore is FIFO); the chat's queue position is taken
        before the first await.
        """
        key = lane(update)
        previous = self._tails.get(key)
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = finished
        try:
            if previous is not None:
                try:
                    await asyncio.shield(previous)
                except BaseException:
                    if inspect.iscoroutine(coroutine):
                        coroutine.close()  # cancelled while waiting: never to run
                    raise
            await coroutine
        finally:
            finished.set_result(None)
            if self._tails.get(key) is finished:
                del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for the updates in flight before this."""
