"""The outbox dispatcher: sends scheduled messages when due, exactly once as far as the
Bot API allows, within Telegram's rate limits, and records every outcome.

Rows are claimed (committed as 'sending', with this run's id and a lease) before they are
sent and finished right after, so a crash leaves them visible; they are sent again by the
next run once their claim is known to be void: the run that made it has ended (the database
lock says so), or its lease ran out (see release_interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.edge.delivery import notify, send_once, unreachable
from bot.edge.transport import SentUnconfirmed
from bot.scheduling.checkins import CheckIns
from bot.scheduling.decide import End, Hold, decide
from bot.scheduling.plan import MessageKind, QuietHours, fresh_intake_since
from storage import DueMessage, MessageStatus, Storage

log = logging.getLogger(__name__)
PER_CHAT_INTERVAL = 1.0  # Telegram: about one message per second in one chat
# Telegram allows about 30 messages per second overall. Scheduled messages go out evenly,
# never in bursts (a 429 halts all of the bot's requests, patients' replies included, until
# retry_after): just under the limit while nobody is talking to the bot, and at two thirds
# of it while patients are, so their replies keep the rest.
PER_SECOND = 29.5
SHARED_PER_SECOND = 20.0
BATCH = 60
STOP_GRACE = 10.0  # seconds a stopping dispatcher may take to finish the message in flight
MAX_ATTEMPTS = 8
RETRY_BASE = 5.0  # seconds before the first retry after a server or network error
UNREACHABLE = "patient unreachable"
MAX_ERROR_PAUSE = 60.0  # seconds between tries while the database keeps refusing
# A claim holds this long unless renewed; the running dispatcher renews its claims every
# third of it, so only a run that has stopped renewing loses them.
LEASE = timedelta(seconds=60)


def backoff(attempts: int, base: float = RETRY_BASE) -> timedelta:
    """How long to wait before trying again after `attempts` failures."""
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 600))


def precise_utc_now() -> datetime:
    """The current time in UTC with its microseconds.

    Not storage's utc_now, which drops them: a retry_after counted from a clock that lags
    by up to a second could send again before Telegram's wait is over.
    """
    return datetime.now(UTC)


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
        clock: Callable[[], datetime] = precise_utc_now,
        idle: float = 1.0,
        retry_base: float = RETRY_BASE,
        per_second: float = PER_SECOND,
        shared_per_second: float = SHARED_PER_SECOND,
        conversations_active: Callable[[], bool] = lambda: False,
        owner: str | None = None,
        ended_runs: tuple[str, ...] = (),
        lease: timedelta = LEASE,
    ) -> None:
        self._storage = storage
        # Whose claims are whose: this run's id (the database lock's, when there is one),
        # and runs known to have ended, whose claims are void at once.
        self._owner = owner or uuid.uuid4().hex
        self._ended = ended_runs
        self._lease = lease
        self._checkins = checkins
        self._bot = bot
        self._quiet = quiet
        self._tz = timezone
        self._clock = clock
        # Appointments booked by another process (the CLI) are noticed within `idle`.
        self._idle = idle
        self._retry_base = retry_base
        self._per_second = per_second
        self._shared_per_second = min(shared_per_second, per_second)
        self._conversations_active = conversations_active
        self._next_slot = 0.0  # time.monotonic() when the next message may go out
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_sent: dict[int, float] = defaultdict(float)
        self._task: asyncio.Task[None] | None = None
        self._renewal: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run in the background until stop()."""
        self._task = asyncio.create_task(self._run(), name="ashi-dispatcher")
        self._renewal = asyncio.create_task(self._renew(), name="ashi-dispatcher-leases")

    @property
    def alive(self) -> bool:
        """Whether the sending loop is running (for the health endpoint)."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Stop after the message in flight (claimed ones not yet sent go back to pending);
        cancel only if that takes longer than STOP_GRACE."""
        if self._renewal is not None:
            self._renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewal
            self._renewal = None
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=STOP_GRACE)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def wake(self) -> None:
        """Look for due messages now (something was just scheduled)."""
        self._wake.set()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                # Inside the loop: a database that refuses at start is retried too, and
                # claims whose lease runs out later are picked up when it does.
                await self._release_interrupted()
                if not await self.run_once():
                    await self._sleep()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                # A database that keeps refusing (full, read-only) is retried less and less
                # often, with one line each time instead of a traceback every second.
                delay = min(self._idle * 2 ** (failures - 1), MAX_ERROR_PAUSE)
                if isinstance(exc, sqlite3.OperationalError):
                    log.error("dispatcher: database error: %s; retrying in %.0f s", exc, delay)
                else:
                    log.exception("dispatcher error; retrying in %.0f s", delay)
                await self._pause(delay)

    async def _release_interrupted(self) -> None:
        released = await self._storage.release_interrupted(
            self._clock(), owner=self._owner, ended=self._ended
        )
        if released:
            log.warning("%d scheduled messages were interrupted and will be sent again", released)

    async def _renew(self) -> None:
        period = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(period)
            try:
                await self._storage.renew_claims(self._owner, self._clock() + self._lease)
            except sqlite3.Error as exc:
                log.error("dispatcher: could not renew its claims: %s", exc)

    async def _sleep(self) -> None:
        due = await self._storage.next_due_at()
        delay = self._idle
        if due is not None:
            delay = min(max((due - self._clock()).total_seconds(), 0.0), self._idle)
        await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        """Wait, unless woken (something was scheduled, or stop())."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def run_once(self) -> int:
        """Claim and handle every message due now; returns how many were handled."""
        now = self._clock()
        claimed = await self._storage.claim_due(
            now, BATCH, owner=self._owner, lease_until=now + self._lease
        )
        by_chat: dict[int, list[DueMessage]] = defaultdict(list)
        for due in claimed:
            by_chat[due.patient.chat_id].append(due)
        # Chats proceed side by side; messages within one chat keep Telegram's pace.
        await asyncio.gather(*(self._chat(chat, rows) for chat, rows in by_chat.items()))
        return len(claimed)

    async def _chat(self, chat_id: int, rows: list[DueMessage]) -> None:
        for position, due in enumerate(rows):
            if self._stopping:
                # Not sent yet: back to the queue for the next start, untouched.
                await self._storage.retry_message(due.message.id, due.message.due_at, "stopped")
                continue
            if not await self._handle(chat_id, due):
                # The patient blocked the bot: the rest of this batch was claimed before
                # that was known, and must not be tried (nor the practitioner told again).
                for rest in rows[position + 1 :]:
                    await self._storage.finish_message(
                        rest.message.id, MessageStatus.SKIPPED, UNREACHABLE
                    )
                return

    async def _handle(self, chat_id: int, due: DueMessage) -> bool:
        """Decide on and send one claimed message; False if the patient is unreachable."""
        now = self._clock()
        intake_done = MessageKind(due.message.kind) is MessageKind.INTAKE and (
            await self._storage.has_completed_intake_for(
                due.appointment, fresh_intake_since(due.appointment.starts_at)
            )
        )
        decision = decide(due, now, quiet=self._quiet, tz=self._tz, intake_done=intake_done)
        if isinstance(decision, End):
            await self._storage.finish_message(due.message.id, decision.status, decision.reason)
            return True
        if isinstance(decision, Hold):
            await self._storage.retry_message(due.message.id, decision.until, "quiet hours")
            return True
        wait = self._last_sent[chat_id] + PER_CHAT_INTERVAL - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        await self._pace()
        return await self._send(chat_id, due)

    def pace(self) -> float:
        """Scheduled messages per second now: less while patients are talking to the bot."""
        if self._conversations_active():
            return self._shared_per_second
        return self._per_second

    async def _pace(self) -> None:
        """Wait for this message's turn in the overall pace (turns are handed out in order)."""
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.pace()
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _send(self, chat_id: int, due: DueMessage) -> bool:
        reply = await self._checkins.compose(due)
        row = due.message
        # The row was read before its claim counted this try.
        tries = row.attempts + 1
        try:
            sent = await send_once(self._bot, chat_id, reply)
        except RetryAfter as exc:
            seconds = exc.retry_after
            delay = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
            await self._storage.retry_message(row.id, self._clock() + delay, "429 retry_after")
            return True
        except (Forbidden, BadRequest) as exc:
            if unreachable(exc):
                await self._unreachable(due, exc.message)
                return False
            # Another refusal may pass (Telegram's own trouble, a setting of the chat):
            # tried again with back-off like a network error, and logged once.
            if tries == 1:
                log.warning("scheduled message %d refused: %s; trying again", row.id, exc.message)
            await self._retry(row.id, tries, f"refused: {exc.message}")
            return True
        except SentUnconfirmed as exc:
            # The request went out and no answer came: it was most likely delivered, and
            # sending it again would show it twice.
            lost = "read timed out" if isinstance(exc, TimedOut) else "connection lost"
            unconfirmed = f"unconfirmed: {lost}"
            await self._until_recorded(
                row.id,
                lambda: self._storage.finish_message(
                    row.id, MessageStatus.SENT, unconfirmed, first_step=self._checkins.first_step
                ),
            )
            return True
        except NetworkError as exc:
            await self._retry(row.id, tries, f"network: {exc.message}")
            return True
        finally:
            self._last_sent[chat_id] = time.monotonic()
        await self._until_recorded(
            row.id,
            lambda: self._storage.finish_message(
                row.id,
                MessageStatus.SENT,
                telegram_message_id=sent.message_id,
                first_step=self._checkins.first_step,
            ),
        )
        return True

    async def _until_recorded(self, message_id: int, record: Callable[[], Awaitable[None]]) -> None:
        """Record that a message went out, however long the database refuses: a row left
        'sending' would be sent again, and the patient would read it twice."""
        pause = self._idle
        failures = 0
        while True:
            try:
                await record()
                return
            except sqlite3.Error as exc:
                failures += 1
                if failures == 1:
                    log.error(
                        "dispatcher: scheduled message %d was sent but cannot be recorded: %s;"
                        " trying again",
                        message_id,
                        exc,
                    )
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_ERROR_PAUSE)

    async def _retry(self, message_id: int, attempts: int, reason: str) -> None:
        if attempts >= MAX_ATTEMPTS:
            await self._storage.finish_message(message_id, MessageStatus.FAILED, reason)
            log.error("scheduled message %d failed after %d attempts", message_id, attempts)
            return
        later = self._clock() + backoff(attempts, self._retry_base)
        await self._storage.retry_message(message_id, later, reason)

    async def _unreachable(self, due: DueMessage, reason: str) -> None:
        await self._storage.finish_message(
            due.message.id, MessageStatus.FAILED, f"unreachable: {reason}"
        )
        await self._storage.mark_unreachable(due.patient.id)
        await self._storage.skip_pending_for_patient(due.patient.id, UNREACHABLE)
        await notify(self._bot, self._checkins.unreachable(due))
