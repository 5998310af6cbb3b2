"""Updates of different chats are handled side by side; each chat's strictly in order.

PTB's default handles one update at a time, so one patient's database waits and Bot API
round trips hold up everyone else. PTB's concurrent mode alone would reorder a patient's
own updates (a double tap could be handled twice against the same step). Here each update
waits for the previous update of its chat, so a chat sees exactly the sequential behaviour.

A chat that sends faster than the bot can answer it (a script, a stuck key) would still take
the update slots and the message budget that other patients need: while FLOOD_BACKLOG of
its updates wait, any more are dropped, and it is told once to slow down.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates in flight at once (PTB's semaphore). Each waiting update is a task; getUpdates
# brings at most 100 at a time, so this is never the limit in practice.
MAX_IN_FLIGHT = 1024
# A conversation counts as going on this long after the bot last handled an update: patients
# answer within seconds, and their next answer must not wait behind a burst of reminders.
ACTIVE_FOR = 5.0
# A chat with this many updates waiting (or being handled) is sending faster than the bot
# can answer it: a person waits for the reply, a script or a stuck key does not.
FLOOD_BACKLOG = 8

Finished = Callable[[object, str], Awaitable[None]]
Flooded = Callable[[object, bool], Awaitable[None]]


def lane(update: object) -> int | None:
    """The chat whose order an update belongs to (the user's, if it has no chat)."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None  # not from a chat: one lane of its own, in order too


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within a chat, in arrival order.

    `finished(update, outcome)` is awaited once an update was handled ("handled") or
    dropped ("dropped"): the inbox forgets it then. `flooded(update, warn)` is awaited
    for each dropped update, `warn` True when the chat is to be told to slow down.
    """

    def __init__(
        self,
        max_concurrent_updates: int = MAX_IN_FLIGHT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._tails: dict[int | None, asyncio.Future[None]] = {}
        self._clock = clock
        self._last_done = float("-inf")
        self._waiting: dict[int | None, int] = {}
        self._warned: set[int | None] = set()  # told to slow down since their lane was empty
        self.finished: Finished | None = None
        self.flooded: Flooded | None = None

    def conversations_active(self) -> bool:
        """True while updates are being handled or one was within the last ACTIVE_FOR s."""
        return bool(self._tails) or self._clock() - self._last_done < ACTIVE_FOR

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's previous update to finish, then handle this one.

        PTB starts one task per update in the order getUpdates returned them, and they reach
        this point in that order (the semaphore is FIFO); the chat's queue position is taken
        before the first await.
        """
        key = lane(update)
        if key is not None and self._waiting.get(key, 0) >= FLOOD_BACKLOG:
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            warn = key not in self._warned
            self._warned.add(key)
            await self._drop(update, warn=warn)
            return
        self._waiting[key] = self._waiting.get(key, 0) + 1
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
            if self.finished is not None:
                await self.finished(update, "handled")
        finally:
            self._last_done = self._clock()
            finished.set_result(None)
            if self._tails.get(key) is finished:
                del self._tails[key]
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                self._warned.discard(key)

    async def _drop(self, update: object, *, warn: bool) -> None:
        try:
            if self.flooded is not None:
                await self.flooded(update, warn)
        finally:
            if self.finished is not None:
                await self.finished(update, "dropped")

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for the updates in flight before this."""
