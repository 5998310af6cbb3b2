"""Updates POSTed to the bot's webhook the way Telegram does: the oldest pending one at a
time (so each chat's stay in order), the secret in X-Telegram-Bot-Api-Secret-Token, tried
again with growing pauses until the bot answers 200."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from bot.emulator.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FIRST_PAUSE = 0.05  # seconds before a failed delivery is tried again (Telegram: longer)
MAX_PAUSE = 2.0


async def deliver(world: World) -> None:
    """Deliver pending updates to the webhook until the world closes (run as a task)."""
    pause = FIRST_PAUSE
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while (update := await world.next_for_webhook()) is not None:
            webhook = world.webhook
            if webhook is None:
                continue
            headers = {SECRET_HEADER: webhook.secret} if webhook.secret is not None else {}
            webhook.attempts += 1
            status = None
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.post(webhook.url, json=update, headers=headers) as answer:
                    status = answer.status
            if status == 200:
                world.delivered(update)
                webhook.last_error = None
                pause = FIRST_PAUSE
                continue
            webhook.last_error = (
                f"Wrong response from the webhook: {status}" if status else "Connection refused"
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)
