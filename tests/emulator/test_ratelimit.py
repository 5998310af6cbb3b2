"""Token buckets with a fake clock."""

from __future__ import annotations

from bot.emulator.ratelimit import RateLimiter, RateLimits, is_sending_method


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_per_chat_burst_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(per_chat_burst=2, per_chat_per_second=1.0), clock)
    assert limiter.acquire(1) is None
    assert limiter.acquire(1) is None
    assert limiter.acquire(1) == 1
    assert limiter.acquire(2) is None  # other chats have their own bucket
    clock.now += 1.0
    assert limiter.acquire(1) is None
    assert limiter.acquire(1) == 1


def test_global_limit_spans_chats() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(global_per_second=3.0), clock)
    assert [limiter.acquire(chat) for chat in range(4)] == [None, None, None, 1]
    clock.now += 0.34
    assert limiter.acquire(9) is None


def test_only_sending_methods_count() -> None:
    assert is_sending_method("sendMessage")
    assert is_sending_method("sendDocument")
    assert is_sending_method("copyMessage")
    assert not is_sending_method("sendChatAction")
    assert not is_sending_method("editMessageText")
    assert not is_sending_method("answerCallbackQuery")
    assert not is_sending_method("getUpdates")
