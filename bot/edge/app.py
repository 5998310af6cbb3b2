"""build_application: the one factory used by `ashi run`, `ashi demo` and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import version
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.content import Content
from bot.edge.calendar_feed import CalendarFeed
from bot.edge.delivery import being_notified, notify, relay, reported_unreachable
from bot.edge.dispatch import Dispatcher
from bot.edge.inbox import UpdateInbox
from bot.edge.patient import PatientHandlers, who
from bot.edge.polling import Poller, TokenRejected
from bot.edge.practice import BUTTON_PATTERN as PRACTICE_BUTTONS
from bot.edge.practice import PracticeHandlers
from bot.edge.router import Router, patient_side
from bot.edge.transport import AiohttpRequest
from bot.edge.updates import PerChatUpdateProcessor
from bot.edge.webhook import WebhookPlan, WebhookReceiver
from bot.intake.service import IntakeService
from bot.practice.service import COMMANDS as PRACTICE_COMMANDS
from bot.practice.service import PracticeService
from bot.records.documents import export_document
from bot.scheduling.checkins import CheckIns
from bot.settings import Settings
from storage import DatabaseLock, Storage, utc_now

log = logging.getLogger(__name__)
# Bot API connections shared by replies, notifications and the dispatcher (getUpdates has
# its own). Calls take milliseconds, so a few carry hundreds of patients' replies.
CONNECTIONS = 16
WEBHOOK_SHUTDOWN = 3.0  # seconds a webhook request in flight may take at a stop
TOKEN_WATCH = 60.0  # seconds between two calls that notice a revoked token on a webhook
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
# A completed intake's summary that Telegram refused or that could not be sent is tried
# again after this many seconds, then twice as long each time, up to an hour.
NOTIFICATION_RETRY = 30.0
NOTIFICATION_RETRY_MAX = 3600.0
# Handled updates are remembered this long (without their content), so that one Telegram
# sends again (unconfirmed when the bot stopped; it keeps them a day) is not handled twice.
INBOX_MEMORY = timedelta(days=2)
RUNTIME = "ashi.runtime"  # the Runtime's key in bot_data


class Runtime:
    """What the handlers need once the application has started."""

    def __init__(
        self,
        settings: Settings,
        content: Content,
        lock: DatabaseLock | None = None,
        notification_retry: float = NOTIFICATION_RETRY,
    ) -> None:
        self.settings = settings
        self.content = content
        self._lock = lock
        self._notification_retry = notification_retry
        self._resending: asyncio.Task[None] | None = None
        self._calendar: asyncio.Task[None] | None = None
        # Patients' updates; the dispatcher slows down while they are being answered.
        self.updates = PerChatUpdateProcessor()
        self._storage: Storage | None = None
        self._service: IntakeService | None = None
        self._dispatcher: Dispatcher | None = None
        self._practice: PracticeService | None = None
        self._router: Router | None = None
        self._inbox: UpdateInbox | None = None

    @property
    def service(self) -> IntakeService:
        """The intake service; available between post_init and shutdown."""
        if self._service is None:
            raise RuntimeError("the application has not been initialised")
        return self._service

    @property
    def router(self) -> Router:
        """Patients' commands, buttons and text to their features; available between
        post_init and shutdown."""
        if self._router is None:
            raise RuntimeError("the application has not been initialised")
        return self._router

    @property
    def storage(self) -> Storage:
        """The open database; available between post_init and shutdown."""
        if self._storage is None:
            raise RuntimeError("the application has not been initialised")
        return self._storage

    @property
    def inbox(self) -> UpdateInbox:
        """Updates stored until handled; available between post_init and shutdown."""
        if self._inbox is None:
            raise RuntimeError("the application has not been initialised")
        return self._inbox

    @property
    def practice(self) -> PracticeService:
        """The practitioners' service; available between post_init and shutdown."""
        if self._practice is None:
            raise RuntimeError("the application has not been initialised")
        return self._practice

    async def _csv_export(self) -> tuple[str, int]:
        assert self._storage is not None
        text = await export_document(self._storage, self.content, "csv", self.settings.timezone)
        return text, await self._storage.count_intakes()

    async def open(self, bot: Bot) -> None:
        """Take the database's lock (one bot per database), open it, create the services
        and start the dispatcher."""
        settings = self.settings
        if self._lock is None:
            self._lock = DatabaseLock.acquire(settings.db_path, "bot")
        self._storage = await Storage.open(settings.db_path)
        self._inbox = UpdateInbox(self._storage, bot)
        self.updates.finished = self._inbox.finish
        await self.forget_old_updates()
        checkins = CheckIns(
            self._storage,
            self.content,
            clinic_name=settings.clinic_name,
            clinic_address=settings.clinic_address,
            practitioner_ids=settings.practitioner_ids,
            timezone=settings.timezone,
            returning_days=settings.returning_days,
        )
        self._service, messaging, self._router = patient_side(
            self._storage,
            self.content,
            checkins,
            clinic_name=settings.clinic_name,
            practitioner_ids=settings.practitioner_ids,
            timezone=settings.timezone,
            relay=functools.partial(relay, bot),
            returning_days=settings.returning_days,
        )
        self._practice = PracticeService(
            self._storage,
            self.content,
            practitioner_ids=settings.practitioner_ids,
            timezone=settings.timezone,
            csv_export=self._csv_export,
            messaging=messaging,
        )
        self._dispatcher = Dispatcher(
            self._storage,
            checkins,
            bot,
            quiet=settings.quiet_hours,
            timezone=settings.timezone,
            conversations_active=self.updates.conversations_active,
            owner=self._lock.run_id,
            ended_runs=(self._lock.previous_run_id,) if self._lock.previous_run_id else (),
        )
        self._dispatcher.start()
        self._resending = asyncio.create_task(self._resend(bot), name="ashi-resend-notices")
        if settings.calendar_url is not None:
            feed = CalendarFeed(settings, self._storage)
            self._calendar = asyncio.create_task(feed.run(), name="ashi-calendar-feed")

    async def forget_old_updates(self) -> None:
        """Drop what the inbox remembers of updates handled long enough ago."""
        await self.storage.forget_handled_updates(utc_now() - INBOX_MEMORY)

    async def _resend(self, bot: Bot) -> None:
        """Send the summaries of completed intakes again until Telegram accepts them."""
        pause = self._notification_retry
        while True:
            await asyncio.sleep(pause)
            try:
                # Not the ones just completed: their first notice may still be on its way.
                recent = utc_now() - timedelta(seconds=self._notification_retry)
                missed = await self.service.unnotified_intakes(completed_before=recent)
                delivered = await send_missed_notifications(bot, self.service, missed)
            except (sqlite3.Error, TelegramError) as exc:
                log.warning("resending intake notices failed: %s", type(exc).__name__)
                delivered = False
            pause = (
                self._notification_retry if delivered else min(pause * 2, NOTIFICATION_RETRY_MAX)
            )

    async def health(self) -> dict[str, bool]:
        """What the webhook's health endpoint reports: the database takes a write, and the
        dispatcher of scheduled messages runs."""
        database = self._storage is not None and await self._storage.reachable()
        dispatcher = self._dispatcher is not None and self._dispatcher.alive
        return {"database": database, "dispatcher": dispatcher}

    async def stop_dispatcher(self) -> None:
        """Stop sending scheduled messages and reading the calendar feed (while the
        bot's connection is still open)."""
        for task in (self._resending, self._calendar):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._resending = self._calendar = None
        if self._dispatcher is not None:
            await self._dispatcher.stop()
            self._dispatcher = None

    async def close(self) -> None:
        """Stop the dispatcher (if still running) and close the database."""
        await self.stop_dispatcher()
        if self._storage is not None:
            await self._storage.close()
            self._storage = None
            self._service = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


