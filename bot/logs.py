"""Logging set-up that keeps the bot token out of every log line."""

from __future__ import annotations

import logging

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


def configure_logging(token: str | None, level: int = logging.INFO) -> None:
    """Log to stderr; silence request logs that print URLs (they contain the token)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
