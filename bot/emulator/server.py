"""`BotApiEmulator`: a local fake Telegram Bot API over real HTTP.

Point PTB at it with `Bot(token, base_url=emulator.base_url)`; drive the simulated users with
`send_text`, `press_button`, ...; inspect `chat()`, `transcript` and `violations`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from typing import TypeVar, cast

from aiohttp import web
from aiohttp.web_request import FileField

from bot.emulator.contract import check_call
from bot.emulator.faults import DroppedConnection, FaultPlan, HeldCall, SlowResponse
from bot.emulator.methods import BotApiMethods, unexpected
from bot.emulator.models import (
    ApiCall,
    ApiError,
    ChatMessage,
    JsonDict,
    UploadedFile,
    contract_violation,
)
from bot.emulator.ratelimit import RateLimiter, RateLimits, is_sending_method
from bot.emulator.schema import BotApiSchema
from bot.emulator.webhook import deliver
from bot.emulator.world import CallbackQueryState, World

T = TypeVar("T")

MAX_BODY_BYTES = 64 * 1024 * 1024  # above Telegram's 50 MB upload limit
POLL_STEP = 0.01
DROPPED = "connection dropped (injected)"


async def read_params(request: web.Request) -> dict[str, object]:
    """Decode query string plus JSON, urlencoded or multipart body into one flat dict."""
    params: dict[str, object] = dict(request.query)
    if request.method != "POST" or not request.body_exists:
        return params
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise contract_violation("can't parse JSON body") from exc
        if not isinstance(body, dict):
            raise contract_violation("JSON body must be an object")
        # Telegram treats null like an absent parameter.
        params.update({k: v for k, v in body.items() if v is not None})
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, FileField):
                params[key] = UploadedFile(
                    value.filename, value.file.read(), value.content_type or ""
                )
            else:
                params[key] = value
    else:
        raise contract_violation(f"unsupported Content-Type {content_type!r}")
    return _resolve_attachments(params)


def _resolve_attachments(params: dict[str, object]) -> dict[str, object]:
    """Replace "attach://name" values by the file part `name`, which is then not a param."""
    resolved = dict(params)
    for key, value in params.items():
        if isinstance(value, str) and value.startswith("attach://"):
            part = params.get(value.removeprefix("attach://"))
            if isinstance(part, UploadedFile):
                resolved[key] = part
                resolved.pop(value.removeprefix("attach://"), None)
    return resolved


def _client_gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


class BotApiEmulator:
    """A fake Telegram Bot API server with simulated users; see the module docstring."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "ashi_test_bot",
        rate_limits: RateLimits | None = RateLimits(),  # noqa: B008 - frozen, never mutated
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456
        bot_user: JsonDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Ashi",
            "username": bot_username,
        }
        me: JsonDict = {
            **bot_user,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.schema = BotApiSchema.load()
        self.world = World(bot_user)
        self.methods = BotApiMethods(self.world, me)
        self.rate_limiter = RateLimiter(rate_limits) if rate_limits is not None else None
        self.transcript: list[ApiCall] = []
        self.violations: list[str] = []
        self.call_listeners: list[Callable[[ApiCall], None]] = []
        """Called with each ApiCall as it is added to the transcript (benchmarks)."""
        self.faults = FaultPlan()
        self._runner: web.AppRunner | None = None
        self._delivery: asyncio.Task[None] | None = None
        self._host = "127.0.0.1"
        self._port = 0

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on host:port; port 0 picks a free port (see `base_url`)."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # Cancel handlers whose client went away, so a long poll PTB abandoned on shutdown
        # does not linger and later report a spurious 409 Conflict.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self._host = host
        self._port = int(runner.addresses[0][1])
        self._delivery = asyncio.create_task(deliver(self.world), name="emulator-webhook")

    async def stop(self) -> None:
        """Release pending long polls, stop webhook deliveries and shut the server down."""
        self.world.close()
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """PTB's `base_url`: PTB requests f"{base_url}{token}/{method}"."""
        if self._runner is None:
            raise RuntimeError("emulator not started")
        return f"http://{self._host}:{self._port}/bot"

    @property
    def is_polling(self) -> bool:
        """True while a getUpdates long poll is waiting for updates."""
        return self.world.waiting_polls > 0

    # ---- simulated users ---------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "Pat",
        *,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> None:
        """Register a user; their private chat exists once they send something."""
        self.world.add_user(user_id, first_name, language_code, username)

    def send_text(self, user_id: int, text: str) -> int:
        """The user sends text (a leading /command gets a bot_command entity)."""
        return self.world.send_text(user_id, text)

    def send_sticker(self, user_id: int) -> int:
        """The user sends a sticker."""
        return self.world.user_message(user_id, "sticker", "")

    def send_photo(self, user_id: int) -> int:
        """The user sends a photo without caption."""
        return self.world.user_message(user_id, "photo", "")

    def edit_text(self, user_id: int, message_id: int, new_text: str) -> None:
        """The user edits one of their text messages (an edited_message update)."""
        self.world.edit_user_text(user_id, message_id, new_text)

    def press_button(self, user_id: int, message_id: int, callback_data: str) -> str:
        """The user taps the button with this callback_data; returns the callback query id.

        Raises ValueError if the bot message currently has no such button.
        """
        return self.world.press(user_id, message_id, callback_data, must_exist=True)

    def press_raw(self, user_id: int, message_id: int, callback_data: str) -> str:
        """Like press_button but with any data: forged or stale buttons."""
        return self.world.press(user_id, message_id, callback_data, must_exist=False)

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: later sends to the chat fail with 403."""
        self.world.set_blocked(user_id, True)

    def unblock_bot(self, user_id: int) -> None:
        """The user unblocks the bot again."""
        self.world.set_blocked(user_id, False)

    def revoke_token(self) -> None:
        """@BotFather's /revoke: from now on every call with the old token gets 401."""
        self.token = f"{self.token.split(':', 1)[0]}:REVOKED-{secrets.token_hex(8)}"

    def chat(self, chat_id: int) -> list[ChatMessage]:
        """All messages of the chat in order, in their current (edited) state."""
        return list(self.world.chats.get(chat_id, []))

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's messages in the chat."""
        return [m for m in self.chat(chat_id) if m.from_bot]

    def callback_query(self, query_id: str) -> CallbackQueryState:
        """State of a callback query, e.g. whether and how the bot answered it."""
        return self.world.callback_queries[query_id]

    # ---- test helpers ------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], T | bool | None],
        timeout: float = 10.0,  # noqa: ASYNC109 - public API; a deadline, not a cancel scope
    ) -> T:
        """Poll `predicate` until it returns something truthy and return that.

        Raises TimeoutError describing recent chat messages, errors and violations.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return cast(T, result)
            if loop.time() >= deadline:
                raise TimeoutError(self._describe_timeout(timeout))
            await asyncio.sleep(POLL_STEP)

    async def wait_for_bot_message(
        self,
        chat_id: int,
        *,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - public API, see wait_for
    ) -> ChatMessage:
        """The first bot message in the chat with message_id > after."""

        def first_new() -> ChatMessage | None:
            return next((m for m in self.bot_messages(chat_id) if m.message_id > after), None)

        return await self.wait_for(first_new, timeout)

    def inject_failure(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next `times` valid calls of `method` (to `chat_id`, if given) fail with
        this error."""
        self._check_method(method)
        error = ApiError(status, description, retry_after=retry_after)
        self.faults.add(method, error, times, chat_id)

    def inject_slow_response(
        self, method: str, seconds: float, *, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Answer the next `times` valid calls of `method` (to `chat_id`, if given) only
        after `seconds`.

        The call takes effect at once (the message is in the chat); only the response is
        late, so a client whose read timeout is shorter sees a timeout for a call that did
        happen.
        """
        self._check_method(method)
        self.faults.add(method, SlowResponse(seconds), times, chat_id)

    def inject_dropped_connection(
        self, method: str, *, times: int = 1, after_effect: bool = False
    ) -> None:
        """Close the connection of the next `times` valid calls of `method` without a
        response: before the call takes effect, or (`after_effect`) once it has."""
        self._check_method(method)
        self.faults.add(method, DroppedConnection(after_effect), times)

    def hold(self, method: str, chat_id: int | None = None) -> HeldCall:
        """Hold the next valid call of `method` (to `chat_id`, if given) before it takes
        effect, until `release()`; its `arrived` event is set once it is being held."""
        self._check_method(method)
        held = HeldCall()
        self.faults.add(method, held, chat_id=chat_id)
        return held

    def confirmed(self, update_id: int) -> bool:
        """Whether the bot has confirmed this update (a getUpdates offset above it): to
        Telegram it is gone, and it is never sent again."""
        return self.world.confirmed_below > update_id

    def _check_method(self, method: str) -> None:
        if self.schema.canonical_name(method) != method:
            raise ValueError(f"not a Bot API method: {method!r}")

    def _describe_timeout(self, timeout: float) -> str:
        recent = sorted(
            ((chat_id, m) for chat_id, msgs in self.world.chats.items() for m in msgs),
            key=lambda item: item[1].date,
        )[-6:]
        lines = [f"condition not met within {timeout}s; last chat messages:"]
        lines += [
            f"  chat {chat_id} #{m.message_id} {'bot' if m.from_bot else 'user'}: {m.text!r}"
            + (f" buttons={[[b.text for b in row] for row in m.buttons]}" if m.buttons else "")
            for chat_id, m in recent
        ] or ["  (none)"]
        errors = [c for c in self.transcript if not c.ok][-5:]
        if errors:
            lines.append("recent failed API calls:")
            lines += [f"  {c.method}: {c.error_code} {c.description}" for c in errors]
        if self.violations:
            lines.append(f"violations: {self.violations}")
        return "\n".join(lines)

    # ---- HTTP --------------------------------------------------------------------------

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        self._record(request.path, {}, ApiError(404, "Not Found", violation=True), time.monotonic())
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        method = request.match_info["method"]
        params: dict[str, object] = {}
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            canonical = self.schema.canonical_name(method)
            if canonical is None:
                raise ApiError(404, "Not Found", violation=True)
            method = canonical
            params = await read_params(request)
            params = self.schema.validate(method, params)
            check_call(method, params)
            handler = self.methods.handlers.get(method)
            if handler is None:
                raise unexpected(method)
            fault = self.faults.take(method, params.get("chat_id"))
            if isinstance(fault, ApiError):
                raise fault
            if isinstance(fault, HeldCall):
                fault.arrived.set()
                # Cancelled here (handler_cancellation) when the client goes away.
                await fault.released.wait()
            if isinstance(fault, DroppedConnection) and not fault.after_effect:
                self._record(method, params, None, started, dropped=True)
                return self._drop(request)
            self._apply_rate_limit(method, params)
            result = await handler(params)
        except ApiError as error:
            if method == "getUpdates" and _client_gone(request):
                return web.Response(status=499)  # nobody reads it; keep the transcript honest
            self._record(method, params, error, started)
            return web.json_response(error.to_json(), status=error.error_code)
        self._record(method, params, None, started)
        if isinstance(fault, DroppedConnection):
            return self._drop(request)
        if isinstance(fault, SlowResponse):
            # Cancelled here (handler_cancellation) when the client gives up first.
            await asyncio.sleep(fault.seconds)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        """Close the connection: the client gets no response at all."""
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=499)  # written nowhere: the connection is gone

    def _apply_rate_limit(self, method: str, params: dict[str, object]) -> None:
        chat_id = params.get("chat_id")
        if self.rate_limiter is None or not is_sending_method(method):
            return
        if not isinstance(chat_id, int | str):
            return
        retry_after = self.rate_limiter.acquire(chat_id)
        if retry_after is not None:
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )

    def _record(
        self,
        method: str,
        params: dict[str, object],
        error: ApiError | None,
        started: float,
        *,
        dropped: bool = False,
    ) -> None:
        """Add the call to the transcript; `dropped`: its connection was closed unanswered
        before it took effect (not ok, with no error code)."""
        call = ApiCall(
            method=method,
            params=params,
            ok=error is None and not dropped,
            error_code=error.error_code if error else None,
            description=error.description if error else DROPPED if dropped else None,
            time=started,
        )
        self.transcript.append(call)
        for listener in self.call_listeners:
            listener(call)
        if error is not None and error.violation:
            self.violations.append(f"{method}: {error.description.removeprefix('Bad Request: ')}")
