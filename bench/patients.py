"""Simulated patients and the latency tracker, driven by the emulator's hooks.

The tracker is told by the emulator when each update is queued (World.update_listeners) and
when the bot makes each call (BotApiEmulator.call_listeners). A patient acts when the bot has
finished answering their last update: the button press answered (the bot does that last), or
for a text message the first message sent back. Nothing polls.
"""

from __future__ import annotations

import asyncio
import functools
import random
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.baseline import STEPS
from bot.emulator.models import ApiCall, JsonDict
from bot.emulator.server import BotApiEmulator

ACTION_TIMEOUT = 120.0  # seconds; only a hung bot gets near it
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "answerCallbackQuery", "sendDocument"})


@dataclass
class Sample:
    """One update of a simulated patient: when it was queued, first answered, finished."""

    chat_id: int
    queued: float
    query_id: str | None
    first_reply: float | None = None
    done: float | None = None
    finished: asyncio.Future[None] = field(default_factory=asyncio.Future)


class Tracker:
    """Times every update of the tracked chats from the emulator's own clock readings."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.samples: list[Sample] = []
        self.errors: list[ApiCall] = []
        self.tracked: set[int] = set()
        self.latest: dict[int, Sample] = {}
        self._open: dict[int, Sample] = {}
        emulator.world.update_listeners.append(self._queued)
        emulator.call_listeners.append(self._called)

    def _queued(self, update: JsonDict, queued_at: float) -> None:
        query = update.get("callback_query")
        message = update.get("message")
        if query is not None:
            chat_id, query_id = int(query["from"]["id"]), str(query["id"])
        elif message is not None:
            chat_id, query_id = int(message["chat"]["id"]), None
        else:
            return
        if chat_id in self.tracked:
            sample = Sample(chat_id, queued_at, query_id)
            self._open[chat_id] = self.latest[chat_id] = sample
            self.samples.append(sample)

    def _called(self, call: ApiCall) -> None:
        if not call.ok:
            self.errors.append(call)
            return
        if call.method not in REPLY_METHODS:
            return
        query_id = call.params.get("callback_query_id")
        if call.method == "answerCallbackQuery":
            chat_id = self.emulator.world.callback_queries[str(query_id)].user_id
        else:
            chat_id = call.params.get("chat_id")  # type: ignore[assignment]
        sample = self._open.get(chat_id) if isinstance(chat_id, int) else None
        if sample is None:
            return
        if sample.first_reply is None:
            sample.first_reply = call.time
        finished = (
            call.method == "answerCallbackQuery" and query_id == sample.query_id
            if sample.query_id is not None
            else call.method == "sendMessage"
        )
        if finished:
            sample.done = call.time
            del self._open[sample.chat_id]
            sample.finished.set_result(None)

    def summary(self, chats: set[int]) -> dict[str, float]:
        """Throughput and latency over the samples of these chats."""
        mine = [s for s in self.samples if s.chat_id in chats]
        first, done, ends = [], [], []
        for s in mine:
            assert s.first_reply is not None and s.done is not None
            first.append(1000 * (s.first_reply - s.queued))
            done.append(1000 * (s.done - s.queued))
            ends.append(s.done)
        elapsed = max(ends) - min(s.queued for s in mine)
        return {
            "updates": len(mine),
            "seconds": round(elapsed, 2),
            "updates_per_second": round(len(mine) / elapsed, 1),
            "p50_ms": percentile(first, 50),
            "p99_ms": percentile(first, 99),
            "max_ms": round(max(first), 1),
            "answered_p50_ms": percentile(done, 50),
            "answered_p99_ms": percentile(done, 99),
        }


def percentile(values: list[float], pct: int) -> float:
    """The pct-th percentile (inclusive method), in the values' unit, rounded to 0.1."""
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 1)


class Patient:
    """A simulated Telegram user who taps buttons as soon as (or a while after) the bot
    has answered."""

    def __init__(
        self,
        tracker: Tracker,
        user_id: int,
        rng: random.Random,
        *,
        think: float = 0.0,
    ) -> None:
        self.tracker, self.emu, self.id = tracker, tracker.emulator, user_id
        self.rng = rng
        self.think = think  # the longest pause before each action (open loop), seconds
        self.emu.add_user(user_id, f"P{user_id}", language_code="en")
        tracker.tracked.add(user_id)

    async def _act(self, action: Callable[[], object]) -> None:
        if self.think:
            await asyncio.sleep(self.rng.uniform(0, self.think))
        action()
        sample = self.tracker.latest[self.id]
        await asyncio.wait_for(asyncio.shield(sample.finished), ACTION_TIMEOUT)

    async def send(self, text: str) -> None:
        """Send a text message and wait for the bot's answer."""
        await self._act(lambda: self.emu.send_text(self.id, text))

    async def tap(self, label: str) -> None:
        """Tap the newest button with this label and wait until the press is answered."""
        for message in reversed(self.emu.bot_messages(self.id)):
            for row in message.buttons:
                for button in row:
                    if button.text.removeprefix("✅ ") == label and button.callback_data:
                        press = functools.partial(
                            self.emu.press_button, self.id, message.message_id, button.callback_data
                        )
                        await self._act(press)
                        return
        last = self.emu.bot_messages(self.id)[-1:]
        raise AssertionError(f"patient {self.id}: no button {label!r}; last message: {last}")


AREAS = ("Neck & shoulders", "Lower back & hips", "Upper back", "Arms", "Legs & calves")
SAFETY_QUESTIONS = 19  # six red flags, thirteen screening questions
ASHI_UPDATES = 11 + SAFETY_QUESTIONS


async def ashi_intake(p: Patient) -> None:
    """A full intake: consent, one area, cause, pain, duration, tender spot, 19 x No, no
    activities, no notes, confirm. 30 updates."""
    await p.send("/start")
    await p.tap("I agree")
    await p.tap(p.rng.choice(AREAS))
    await p.tap("Done")
    await p.tap("Long sitting or desk work")
    await p.tap(str(p.rng.randint(2, 9)))
    await p.tap("More than 12 weeks")
    await p.tap("Yes")
    for _ in range(SAFETY_QUESTIONS):
        await p.tap("No")
    await p.tap("Skip")  # the activities
    await p.tap("Skip")  # the notes
    await p.tap("Confirm")


async def baseline_conversation(p: Patient) -> None:
    """/start and three button presses. 4 updates."""
    await p.send("/start")
    for _, answers in STEPS:
        await p.tap(p.rng.choice(answers))


Flow = Callable[[Patient], Awaitable[None]]