async def set_commands(
    app: Application,  # type: ignore[type-arg]
    content: Content,
    commands: tuple[str, ...],
    practitioner_ids: frozenset[int],
) -> list[int]:
    """Publish the command menu in every language; practitioners' chats also get theirs.
    Returns the practitioners Telegram does not know yet (they have not started the bot)."""
    not_started: list[int] = []
    for language in content.languages:
        catalog = content.catalog(language)
        menu = [BotCommand(name, catalog.text(f"commands.{name}")) for name in commands]
        code = None if language == content.default else language
        await app.bot.set_my_commands(menu, language_code=code)
    staff = content.staff
    names = commands + PRACTICE_COMMANDS
    for chat_id in sorted(practitioner_ids):
        try:
            await app.bot.set_my_commands(
                [BotCommand(name, staff.text(f"commands.{name}")) for name in names],
                scope=BotCommandScopeChat(chat_id),
            )
        except TelegramError as exc:
            if "chat not found" in exc.message.lower():
                # Not started the bot yet: said once, in the start-up line.
                not_started.append(chat_id)
            else:
                log.warning("no command menu for practitioner %s: %s", chat_id, exc.message)
    return not_started


def startup_line(
    settings: Settings, content: Content, username: str, not_started: list[int]
) -> str:
    """What the log says once the bot is serving: enough to tell a wrong setting at a look."""
    practitioners = len(settings.practitioner_ids)
    line = (
        f"Ashi {version('ashi')} serving @{username}: database {settings.db_path},"
        f" time zone {settings.timezone.key}, languages {', '.join(content.languages)}"
        f" (default {content.default}), content {content.directory},"
        f" {practitioners} practitioner{'' if practitioners == 1 else 's'}"
    )
    if not_started:
        ids = ", ".join(str(i) for i in not_started)
        line += f"; not started the bot yet (they receive nothing until they send it /start): {ids}"
    return line


