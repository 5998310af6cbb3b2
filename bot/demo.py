"""`ashi demo`: the real bot against the local Bot API emulator, chatted with in a terminal."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.edge.app import build_application, serving
from bot.edge.practice import BUTTON_PATTERN
from bot.emulator.server import BotApiEmulator
from bot.emulator.terminal import chat_in_terminal
from bot.logs import RedactToken
from bot.settings import Settings

DEMO_USER = 1001
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # as bot.logs writes to stderr
NOISY_LOGGERS = ("httpx", "httpcore", "aiohttp.access")  # a line per request, URLs with the token
_PRACTITIONER_BUTTON = re.compile(BUTTON_PATTERN)


def is_practitioner_button(callback_data: str) -> bool:
    """Whether a button is one of the practitioner's (the demo user is both)."""
    return _PRACTITIONER_BUTTON.match(callback_data) is not None


async def _read_line() -> str | None:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.rstrip("\n") if line else None


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@contextlib.contextmanager
def _logging_to_file(token: str) -> Iterator[Path]:
    """Send all log lines to a new file, kept afterwards, instead of into the chat."""
    fd, name = tempfile.mkstemp(prefix="ashi-demo-", suffix=".log")
    os.close(fd)
    handler = logging.FileHandler(name, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for logger in noisy:
        logging.getLogger(logger).setLevel(logging.WARNING)
    try:
        yield Path(name)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for logger, level in noisy.items():
            logging.getLogger(logger).setLevel(level)
        handler.close()


async def run_demo(settings: Settings, *, db_path: Path | None = None) -> None:
    """Chat with the bot in this terminal until /quit or end of input; log to a file."""
    emulator = BotApiEmulator()
    with _logging_to_file(emulator.token) as log_path:
        _write(f"Log: {log_path}\n")
        await emulator.start()
        emulator.add_user(DEMO_USER, "You", language_code="en")
        with tempfile.TemporaryDirectory(prefix="ashi-demo-") as scratch:
            demo_settings = dataclasses.replace(
                settings,
                token=emulator.token,
                api_url=emulator.base_url,
                db_path=db_path or Path(scratch) / "demo.sqlite3",
                # Without configured practitioners, you also see what the practitioner receives.
                practitioner_ids=settings.practitioner_ids or frozenset({DEMO_USER}),
            )
            app = build_application(demo_settings)
            try:
                async with serving(app, poll_timeout=1):
                    await chat_in_terminal(
                        emulator,
                        DEMO_USER,
                        read_line=_read_line,
                        write=_write,
                        color=sys.stdout.isatty(),
                        is_staff_button=is_practitioner_button,
                    )
            finally:
                await emulator.stop()
