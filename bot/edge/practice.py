"""Telegram handlers for practitioners' commands and buttons."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot.edge.delivery import deliver
from bot.edge.patient import who
from bot.practice.service import VERBS, PracticeService

# Callback data of the practitioners' verbs ("o:...", "w:...", "p:...").
BUTTON_PATTERN = "^(" + "|".join(sorted(verb.value for verb in VERBS)) + "):"


class PracticeHandlers:
    """Thin translations to PracticeService, which decides who may see what."""

    def __init__(self, service: Callable[[], PracticeService]) -> None:
        self._service = service

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any of the practitioners' commands."""
        sender, message = who(update), update.effective_message
        if sender is None or message is None or not message.text:
            return
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        outcome = await self._service().command(sender, name, list(context.args or []))
        await deliver(context.bot, sender.chat_id, outcome)

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Practitioner buttons (open record, mark reviewed, pages)."""
        sender, query = who(update), update.callback_query
        if sender is None or query is None:
            return
        outcome = await self._service().button(sender, query.data or "")
        await deliver(context.bot, sender.chat_id, outcome, query)