async def send_missed_notifications(
    bot: Bot, service: IntakeService, intake_ids: list[int] | None = None
) -> bool:
    """Tell the practitioners of intakes completed while a notification could not go out
    (the bot stopped, Telegram failed or refused between completing and notifying), each
    practitioner only once: an intake is marked notified once Telegram accepted every
    practitioner's notice. True if all were."""
    delivered = True
    for intake_id in await service.unnotified_intakes() if intake_ids is None else intake_ids:
        if being_notified(intake_id):
            continue
        notes = await service.completion_notices(intake_id)
        told = await notify(bot, notes)
        await service.mark_notified(intake_id, told)
        delivered = delivered and len(told) == len(notes)
    return delivered


async def purge_expired(storage: Storage, retention_days: int) -> int:
    """Erase patient data older than the retention period, and record that it happened;
    returns how many intakes went."""
    cutoff = utc_now() - timedelta(days=retention_days)
    intakes, appointments, patients = await storage.purge_before(cutoff)
    if intakes or appointments or patients:
        detail = f"{intakes} intakes, {appointments} appointments, {patients} patients"
        await storage.audit(None, "retention purge", None, detail)
        log.info("retention (%d days): erased %s", retention_days, detail)
    return intakes


def bot_api_client(
    api_url: str, connections: int, on_unauthorized: Callable[[], None] | None = None
) -> AiohttpRequest:
    """The HTTP client for the Bot API at api_url (a proxy only for a remote one)."""
    local = urlsplit(api_url).hostname in ("127.0.0.1", "localhost", "::1")
    return AiohttpRequest(
        connections, proxy_from_environment=not local, on_unauthorized=on_unauthorized
    )


