"""Token-bucket flood control approximating Telegram's documented sending limits."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# Methods that deliver a new message to a chat; only these count against the limits
# (edits, answerCallbackQuery, chat actions and getUpdates do not).
SENDING_METHODS = frozenset(
    {"forwardMessage", "forwardMessages", "copyMessage", "copyMessages", "stopPoll"}
)


def is_sending_method(method: str) -> bool:
    """True for methods subject to flood control."""
    return (method.startswith("send") and method != "sendChatAction") or method in SENDING_METHODS


@dataclass(frozen=True)
class RateLimits:
    """Limits per second; `per_chat_burst` is how many messages a quiet chat may take at once."""

    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 20


class TokenBucket:
    """Classic token bucket: `capacity` tokens, refilled at `rate` per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def refill(self, now: float) -> None:
        """Add the tokens earned since the last refill."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class RateLimiter:
    """Global plus per-chat buckets; a call consumes a token from both or from neither."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.global_bucket = TokenBucket(
            max(1.0, limits.global_per_second), limits.global_per_second, clock()
        )
        self.chat_buckets: dict[int | str, TokenBucket] = {}

    def acquire(self, chat_id: int | str) -> int | None:
        """Take a token for a message to chat_id; return retry_after seconds if limited."""
        now = self.clock()
        chat = self.chat_buckets.get(chat_id)
        if chat is None:
            chat = TokenBucket(
                float(self.limits.per_chat_burst), self.limits.per_chat_per_second, now
            )
            self.chat_buckets[chat_id] = chat
        chat.refill(now)
        self.global_bucket.refill(now)
        wait = max(chat.wait_time(), self.global_bucket.wait_time())
        if wait > 0:
            return max(1, math.ceil(wait))  # Telegram reports whole seconds, never 0
        chat.tokens -= 1
        self.global_bucket.tokens -= 1
        return None
