"""Telegram handlers for patients: translate updates into IntakeService calls."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.edge.delivery import deliver
from bot.intake.service import IntakeService
from bot.vocabulary.outgoing import Outcome
from bot.vocabulary.people import Who

log = logging.getLogger(__name__)
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


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
    """The callbacks registered with the application; each is a thin translation."""

    def __init__(self, service: Callable[[], IntakeService]) -> None:
        self._service = service

    async def _who(self, update: Update) -> Who | None:
        """The sender, in the language they chose."""
        sender = who(update)
        return await self._service().localised(sender) if sender else None

    async def _reply(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome
    ) -> None:
        sender = who(update)
        if sender is not None:
            service = self._service()
            await deliver(
                context.bot,
                sender.chat_id,
                outcome,
                update.callback_query,
                service.mark_notified,
                service.mark_guided,
            )

    async def flooded(self, bot: Bot, update: object, warn: bool) -> None:
        """An update dropped because its chat floods the bot: its button press is
        answered, and the chat is told to slow down when `warn`."""
        if not isinstance(update, Update) or (sender := await self._who(update)) is None:
            return
        outcome = self._service().slow_down(sender) if warn else Outcome()
        try:
            await deliver(bot, sender.chat_id, outcome, update.callback_query)
        except TelegramError as exc:
            log.info("could not ask a chat to slow down: %s", type(exc).__name__)

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start [PAYLOAD]."""
        sender = await self._who(update)
        if sender is None:
            return
        args = context.args or []
        payload = args[0] if len(args) == 1 and START_PAYLOAD.match(args[0]) else None
        await self._reply(update, context, await self._service().start(sender, payload))

    async def guide(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/guide."""
        if sender := await self._who(update):
            await self._reply(update, context, await self._service().guide(sender))

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help."""
        if sender := await self._who(update):
            await self._reply(update, context, self._service().help(sender))

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/cancel."""
        if sender := await self._who(update):
            await self._reply(update, context, await self._service().cancel(sender))

    async def privacy(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/privacy."""
        if sender := await self._who(update):
            await self._reply(update, context, self._service().privacy(sender))

    async def language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/language."""
        if sender := await self._who(update):
            await self._reply(update, context, self._service().language_choice(sender))

    async def mydata(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/mydata."""
        if sender := await self._who(update):
            await self._reply(update, context, await self._service().mydata(sender))

    async def delete(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/delete."""
        if sender := await self._who(update):
            await self._reply(update, context, await self._service().delete(sender))

    async def reminders(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/reminders on|off."""
        if sender := await self._who(update):
            argument = context.args[0].lower() if context.args else None
            await self._reply(update, context, await self._service().reminders(sender, argument))

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any other /command."""
        if sender := await self._who(update):
            await self._reply(update, context, self._service().unknown_command(sender))

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A plain text message."""
        sender = await self._who(update)
        if sender is None or update.message is None or update.message.text is None:
            return
        await self._reply(update, context, await self._service().text(sender, update.message.text))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An inline button press."""
        sender, query = await self._who(update), update.callback_query
        if sender is None or query is None:
            return
        await self._reply(update, context, await self._service().button(sender, query.data or ""))

    async def unexpected(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, edited messages and anything else without a use."""
        if sender := await self._who(update):
            edited = update.edited_message is not None
            outcome = await self._service().unexpected(sender, edited=edited)
            await self._reply(update, context, outcome)
