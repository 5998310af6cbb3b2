"""PerChatUpdateProcessor: chats side by side, each chat's updates strictly in order."""

from __future__ import annotations

import asyncio

from telegram import Chat, Update, User
from telegram import Message as TgMessage

from bot.updates import ACTIVE_FOR, PerChatUpdateProcessor


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "Pat", is_bot=False)
    message = TgMessage(update_id, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


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
