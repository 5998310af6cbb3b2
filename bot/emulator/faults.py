"""Injected faults: what the emulator does instead of (or besides) answering a call.

Each fault applies to one call of one method; `FaultPlan` keeps them in order per method.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from bot.emulator.models import ApiError


@dataclass(frozen=True)
class SlowResponse:
    """The call takes effect at once, but its response is held back for `seconds`: a client
    with a shorter read timeout gives up on a call that did happen."""

    seconds: float


@dataclass(frozen=True)
class DroppedConnection:
    """The connection is closed without any response, once the request has arrived.

    `after_effect` False: "Telegram" discards the request (nothing happens).
    `after_effect` True: the call took effect and only its response was lost.
    To the client both look the same: a connection lost after the request went out.
    """

    after_effect: bool = False


@dataclass(frozen=True, eq=False)
class HeldCall:
    """The call waits, before it takes effect, until the test releases it: a window in
    which to kill the bot. A client that goes away meanwhile leaves it undone."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        """Let the call go on and take effect."""
        self.released.set()


Fault = ApiError | SlowResponse | DroppedConnection | HeldCall


class FaultPlan:
    """Faults queued per Bot API method, each consumed by the next valid call (of one chat,
    when the fault names one)."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[tuple[object, Fault]]] = {}

    def add(self, method: str, fault: Fault, times: int = 1, chat_id: object = None) -> None:
        """Apply `fault` to the next `times` calls of `method` (after those already queued),
        only to calls for `chat_id` when it is given."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        queue = self._queues.setdefault(method, deque())
        queue.extend([(chat_id, fault)] * times)

    def take(self, method: str, chat_id: object = None) -> Fault | None:
        """The fault for this call of `method` (to `chat_id`), if one is queued."""
        queue = self._queues.get(method)
        if not queue:
            return None
        for entry in queue:
            target, fault = entry
            if target is None or target == chat_id:
                queue.remove(entry)
                return fault
        return None

    def pending(self, method: str) -> int:
        """How many faults are still queued for `method`."""
        return len(self._queues.get(method, ()))
