"""`ashi run` as a service: start-up checks, polling (or the webhook) until told to stop,
and an end a service manager can rely on.

- SIGTERM or SIGINT: a graceful stop (queued updates handled, the message in flight
  recorded); whatever state polling or Telegram is in, the process is gone within
  STOP_DEADLINE seconds. A second signal ends it at once.
- Telegram refusing the token (revoked in @BotFather), at start or while running: one log
  line and exit status 2 within seconds, so that systemd does not restart it in a loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading

from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError

from bot.content import Content
from bot.edge.app import bot_api_client, build_application, serving
from bot.edge.webhook import WebhookPlan
from bot.settings import Settings
from storage import DatabaseLock, Storage

log = logging.getLogger("ashi")
STOP_DEADLINE = 14.0  # seconds from the stop signal to the end of the process, at the most
EXIT_TOKEN_REJECTED = 2
EXIT_FORCED = 1


class StartError(Exception):
    """`ashi run` cannot start; the message says why in one line."""


class TelegramUnreachable(StartError):
    """The Bot API did not answer at start: may pass by itself, so worth a restart (exit
    status 1, where a bad setting is 2 and the service manager should not retry)."""


def token_rejected_message(settings: Settings) -> str:
    """The one line for a token Telegram refuses."""
    return (
        "Telegram rejected TELEGRAM_BOT_TOKEN (revoked or mistyped? get it from @BotFather),"
        f" or TELEGRAM_API_URL {settings.api_url} is not a Bot API."
    )


async def preflight(settings: Settings) -> None:
    """Check the database and the token before serving, so that a wrong setting is one
    clear line instead of a traceback from inside the polling loop."""
    storage = await Storage.open(settings.db_path)  # creates it, and migrates
    await storage.close()
    assert settings.token is not None
    try:
        request = bot_api_client(settings.api_url, 1)
        async with Bot(settings.token, base_url=settings.api_url, request=request):
            pass  # initialising asks Telegram who the bot is
    except InvalidToken as exc:
        raise StartError(token_rejected_message(settings)) from exc
    except NetworkError as exc:
        reason = exc.message.replace(settings.token, "<token>")
        raise TelegramUnreachable(
            f"cannot reach the Bot API at TELEGRAM_API_URL {settings.api_url}: {reason}"
        ) from exc


class _Stop:
    """Why the bot stops, set once; the first signal or failure wins."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.exit_status = 0

    def request(self, exit_status: int, line: str | None = None) -> None:
        if self.event.is_set():
            if exit_status == 0:
                # A second signal while stopping: the person means it.
                os._exit(EXIT_FORCED)
            return
        if line is not None:
            log.error(line)
        self.exit_status = exit_status
        self.event.set()
        _exit_after(STOP_DEADLINE, exit_status or EXIT_FORCED)


def _exit_after(seconds: float, status: int) -> None:
    """End the process after `seconds` even if stopping hangs (a daemon thread: it keeps
    nothing alive)."""

    def force() -> None:
        sys.stderr.write(f"ashi: did not stop within {seconds:.0f} s; exiting\n")
        sys.stderr.flush()
        os._exit(status)

    timer = threading.Timer(seconds, force)
    timer.daemon = True
    timer.start()


async def run(
    settings: Settings, content: Content, lock: DatabaseLock, *, webhook: bool = False
) -> int:
    """Serve until a stop signal or a rejected token, by long polling or on the webhook;
    returns the exit status."""
    stop = _Stop()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.request, 0)
    rejected = token_rejected_message(settings)

    def token_rejected() -> None:
        stop.request(EXIT_TOKEN_REJECTED, rejected)

    def polling_ended() -> None:
        stop.request(EXIT_FORCED, "polling stopped; exiting so that it can be restarted")

    app = build_application(settings, content, on_token_rejected=token_rejected, lock=lock)
    plan = webhook_plan(settings) if webhook else None
    try:
        async with serving(app, on_polling_ended=polling_ended, webhook=plan):
            await stop.event.wait()
    except InvalidToken:
        if stop.event.is_set():  # rejected between the pre-flight check and serving
            return stop.exit_status
        raise
    except BadRequest as exc:
        # setWebhook refused (an address Telegram cannot use): a setting to fix.
        raise StartError(f"Telegram refused ASHI_WEBHOOK_URL: {exc.message}") from exc
    except NetworkError as exc:
        raise TelegramUnreachable(f"the Bot API did not answer at start: {exc.message}") from exc
    return stop.exit_status


def webhook_plan(settings: Settings) -> WebhookPlan:
    """The webhook `ashi run --webhook` serves (its settings are required by then)."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    host, port = settings.listen
    return WebhookPlan(settings.webhook_url, host, port, settings.webhook_secret)


def start(settings: Settings, content: Content, *, webhook: bool = False) -> int:
    """`ashi run` (`--webhook`): lock the database, check, serve; returns the exit
    status."""
    lock = DatabaseLock.acquire(settings.db_path, "run")
    try:
        asyncio.run(preflight(settings))
        if not settings.practitioner_ids:
            log.warning("ASHI_PRACTITIONER_IDS is empty: intakes are stored but nobody is notified")
        return asyncio.run(run(settings, content, lock, webhook=webhook))
    finally:
        lock.release()
