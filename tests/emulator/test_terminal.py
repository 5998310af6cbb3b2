"""The terminal chat renderer with scripted input."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.emulator import BotApiEmulator, ChatMessage
from bot.emulator.terminal import HELP, chat_in_terminal, render_message, render_text
from tests.emulator.conftest import USER, polling_app

SLOW_REPLY = 0.6  # longer than terminal.SETTLE_SECONDS


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    buttons = [[InlineKeyboardButton("Yes", callback_data="yes")]]
    buttons.append([InlineKeyboardButton("No", callback_data="no")])
    await update.message.reply_html("Ready?", reply_markup=InlineKeyboardMarkup(buttons))


async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"You chose {query.data}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await asyncio.sleep(SLOW_REPLY)  # a slow reply: the prompt must still wait for it
    await update.message.reply_html(
        f'<b>Echo</b>: {update.message.text} <a href="https://example.org">more</a>'
    )


def scripted(lines: list[str]) -> Callable[[], Awaitable[str | None]]:
    remaining = list(lines)

    async def read_line() -> str | None:
        return remaining.pop(0) if remaining else None

    return read_line


async def test_chat_in_terminal_round_trip(emu: BotApiEmulator) -> None:
    output: list[str] = []
    handlers = (
        CommandHandler("start", start),
        CallbackQueryHandler(chosen),
        MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
    )
    # The fixture's earlier "hello" is dropped, else its echo would arrive first.
    async with polling_app(emu, *handlers, drop_pending_updates=True):
        await chat_in_terminal(
            emu,
            USER,
            read_line=scripted(["/start", "2", "7", "hi there"]),
            write=output.append,
        )
    # Each prompt waits for the bot's reply, so output and prompts never interleave.
    assert output == [
        HELP + "\n",
        "you> ",
        "bot: Ready?\n     [1] Yes  [2] No\n",
        "you> ",
        "bot (edited): You chose no\n",
        "you> ",
        "(there are no buttons to press)\n",  # the edit removed the keyboard
        "you> ",
        "bot: Echo: hi there more (https://example.org)\n",
        "you> ",
        "\n",  # end of input
    ]
    assert emu.violations == []


async def test_quit_command_ends_without_sending(emu: BotApiEmulator) -> None:
    output: list[str] = []
    await chat_in_terminal(emu, USER, read_line=scripted(["/quit", "never"]), write=output.append)
    assert [m.text for m in emu.chat(USER)] == ["hello"]


def test_render_text_with_color_and_astral_characters() -> None:
    entities = [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "italic", "offset": 3, "length": 1},
    ]
    assert render_text("😀 x", entities, color=True) == "\033[1m😀\033[22m \033[3mx\033[23m"
    assert render_text("😀 x", entities, color=False) == "😀 x"


def test_render_document_message() -> None:
    message = ChatMessage(
        message_id=3,
        from_bot=True,
        text="Your summary",
        kind="document",
        document=b"abc",
        filename="s.pdf",
    )
    assert render_message(message, color=False) == "bot: [document: s.pdf, 3 bytes] Your summary\n"