def build_application(
    settings: Settings,
    content: Content | None = None,
    *,
    on_token_rejected: Callable[[], None] | None = None,
    lock: DatabaseLock | None = None,
    notification_retry: float = NOTIFICATION_RETRY,
) -> Application:  # type: ignore[type-arg]
    """The bot, wired to its database, content and the Bot API at settings.api_url.

    `on_token_rejected` is called when any Bot API call is refused with 401. `lock`: the
    database's lock, if the caller took it already (else it is taken at start).
    """
    if settings.token is None:
        raise ValueError("a bot token is needed to build the application")
    runtime = Runtime(settings, content or settings.load_content(), lock, notification_retry)

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        await runtime.open(app.bot)
        retention = settings.retention_days
        if retention is not None and app.job_queue is not None:

            async def purge(_: ContextTypes.DEFAULT_TYPE) -> None:
                await purge_expired(runtime.storage, retention)

            app.job_queue.run_repeating(purge, interval=timedelta(days=1), first=1.0)
        if app.job_queue is not None:

            async def forget(_: ContextTypes.DEFAULT_TYPE) -> None:
                await runtime.forget_old_updates()

            app.job_queue.run_repeating(forget, interval=timedelta(days=1))
        not_started = await set_commands(
            app, runtime.content, runtime.router.commands, settings.practitioner_ids
        )
        log.info(startup_line(settings, runtime.content, app.bot.username, not_started))
        reported_unreachable(not_started)
        await send_missed_notifications(app.bot, runtime.service)

    async def post_stop(app: Application) -> None:  # type: ignore[type-arg]
        await runtime.stop_dispatcher()

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        await runtime.close()

    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_url)
        .request(bot_api_client(settings.api_url, CONNECTIONS, on_token_rejected))
        .get_updates_request(bot_api_client(settings.api_url, 1, on_token_rejected))
        .updater(None)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(runtime.updates)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data[RUNTIME] = runtime
    handlers = PatientHandlers(lambda: runtime.router, lambda: runtime.service)
    runtime.updates.flooded = functools.partial(handlers.flooded, app.bot)
    practice = PracticeHandlers(lambda: runtime.practice)
    private = filters.ChatType.PRIVATE
    new_message = filters.UpdateType.MESSAGE & private
    app.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, handlers.unexpected)
    )
    app.add_handler(CommandHandler(PRACTICE_COMMANDS, practice.command, filters=new_message))
    # Every other command, known or not: the router has the features' tables.
    app.add_handler(MessageHandler(filters.COMMAND & new_message, handlers.command))
    app.add_handler(MessageHandler(filters.TEXT & new_message, handlers.text))
    app.add_handler(CallbackQueryHandler(practice.button, pattern=PRACTICE_BUTTONS))
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_handler(MessageHandler(new_message, handlers.unexpected))

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        _log_error(context.error)
        sender = who(update) if isinstance(update, Update) else None
        if sender is None:
            return
        try:
            text = runtime.content.catalog(sender.language_code).text("errors.generic")
            await context.bot.send_message(sender.chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError:
            log.warning("could not tell the user about the error")
        query = update.callback_query if isinstance(update, Update) else None
        if query is not None and not isinstance(context.error, TelegramError):
            # Failed before its reply was delivered (which answers the press): stop the
            # button's spinner.
            try:
                await query.answer()
            except TelegramError as exc:
                log.info("button answer not accepted: %s", exc.message)

    app.add_error_handler(on_error)
    return app


def _safe_traceback(error: BaseException | None) -> BaseException | None:
    """The traceback is kept for our own errors; Telegram errors carry message text."""
    return None if isinstance(error, TelegramError) else error


def _log_error(error: BaseException | None) -> None:
    """Log the kind of failure only: the update may hold health data."""
    if isinstance(error, sqlite3.OperationalError):
        # The database refused (full, read-only, locked): SQLite's own words say which, and
        # they never contain the values written.
        log.error("database error while handling an update: %s", error)
        return
    log.error(
        "error while handling an update: %s",
        type(error).__name__,
        exc_info=_safe_traceback(error),
    )


@asynccontextmanager
async def serving(
    app: Application,  # type: ignore[type-arg]
    *,
    poll_timeout: int = 10,
    on_polling_ended: Callable[[], None] | None = None,
    webhook: WebhookPlan | None = None,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run the application inside an event loop that is already running: initialise,
    post_init, handle what the inbox still holds, then take updates by long polling (or, with
    `webhook`, as Telegram POSTs them) and handle them; on leaving, stop in the order that
    loses nothing (no more taking, queued updates handled, offset confirmed, dispatcher
    stopped, database closed). Used by `ashi run`, the demo and the tests.

    `on_polling_ended` is called if polling ends by itself (the token was rejected, or a
    bug): the bot no longer hears anyone and should stop.
    """
    try:
        await app.initialize()
    except BaseException:
        await app.bot.shutdown()  # its HTTP clients are open even when getMe failed
        raise
    try:
        if app.post_init is not None:
            await app.post_init(app)
        runtime: Runtime | None = app.bot_data.get(RUNTIME)
        accept = _unstored
        if runtime is not None:  # else a bare application (the benchmark's baseline)
            accept = runtime.inbox.accept
            # Stored before a crash or stop and never handled: first, in the order they came.
            for update in await runtime.inbox.pending():
                await app.update_queue.put(update)
        taking = (
            _webhook(app, webhook, accept, runtime)
            if webhook is not None
            else _polling(app, accept, poll_timeout, on_polling_ended)
        )
        await taking.start()
        await app.start()
        try:
            yield app
        finally:
            await taking.stop()
            if app.running:
                await app.stop()
            await taking.confirm()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


@dataclass(frozen=True)
class _Taking:
    """How updates come in: started before the application, stopped before it stops, and
    what was taken confirmed once the queue is handled (long polling's last offset)."""

    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]
    confirm: Callable[[], Awaitable[None]]


def _polling(
    app: Application,  # type: ignore[type-arg]
    accept: Callable[[Sequence[Update]], Awaitable[list[Update]]],
    poll_timeout: int,
    on_polling_ended: Callable[[], None] | None,
) -> _Taking:
    poller = Poller(
        app.bot, app.update_queue, accept, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
    )
    task: asyncio.Task[None] | None = None

    async def start() -> None:
        nonlocal task
        task = asyncio.create_task(poller.run(), name="ashi-polling")
        task.add_done_callback(lambda done: _polling_ended(done, on_polling_ended))

    async def stop() -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    return _Taking(start, stop, poller.confirm)


def _webhook(
    app: Application,  # type: ignore[type-arg]
    plan: WebhookPlan,
    accept: Callable[[Sequence[Update]], Awaitable[list[Update]]],
    runtime: Runtime | None,
) -> _Taking:
    health = runtime.health if runtime is not None else _no_checks
    receiver = WebhookReceiver(app.bot, app.update_queue, accept, plan.secret, health)
    runner = web.AppRunner(
        receiver.application(urlsplit(plan.url).path or "/"),
        access_log=None,
        # A request still storing its update at a stop gets this long (the process has
        # STOP_DEADLINE in all); one cut short is sent again by Telegram.
        shutdown_timeout=WEBHOOK_SHUTDOWN,
    )
    watching: asyncio.Task[None] | None = None

    async def start() -> None:
        nonlocal watching
        await runner.setup()
        try:
            await web.TCPSite(runner, plan.host, plan.port).start()
            # Listening first: Telegram starts delivering as soon as it knows the address.
            # One connection: each chat's updates then arrive in their order.
            await app.bot.set_webhook(
                plan.url,
                secret_token=plan.secret,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=1,
            )
        except BaseException:
            await runner.cleanup()
            raise
        watching = asyncio.create_task(_watch_token(app.bot), name="ashi-webhook-watch")

    async def stop() -> None:
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        # Not deleted: Telegram keeps what arrives meanwhile and delivers it once the bot
        # (or another process on this address) answers again.
        await runner.cleanup()

    return _Taking(start, stop, _nothing)


async def _watch_token(bot: Bot) -> None:
    """On a webhook the bot may make no call for hours: one a minute, so that a token
    revoked in @BotFather is noticed (its 401 stops the bot, as when polling)."""
    while True:
        await asyncio.sleep(TOKEN_WATCH)
        with contextlib.suppress(TelegramError):
            await bot.get_webhook_info()


async def _nothing() -> None:
    return None


async def _no_checks() -> dict[str, bool]:
    return {}


async def _unstored(updates: Sequence[Update]) -> list[Update]:
    return list(updates)


def _polling_ended(task: asyncio.Task[None], then: Callable[[], None] | None) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if not isinstance(error, TokenRejected):
        # A rejected token is reported by whoever was told of the 401 (on_token_rejected).
        log.error("polling stopped: %s", type(error).__name__, exc_info=error)
    if then is not None:
        then()
