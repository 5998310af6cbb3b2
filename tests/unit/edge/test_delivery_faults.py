"""deliver() when Telegram fails part of an outcome: the rest still goes out, once."""

from __future__ import annotations

from typing import Any, cast

import pytest
from telegram import Bot, CallbackQuery
from telegram.error import NetworkError, TimedOut

from bot.edge import delivery
from bot.edge.delivery import deliver
from bot.edge.transport import ConnectionLost, ReplyTimedOut
from bot.vocabulary.outgoing import Outcome, Reply


class FakeBot:
    """Sends; the first `lost` sends arrive but their connection breaks before the answer."""

    def __init__(self, lost: int = 0) -> None:
        self.sent: list[str] = []
        self.lost = lost

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        self.sent.append(text)
        if self.lost:
            self.lost -= 1
            raise ConnectionLost("aiohttp.ServerDisconnectedError: Server disconnected")


class FakeQuery:
    """A button press whose edit fails with `edit_error`; answering fails `answer_failures`
    times with a dropped connection first."""

    def __init__(self, edit_error: Exception, answer_failures: int = 0) -> None:
        self.message = object()
        self.edit_error = edit_error
        self.edits = 0
        self.answer_failures = answer_failures
        self.answers: list[str | None] = []

    async def edit_message_text(self, text: str, **_: Any) -> None:
        self.edits += 1
        raise self.edit_error

    async def answer(self, text: str | None = None) -> None:
        if self.answer_failures:
            self.answer_failures -= 1
            raise ConnectionLost("aiohttp.ServerDisconnectedError: Server disconnected")
        self.answers.append(text)


OUTCOME = Outcome(edit=Reply("answered"), replies=[Reply("next question")], toast="ok")


async def test_a_timed_out_edit_does_not_stop_the_next_question() -> None:
    bot, query = FakeBot(), FakeQuery(ReplyTimedOut())
    await deliver(cast(Bot, bot), 1, OUTCOME, cast(CallbackQuery, query))
    assert query.edits == 1  # not retried: it may have happened
    assert bot.sent == ["next question"]
    assert query.answers == ["ok"]


async def test_a_call_that_timed_out_before_it_was_sent_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    bot, query = FakeBot(), FakeQuery(TimedOut("no connection in time"))
    await deliver(cast(Bot, bot), 1, OUTCOME, cast(CallbackQuery, query))
    assert query.edits == 4  # nothing reached Telegram, so trying again cannot repeat it
    assert bot.sent == ["next question"]
    assert query.answers == ["ok"]


async def test_an_answer_lost_to_a_dropped_connection_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    bot, query = FakeBot(), FakeQuery(NetworkError("Bad Gateway"), answer_failures=1)
    await deliver(cast(Bot, bot), 1, OUTCOME, cast(CallbackQuery, query))
    assert query.edits == 4  # the edit is retried, then given up: it only marks the answer
    assert bot.sent == ["next question"]
    assert query.answers == ["ok"]


async def test_a_reply_whose_connection_broke_after_sending_is_not_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    bot, query = FakeBot(lost=1), FakeQuery(NetworkError("Bad Gateway"))
    outcome = Outcome(replies=[Reply("your guide"), Reply("what to expect")], toast="ok")
    await deliver(cast(Bot, bot), 1, outcome, cast(CallbackQuery, query))
    # The first may have arrived: never shown twice, and the rest still goes out.
    assert bot.sent == ["your guide", "what to expect"]
    assert query.answers == ["ok"]
