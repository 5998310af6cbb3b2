"""Logging set-up that keeps the bot token out of every log line."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

_FORMATTER = logging.Formatter()


class RedactToken(logging.Filter):
    """Replace the token wherever it appears in a record's rendered message."""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self._token:
            message = record.getMessage()
            if self._token in message:
                record.msg = message.replace(self._token, "<token>")
                record.args = ()
            if record.exc_info and not record.exc_text:
                # Exception messages can hold it too (PTB's InvalidToken does): format the
                # traceback here, redacted; formatters use exc_text when it is set.
                text = _FORMATTER.formatException(record.exc_info)
                record.exc_text = text.replace(self._token, "<token>")
        return True


def redact_tracebacks(token: str | None) -> None:
    """Uncaught exceptions (in any thread) print their traceback with the token replaced:
    a URL in an exception's message would otherwise show it."""
    if not token:
        return

    def write(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(text.replace(token, "<token>"))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            write(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = write
    threading.excepthook = thread_hook


def configure_logging(
    token: str | None, level: int = logging.INFO, handler: logging.Handler | None = None
) -> None:
    """Log to stderr (or `handler`), token redacted everywhere, warnings included; silence
    request logs that print URLs (they contain the token)."""
    redact_tracebacks(token)
    logging.captureWarnings(True)
    handler = handler or logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # At DEBUG these libraries log request bodies and whole updates: message texts and
    # answers. They stay at INFO whatever the level asked for.
    for library in ("telegram", "aiohttp", "apscheduler", "aiosqlite", "asyncio"):
        logging.getLogger(library).setLevel(max(level, logging.INFO))
