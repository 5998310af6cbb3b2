"""The webhook: Telegram POSTs each update here instead of being polled for it.

Each request must carry the secret set with setWebhook; the update is stored in the inbox
before the 200 that tells Telegram it arrived, then handed to the application. While the
database refuses, it is handled unstored, as polling does: its handler meets the same
refusal and asks the patient to try again, which beats silence until the database is back.
A health endpoint tells a proxy or platform whether the database answers and the
dispatcher of scheduled messages runs.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from telegram import Bot, Update

from storage import DATABASE_ERRORS, describe

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few kilobytes; nothing larger is read


@dataclass(frozen=True)
class WebhookPlan:
    """Where the webhook listens and what Telegram is told."""

    url: str  # the public HTTPS address registered with setWebhook (its path is served)
    host: str
    port: int
    secret: str = field(repr=False)


class WebhookReceiver:
    """The webhook's HTTP side: updates in, health out."""

    def __init__(
        self,
        bot: Bot,
        queue: asyncio.Queue[object],
        accept: Callable[[Sequence[Update]], Awaitable[list[Update]]],
        secret: str,
        health: Callable[[], Awaitable[dict[str, bool]]],
    ) -> None:
        self._bot = bot
        self._queue = queue
        self._accept = accept
        if not secret:
            raise ValueError("a webhook needs a secret")
        self._secret = secret.encode()
        self._health = health

    def application(self, path: str) -> web.Application:
        """The aiohttp application: POST `path` for updates, GET /healthz."""
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post(path, self._update)
        app.router.add_get(HEALTH_PATH, self._healthz)
        return app

    async def _update(self, request: web.Request) -> web.Response:
        # Headers arrive as latin-1 escapes of whatever bytes were sent: compared as bytes.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=401)  # no detail for whoever is guessing
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self._bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError, AttributeError):
            update = None
        if update is None:
            # From Telegram (the secret is right) but not understood: answered, so that it
            # does not hold up every update behind it while Telegram retries it.
            log.warning("a webhook request with the secret held no update; dropped")
            return web.Response(status=200)
        try:
            fresh = await self._accept([update])
        except DATABASE_ERRORS as exc:
            log.error(
                "update %d cannot be stored: %s; handling it unstored",
                update.update_id,
                describe(exc),
            )
            fresh = [update]
        for new in fresh:  # none when Telegram sent it again after a lost 200
            await self._queue.put(new)
        return web.Response(status=200)

    async def _healthz(self, _: web.Request) -> web.Response:
        checks = await self._health()
        status = 200 if all(checks.values()) else 503
        return web.json_response(checks, status=status)
