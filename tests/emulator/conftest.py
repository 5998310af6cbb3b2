"""Fixtures: a running emulator with one user, and a PTB Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Bot
from telegram.ext import Application, BaseHandler

from bot.emulator import BotApiEmulator, RateLimits

USER = 42


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(rate_limits=None)
    await emulator.start()
    emulator.add_user(USER, "Pat")
    emulator.send_text(USER, "hello")  # the chat exists once the user has written
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def limited_emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(rate_limits=RateLimits(per_chat_burst=3, per_chat_per_second=0.5))
    await emulator.start()
    emulator.send_text(USER, "hello")
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url) as ptb_bot:
        yield ptb_bot


@asynccontextmanager
async def polling_app(
    emulator: BotApiEmulator,
    *handlers: BaseHandler[Any, Any, Any],
    drop_pending_updates: bool = False,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB Application polling the emulator, stopped cleanly on exit."""
    app = Application.builder().token(emulator.token).base_url(emulator.base_url).build()
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, drop_pending_updates=drop_pending_updates)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
