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
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

log = logging.getLogger(__name__)
MAX_PAUSE = 30.0  # seconds between tries while Telegram cannot be reached
CONFIRM_TIMEOUT = 3.0  # seconds the last offset confirmation may take when stopping


class TokenRejected(Exception):
    """Telegram refused the token (revoked, or replaced by @BotFather)."""


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Poller:
    """Fetches updates and hands them to `queue` (the application's update_queue)."""

    def __init__(
        self,
        bot: Bot,
        queue: asyncio.Queue[object],
        *,
        timeout: int,
        allowed_updates: Sequence[str],
        retry_pause: float = 1.0,
    ) -> None:
        self._bot = bot
        self._queue = queue
        self._timeout = timeout
        self._allowed = list(allowed_updates)
        self._retry_pause = retry_pause
        self._offset: int | None = None

    async def run(self) -> None:
        """Poll until cancelled; raises TokenRejected when Telegram refuses the token."""
        failures = 0
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
                pause = min(self._retry_pause * 2 ** (failures - 1), MAX_PAUSE)
                if failures == 1:
                    log.warning("polling Telegram failed: %s; retrying", _describe(exc))
                await asyncio.sleep(pause)
                continue
            if failures:
                log.info("polling Telegram works again after %d failed tries", failures)
                failures = 0
            for update in updates:
                await self._queue.put(update)
            if updates:
                # The next call's offset confirms these to Telegram.
                self._offset = updates[-1].update_id + 1

    async def confirm(self) -> None:
        """Tell Telegram the updates handed over are done with, so that a restart does not
        fetch them again (best effort: a stop must not wait long for it)."""
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
