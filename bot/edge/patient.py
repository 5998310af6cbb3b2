"""Telegram handlers for patients: translate updates into calls on the router."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.edge.delivery import deliver
from bot.edge.router import Router
from bot.intake.service import IntakeService
from bot.vocabulary.outgoing import Outcome
from bot.vocabulary.people import Who

log = logging.getLogger(__name__)


def who(update: Update) -> Who | None:
    """The user and chat an update comes from, if it has both and the chat is the user's
    private chat with the bot. Anything from a group or channel (a button of a forwarded
    message pressed there included) is ignored: a patient's chat id is only ever learnt
    from their private chat, and nothing of theirs is ever sent into a group."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return None
    return Who(
        user_id=user.id,
        chat_id=chat.id,
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
    )


class PatientHandlers:
    """The callbacks registered with the application; each is a thin translation to the
    router, which hands the update to its feature."""

    def __init__(self, router: Callable[[], Router], intake: Callable[[], IntakeService]) -> None:
        self._router = router
        self._intake = intake

    async def _reply(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome
    ) -> None:
        sender = who(update)
        if sender is not None:
            intake = self._intake()
            await deliver(
                context.bot,
                sender.chat_id,
                outcome,
                update.callback_query,
                intake.mark_notified,
                intake.mark_guided,
            )

    async def flooded(self, bot: Bot, update: object, warn: bool) -> None:
        """An update dropped because its chat floods the bot: its button press is
        answered, and the chat is told to slow down when `warn`."""
        if not isinstance(update, Update) or (sender := who(update)) is None:
            return
        outcome = await self._router().slow_down(sender) if warn else Outcome()
        try:
            await deliver(bot, sender.chat_id, outcome, update.callback_query)
        except TelegramError as exc:
            log.info("could not ask a chat to slow down: %s", type(exc).__name__)

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any /command (the router knows which feature has it)."""
        sender, message = who(update), update.message
        if sender is None or message is None or not message.text:
            return
        words = message.text.split()
        name = words[0].lstrip("/").split("@")[0].lower()
        outcome = await self._router().command(sender, name, words[1:])
        await self._reply(update, context, outcome)

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A plain text message."""
        sender = who(update)
        if sender is None or update.message is None or update.message.text is None:
            return
        await self._reply(update, context, await self._router().text(sender, update.message.text))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An inline button press."""
        sender, query = who(update), update.callback_query
        if sender is None or query is None:
            return
        await self._reply(update, context, await self._router().button(sender, query.data or ""))

    async def unexpected(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, edited messages and anything else without a use."""
        if sender := who(update):
            edited = update.edited_message is not None
            outcome = await self._router().unexpected(sender, edited=edited)
            await self._reply(update, context, outcome)
