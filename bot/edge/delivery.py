"""Sending what the domain produced: replies, edits, button answers, notifications.

Telegram errors never escape: 429 is retried by the rate limiter, transient server and
network errors are retried here with back-off, and the rest are logged without content.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.edge.transport import SentUnconfirmed
from bot.vocabulary.outgoing import Keyboard, Notification, Outcome, Relayed, Reply

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_DELAYS = (0.5, 1.0, 2.0)


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    """The inline keyboard for a reply, or None when it has no buttons."""
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in keyboard]
    )


async def with_retries(call: Callable[[], Awaitable[T]], *, repeatable: bool = False) -> T:
    """Run a Bot API call, retrying server and connection errors with back-off.

    A call that went out and got no answer (timed out, or the connection broke) is retried
    only when `repeatable` (answering a press: a second answer is refused, never shown):
    Telegram may have carried it out, and a patient should never get the same message
    twice. One that never left (no connection) is always retried.
    """
    for delay in RETRY_DELAYS:
        try:
            return await call()
        except (BadRequest, Forbidden, RetryAfter):
            raise
        except SentUnconfirmed:
            if not repeatable:
                raise
            await asyncio.sleep(delay)
        except NetworkError:
            await asyncio.sleep(delay)
    return await call()


async def send_once(bot: Bot, chat_id: int, reply: Reply) -> Message:
    """Send one reply as an HTML message, once (the outbox dispatcher retries its own)."""
    return await bot.send_message(
        chat_id, reply.html, parse_mode=ParseMode.HTML, reply_markup=markup(reply.keyboard)
    )


async def send(bot: Bot, chat_id: int, reply: Reply) -> None:
    """Send one reply as an HTML message, retried while it surely did not go out."""
    await with_retries(lambda: send_once(bot, chat_id, reply))


async def _edit(query: CallbackQuery, reply: Reply) -> None:
    try:
        await with_retries(
            lambda: query.edit_message_text(
                reply.html, parse_mode=ParseMode.HTML, reply_markup=markup(reply.keyboard)
            )
        )
    except BadRequest as exc:
        # A double tap can ask for the same edit twice; anything else is worth a log line.
        if "not modified" not in exc.message:
            log.warning("could not edit message: %s", exc.message)
    except NetworkError as exc:
        # The edit only marks the answered question; the next question must still go out.
        log.warning("could not edit message: %s", type(exc).__name__)


# Practitioners already reported unreachable by this process, and refusals already logged:
# the log says each once (the start-up line names those who have not started the bot).
_unreachable_reported: set[int] = set()
_refusals_reported: set[tuple[int, str]] = set()
# Completed intakes whose first notices this process is sending now: the resend loop leaves
# them alone, or a practitioner told during a slow first delivery would be told twice.
_notifying: set[int] = set()


def being_notified(intake_id: int) -> bool:
    """Whether the first notices of this intake are on their way now."""
    return intake_id in _notifying


def reported_unreachable(chat_ids: list[int]) -> None:
    """These practitioners were named as unreachable already: no line per notification."""
    _unreachable_reported.update(chat_ids)


def unreachable(exc: TelegramError) -> bool:
    """Whether Telegram says the chat cannot be written to at all: the user blocked the bot
    (403) or never started it ("chat not found"). Any other refusal may pass."""
    return isinstance(exc, Forbidden) or (
        isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()
    )


async def notify(bot: Bot, notes: list[Notification]) -> list[int]:
    """Send practitioner notifications; returns the chats that surely have theirs (sent, or
    unreachable: nothing to retry until they start the bot). The others are worth a retry."""
    done: list[int] = []
    for note in notes:
        try:
            await send(bot, note.chat_id, note.reply)
        except (BadRequest, Forbidden) as exc:
            if unreachable(exc):
                # Nothing to retry until they start the bot (or unblock it).
                if note.chat_id not in _unreachable_reported:
                    _unreachable_reported.add(note.chat_id)
                    log.warning("practitioner %s not reachable: %s", note.chat_id, exc.message)
                done.append(note.chat_id)
                continue
            if (note.chat_id, exc.message) not in _refusals_reported:
                _refusals_reported.add((note.chat_id, exc.message))
                log.warning(
                    "Telegram refused a notification to %s: %s; it will be sent again",
                    note.chat_id,
                    exc.message,
                )
        except TelegramError as exc:
            log.warning("notification to %s failed: %s", note.chat_id, type(exc).__name__)
        else:
            done.append(note.chat_id)
    return done


async def relay(bot: Bot, chat_id: int, reply: Reply) -> Relayed:
    """Send a message of a conversation to the other side's chat: whether it arrived."""
    try:
        await send(bot, chat_id, reply)
    except SentUnconfirmed:
        return Relayed.DELIVERED  # most likely; sending it again could show it twice
    except (BadRequest, Forbidden) as exc:
        if unreachable(exc):
            return Relayed.UNREACHABLE
        log.warning("Telegram refused a conversation message: %s", exc.message)
        return Relayed.FAILED
    except TelegramError as exc:
        log.warning("a conversation message was not sent: %s", type(exc).__name__)
        return Relayed.FAILED
    return Relayed.DELIVERED


async def deliver(
    bot: Bot,
    chat_id: int,
    outcome: Outcome,
    query: CallbackQuery | None = None,
    on_notified: Callable[[int, list[int]], Awaitable[None]] | None = None,
    on_guided: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Send an outcome: edit the pressed button's message, notify the practitioners,
    reply, and answer the press. `on_notified` records which practitioners received the
    notices of a completed intake, `on_guided` that its thank-you and guide went out.

    Practitioners come before the patient's (longer) replies, so a failure there cannot
    cost them the news; the press is answered last, so the button shows as busy until the
    next question is there (and is answered even when sending failed).
    """
    try:
        if query is not None and outcome.edit is not None and query.message is not None:
            await _edit(query, outcome.edit)
        if outcome.notifications:
            intake_id = outcome.notified_intake
            if intake_id is None or on_notified is None:
                await notify(bot, outcome.notifications)
            else:
                _notifying.add(intake_id)
                try:
                    await on_notified(intake_id, await notify(bot, outcome.notifications))
                finally:
                    _notifying.discard(intake_id)
        for reply in outcome.replies:
            try:
                await send(bot, chat_id, reply)
            except SentUnconfirmed as exc:
                # Most likely delivered; the replies after it still go out.
                log.warning("a reply may not have arrived: %s", type(exc).__name__)
        if outcome.guided_intake is not None and on_guided is not None:
            await on_guided(outcome.guided_intake)
        for photo in outcome.photos:
            await with_retries(
                lambda photo=photo: bot.send_photo(  # type: ignore[misc]
                    chat_id,
                    InputFile(photo.data, filename="chart.png"),
                    caption=photo.caption,
                    parse_mode=ParseMode.HTML,
                )
            )
        for document in outcome.documents:
            await with_retries(
                lambda document=document: bot.send_document(  # type: ignore[misc]
                    chat_id,
                    InputFile(document.data, filename=document.filename),
                    caption=document.caption,
                    parse_mode=ParseMode.HTML,
                )
            )
    finally:
        if query is not None:
            try:
                # Answering twice is refused, never shown twice: safe to retry.
                await with_retries(lambda: query.answer(outcome.toast), repeatable=True)
            except BadRequest as exc:
                log.info("button answer not accepted: %s", exc.message)
