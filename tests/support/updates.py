"""Telegram updates built in memory."""

from __future__ import annotations

from telegram import Chat, Update, User
from telegram import Message as TgMessage


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "Pat", is_bot=False)
    message = TgMessage(update_id, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)
