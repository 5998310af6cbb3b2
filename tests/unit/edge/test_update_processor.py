"""PerChatUpdateProcessor: chats side by side, each chat's updates strictly in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from telegram import Update

from bot.edge.updates import ACTIVE_FOR, FLOOD_BACKLOG, PerChatUpdateProcessor
from tests.support.updates import update


async def settled(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Let the other tasks run until `condition` holds (fails after `within` seconds)."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0)


async def test_one_chat_in_order_and_other_chats_alongside() -> None:
    processor = PerChatUpdateProcessor()
    log: list[tuple[str, int, int]] = []
    release = asyncio.Event()

    async def handle(update_id: int, chat_id: int, delay: float) -> None:
        log.append(("start", chat_id, update_id))
        if update_id == 1:
            await release.wait()  # the first update of chat 10 is slow
        await asyncio.sleep(delay)
        log.append(("end", chat_id, update_id))

    plan = [(1, 10, 0.0), (2, 10, 0.0), (3, 20, 0.0), (4, 10, 0.0), (5, 20, 0.0)]
    tasks = [
        asyncio.create_task(processor.process_update(update(u, c), handle(u, c, d)))
        for u, c, d in plan
    ]
    await asyncio.sleep(0.05)
    # Chat 20 was not held up by chat 10's slow update; chat 10's next ones wait for it.
    assert ("end", 20, 3) in log and ("end", 20, 5) in log
    assert ("start", 10, 2) not in log
    release.set()
    await asyncio.gather(*tasks)
    chat10 = [(kind, u) for kind, c, u in log if c == 10]
    assert chat10 == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 4), ("end", 4)]


async def test_conversations_count_as_active_while_handled_and_shortly_after() -> None:
    now = [100.0]
    processor = PerChatUpdateProcessor(clock=lambda: now[0])
    assert not processor.conversations_active()  # nobody has written yet
    release = asyncio.Event()
    task = asyncio.create_task(processor.process_update(update(1, 10), release.wait()))
    await asyncio.sleep(0)
    now[0] += 60.0
    assert processor.conversations_active()  # a slow update is still being handled
    release.set()
    await task
    now[0] += ACTIVE_FOR - 0.1
    assert processor.conversations_active()
    now[0] += 0.2
    assert not processor.conversations_active()


async def test_a_flooding_chat_has_its_excess_dropped_and_is_told_once() -> None:
    processor = PerChatUpdateProcessor()
    done: list[tuple[int, str]] = []
    told: list[tuple[int, bool]] = []

    async def finished(update: object, outcome: str) -> None:
        assert isinstance(update, Update)
        done.append((update.update_id, outcome))

    async def flooded(update: object, warn: bool) -> None:
        assert isinstance(update, Update)
        told.append((update.update_id, warn))

    processor.finished, processor.flooded = finished, flooded
    release = asyncio.Event()
    handled: list[int] = []

    async def handle(update_id: int) -> None:
        await release.wait()  # the bot cannot keep up with this chat
        handled.append(update_id)

    flood = [
        asyncio.create_task(processor.process_update(update(u, 10), handle(u)))
        for u in range(1, 21)
    ]
    # Another patient is answered at once, however many of chat 10's updates wait.
    other: list[int] = []

    async def answer_other() -> None:
        other.append(99)

    dropped = list(range(FLOOD_BACKLOG + 1, 21))
    await settled(lambda: len(told) == len(dropped))
    await processor.process_update(update(99, 20), answer_other())
    assert other == [99]
    assert told == [(dropped[0], True)] + [(u, False) for u in dropped[1:]]
    release.set()
    await asyncio.gather(*flood)
    assert handled == list(range(1, FLOOD_BACKLOG + 1))  # in order, none lost among them
    assert sorted(u for u, outcome in done if outcome == "dropped") == dropped
    assert sorted(u for u, outcome in done if outcome == "handled") == [
        *range(1, FLOOD_BACKLOG + 1),
        99,
    ]
    # Once the chat's backlog is gone, it is served again (and would be told again).
    await processor.process_update(update(21, 10), handle(21))
    assert handled[-1] == 21
