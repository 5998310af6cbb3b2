"""The outbox dispatcher: sends scheduled messages when due, exactly once as far as the
Bot API allows, within Telegram's rate limits, and records every outcome.

Rows are claimed (committed as 'sending') before they are sent and finished right after,
so a crash leaves them visible; on start they are sent again (see release_interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.handlers.delivery import markup, notify
from bot.scheduling.checkins import CheckIns
from bot.scheduling.decide import End, Hold, decide
from bot.scheduling.plan import MessageKind, QuietHours, fresh_intake_since
from storage import DueMessage, Storage, utc_now

log = logging.getLogger(__name__)
PER_CHAT_INTERVAL = 1.0  # Telegram: about one message per second in one chat
BATCH = 60
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """How long to wait before trying again after `attempts` failures."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 600))


class Dispatcher:
    """Wakes at the next due time (or when told), claims due rows and sends them."""

    def __init__(
        self,
        storage: Storage,
        checkins: CheckIns,
        bot: Bot,
        *,
        quiet: QuietHours | None,
        timezone: ZoneInfo,
        clock: Callable[[], datetime] = utc_now,
        idle: float = 1.0,
    ) -> None:
        self._storage = storage
        self._checkins = checkins
        self._bot = bot
        self._quiet = quiet
        self._tz = timezone
        self._clock = clock
        # Appointments booked by another process (the CLI) are noticed within `idle`.
        self._idle = idle
        self._wake = asyncio.Event()
        self._last_sent: dict[int, float] = defaultdict(float)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run in the background until stop()."""
        self._task = asyncio.create_task(self._run(), name="ashi-dispatcher")

    async def stop(self) -> None:
        """Stop; a message in flight is finished or left 'sending' for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Look for due messages now (something was just scheduled)."""
        self._wake.set()

    async def _run(self) -> None:
        released = await self._storage.release_interrupted()
        if released:
            log.warning("%d scheduled messages were interrupted and will be sent again", released)
        while True:
            try:
                if await self.run_once():
                    continue
                await self._sleep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher error; retrying shortly")
                await asyncio.sleep(self._idle)

    async def _sleep(self) -> None:
        due = await self._storage.next_due_at()
        delay = self._idle
        if due is not None:
            delay = min(max((due - self._clock()).total_seconds(), 0.0), self._idle)
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def run_once(self) -> int:
        """Claim and handle every message due now; returns how many were handled."""
        claimed = await self._storage.claim_due(self._clock(), BATCH)
        by_chat: dict[int, list[DueMessage]] = defaultdict(list)
        for due in claimed:
            by_chat[due.patient.chat_id].append(due)
        # Chats proceed side by side; messages within one chat keep Telegram's pace.
        await asyncio.gather(*(self._chat(chat, rows) for chat, rows in by_chat.items()))
        return len(claimed)

    async def _chat(self, chat_id: int, rows: list[DueMessage]) -> None:
        for due in rows:
            await self._handle(chat_id, due)

    async def _handle(self, chat_id: int, due: DueMessage) -> None:
        now = self._clock()
        intake_done = MessageKind(due.message.kind) is MessageKind.INTAKE and (
            await self._storage.has_completed_intake_for(
                due.appointment, fresh_intake_since(due.appointment.starts_at)
            )
        )
        decision = decide(due, now, quiet=self._quiet, tz=self._tz, intake_done=intake_done)
        if isinstance(decision, End):
            await self._storage.finish_message(due.message.id, decision.status, decision.reason)
            return
        if isinstance(decision, Hold):
            await self._storage.retry_message(due.message.id, decision.until, "quiet hours")
            return
        wait = self._last_sent[chat_id] + PER_CHAT_INTERVAL - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        await self._send(chat_id, due)

    async def _send(self, chat_id: int, due: DueMessage) -> None:
        reply = self._checkins.compose(due)
        row = due.message
        try:
            sent = await self._bot.send_message(
                chat_id, reply.html, parse_mode=ParseMode.HTML, reply_markup=markup(reply.keyboard)
            )
        except RetryAfter as exc:
            seconds = exc.retry_after
            delay = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
            await self._storage.retry_message(row.id, self._clock() + delay, "429 retry_after")
            return
        except (Forbidden, BadRequest) as exc:
            if isinstance(exc, Forbidden) or "chat not found" in exc.message.lower():
                await self._unreachable(due, exc.message)
            else:
                await self._storage.finish_message(row.id, "failed", exc.message)
                log.error("scheduled message %d refused: %s", row.id, exc.message)
            return
        except TimedOut as exc:
            if isinstance(exc.__cause__, httpx.ReadTimeout):
                # Telegram got the whole request and did not answer in time: it was most
                # likely delivered, and sending it again would show it twice.
                await self._storage.finish_message(row.id, "sent", "unconfirmed: read timed out")
                return
            await self._retry(row.id, row.attempts, "timed out before sending")
            return
        except NetworkError as exc:
            await self._retry(row.id, row.attempts, f"network: {exc.message}")
            return
        finally:
            self._last_sent[chat_id] = time.monotonic()
        await self._storage.finish_message(row.id, "sent", telegram_message_id=sent.message_id)

    async def _retry(self, message_id: int, attempts: int, reason: str) -> None:
        if attempts >= MAX_ATTEMPTS:
            await self._storage.finish_message(message_id, "failed", reason)
            log.error("scheduled message %d failed after %d attempts", message_id, attempts)
            return
        await self._storage.retry_message(message_id, self._clock() + backoff(attempts), reason)

    async def _unreachable(self, due: DueMessage, reason: str) -> None:
        await self._storage.finish_message(due.message.id, "failed", f"unreachable: {reason}")
        await self._storage.mark_unreachable(due.patient.id)
        await self._storage.skip_pending_for_patient(due.patient.id, "patient unreachable")
        await notify(self._bot, self._checkins.unreachable(due))
