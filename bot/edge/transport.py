"""The HTTP client under python-telegram-bot: aiohttp instead of PTB's default httpx.

Under load the bot is CPU-bound in its HTTP client (bench/, README "Performance"): httpx and
httpcore spend one to several milliseconds of Python per Bot API call, and httpcore's pool
scans every open connection for each request, so the cost grows with the number of patients
served at once. aiohttp parses HTTP in C and keeps idle connections without scanning them.
PTB supports other clients through `BaseRequest`; errors map onto PTB's as HTTPXRequest's do.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlencode

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's HTTPXRequest defaults, in seconds.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0
FORM = "application/x-www-form-urlencoded"


class SentUnconfirmed(NetworkError):
    """The request went out and its answer never came: Telegram may have carried it out.

    Repeating it may do it twice, so callers treat the call as done but unconfirmed. Only a
    plain NetworkError or TimedOut from this backend proves the request never left (no
    connection could be opened, or none was free in time): those are safe to repeat.
    """


class ReplyTimedOut(SentUnconfirmed, TimedOut):
    """The request went out and its answer did not come in time."""


class ConnectionLost(SentUnconfirmed):
    """The connection broke after the request was handed to it, before the answer."""


class AiohttpRequest(BaseRequest):
    """PTB's networking backend on aiohttp, with HTTPXRequest's timeouts and pool size.

    `proxy_from_environment`: honour HTTPS_PROXY, HTTP_PROXY and NO_PROXY (off for a Bot API
    on this machine, such as the emulator of `ashi demo`, which no proxy can reach).
    `on_unauthorized`: called whenever Telegram answers 401 (the token was revoked), whichever
    call it was, so that the process can end instead of failing call after call.
    """

    __slots__ = (
        "_connect",
        "_media_write",
        "_on_unauthorized",
        "_pool",
        "_pool_size",
        "_read",
        "_session",
        "_trust_env",
        "_write",
    )

    def __init__(
        self,
        connection_pool_size: int = 1,
        *,
        read_timeout: float | None = READ_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
        media_write_timeout: float | None = MEDIA_WRITE_TIMEOUT,
        proxy_from_environment: bool = True,
        on_unauthorized: Callable[[], None] | None = None,
    ) -> None:
        self._pool_size = connection_pool_size
        self._on_unauthorized = on_unauthorized
        self._trust_env = proxy_from_environment
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not name one."""
        return self._read

    async def initialize(self) -> None:
        """Open the connection pool (on the running event loop)."""
        if self._session is None or self._session.closed:
            # Certificates as httpx checks them (certifi's bundle), so a system without
            # its own CA store set up still reaches api.telegram.org.
            tls = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0, ssl=tls)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
                # HTTPS_PROXY / NO_PROXY from the environment, as with PTB's default client.
                trust_env=self._trust_env,
            )

    async def shutdown(self) -> None:
        """Close every connection."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; returns Telegram's status code and body. See BaseRequest."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        uploads = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        write = _given(write_timeout, self._media_write if uploads else self._write)
        timeout = aiohttp.ClientTimeout(
            # aiohttp's `connect` covers waiting for a free connection and opening one.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
            # aiohttp has no write timeout: an upload as a whole is bounded instead.
            total=_upload_bound(connect, pool, write, read) if uploads else None,
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                body = await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise TimedOut from exc
        except TimeoutError as exc:
            # Waiting for the answer, or an upload's overall bound: it may have arrived.
            raise ReplyTimedOut from exc
        except aiohttp.ClientConnectorError as exc:
            # Refused, unreachable, name or TLS failure: nothing was sent.
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        except aiohttp.ClientError as exc:
            # Closed or reset once the request was on its way: it may have arrived.
            raise ConnectionLost(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        if response.status == HTTPStatus.UNAUTHORIZED and self._on_unauthorized is not None:
            self._on_unauthorized()
        return response.status, body


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _upload_bound(*parts: float | None) -> float | None:
    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)


def _body(request_data: RequestData | None) -> aiohttp.FormData | aiohttp.BytesPayload | None:
    """Form fields as HTTPXRequest sends them: urlencoded, or multipart with files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not request_data.contains_files:
        # Encoded here: aiohttp's FormData sets up multipart machinery even for plain forms.
        return aiohttp.BytesPayload(urlencode(fields).encode(), content_type=FORM)
    form = aiohttp.FormData(fields)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
