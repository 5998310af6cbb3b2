"""Long polling of our own: getUpdates in a loop, feeding the application's update queue.

Instead of PTB's Updater, whose retry loop prints a traceback and then stops polling for
good when Telegram rejects the token (the process would live on, deaf), and which cannot be
told apart from a healthy one from outside. Here a rejected token ends the loop with
TokenRejected, network trouble is one log line per outage, and stopping is immediate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from storage import DATABASE_ERRORS, describe

log = logging.getLogger(__name__)
MAX_PAUSE = 30.0  # seconds between tries while Telegram cannot be reached
CONFIRM_TIMEOUT = 3.0  # seconds the last offset confirmation may take when stopping


class TokenRejected(Exception):
    """Telegram refused the token (revoked, or replaced by @BotFather)."""


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Poller:
    """Fetches updates, has `accept` store them (it returns those not seen before), and
    hands those to `queue` (the application's update_queue).

    A batch is confirmed to Telegram (by the next call's offset) only once it is stored.
    While the database refuses, updates are handled unstored (their handlers cannot store
    anything either, and tell the patient to try again).
    """

    def __init__(
        self,
        bot: Bot,
        queue: asyncio.Queue[object],
        accept: Callable[[Sequence[Update]], Awaitable[list[Update]]],
        *,
        timeout: int,
        allowed_updates: Sequence[str],
        retry_pause: float = 1.0,
    ) -> None:
        self._bot = bot
        self._queue = queue
        self._accept = accept
        self._timeout = timeout
        self._allowed = list(allowed_updates)
        self._retry_pause = retry_pause
        self._offset: int | None = None

    async def run(self) -> None:
        """Poll until cancelled; raises TokenRejected when Telegram refuses the token."""
        failures = refusals = 0
        webhook_checked = False
        while True:
            try:
                if not webhook_checked:
                    # getUpdates is refused while a webhook is set.
                    await self._bot.delete_webhook()
                    webhook_checked = True
                updates: Sequence[Update] = await self._bot.get_updates(
                    offset=self._offset, timeout=self._timeout, allowed_updates=self._allowed
                )
            except InvalidToken as exc:
                raise TokenRejected from exc
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except (NetworkError, Conflict) as exc:
                failures += 1
                if failures == 1:
                    log.warning("polling Telegram failed: %s; retrying", _describe(exc))
                await asyncio.sleep(self._pause(failures))
                continue
            if failures:
                log.info("polling Telegram works again after %d failed tries", failures)
                failures = 0
            if not updates:
                continue
            try:
                fresh = await self._accept(updates)
                refusals = 0
            except DATABASE_ERRORS as exc:
                # Handled all the same: each handler meets the same refusal and asks the
                # patient to try again, which beats silence until the database is back.
                refusals += 1
                if refusals == 1:
                    log.error("updates cannot be stored: %s; handling them unstored", describe(exc))
                fresh = list(updates)
            for update in fresh:
                await self._queue.put(update)
            # The next call's offset confirms these to Telegram.
            self._offset = updates[-1].update_id + 1

    def _pause(self, tries: int) -> float:
        return min(self._retry_pause * 2.0 ** (tries - 1), MAX_PAUSE)

    async def confirm(self) -> None:
        """Tell Telegram the updates fetched are stored, so that a restart does not fetch
        them again (best effort: one fetched again is recognised and skipped)."""
        if self._offset is None:
            return
        with contextlib.suppress(TelegramError, TimeoutError):
            await asyncio.wait_for(
                self._bot.get_updates(
                    offset=self._offset, timeout=0, allowed_updates=self._allowed
                ),
                CONFIRM_TIMEOUT,
            )


def _describe(exc: TelegramError) -> str:
    if isinstance(exc, Conflict):
        return "another process is polling with this token, or a webhook is set"
    return exc.message
