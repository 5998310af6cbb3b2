"""`ashi demo`: the real bot against the local Bot API emulator, chatted with in a terminal."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
from pathlib import Path

from bot.app import build_application, serving
from bot.emulator.server import BotApiEmulator
from bot.emulator.terminal import chat_in_terminal
from bot.settings import Settings

DEMO_USER = 1001


async def _read_line() -> str | None:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.rstrip("\n") if line else None


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


async def run_demo(settings: Settings, *, db_path: Path | None = None) -> None:
    """Chat with the bot in this terminal until /quit or end of input."""
    emulator = BotApiEmulator()
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
                )
        finally:
            await emulator.stop()
