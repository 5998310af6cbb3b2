"""The terminal chat renderer with scripted input."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.emulator import BotApiEmulator, ChatMessage
from bot.emulator.terminal import (
    HELP,
    NO_REPLY,
    chat_in_terminal,
    render_message,
    render_text,
)
from tests.emulator.conftest import USER, polling_app

SLOW_REPLY = 0.6  # longer than terminal.SETTLE_SECONDS


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    buttons = [[InlineKeyboardButton("Yes", callback_data="yes")]]
    buttons.append([InlineKeyboardButton("No", callback_data="no")])
    await update.message.reply_html("Ready?", reply_markup=InlineKeyboardMarkup(buttons))


async def start_with_alert(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A practitioner's alert, then a patient's question: the demo user gets both."""
    assert update.message is not None
    staff = [InlineKeyboardButton(t, callback_data=f"staff:{t}") for t in ("Open", "Dismiss")]
    await update.message.reply_html("Alert", reply_markup=InlineKeyboardMarkup([staff]))
    await start(update, context)


async def staff_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"Pressed {query.data}")  # a pop-up, nothing else


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
            read_line=scripted(["2", "7", "hi there"]),
            write=output.append,
        )
    # Each prompt waits for the bot's reply, so output and prompts never interleave.
    assert output == [
        HELP + "\n",
        "you> /start\n",  # sent for the person: the bot speaks first
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


async def test_the_terminal_starts_the_conversation(emu: BotApiEmulator) -> None:
    output: list[str] = []
    async with polling_app(emu, CommandHandler("start", start), drop_pending_updates=True):
        await chat_in_terminal(emu, USER, read_line=scripted([]), write=output.append)
    assert output == [
        HELP + "\n",
        "you> /start\n",
        "bot: Ready?\n     [1] Yes  [2] No\n",
        "you> ",
        "\n",
    ]
    assert [m.text for m in emu.chat(USER)] == ["hello", "/start", "Ready?"]


async def test_a_pop_up_answer_is_shown_at_once(emu: BotApiEmulator) -> None:
    output: list[str] = []
    handlers = (CommandHandler("start", start), CallbackQueryHandler(staff_pressed))
    async with polling_app(emu, *handlers, drop_pending_updates=True):
        # Were the pop-up not a reply, the prompt would wait for the full reply timeout.
        async with asyncio.timeout(10):
            await chat_in_terminal(
                emu, USER, read_line=scripted(["1"]), write=output.append, reply_timeout=60
            )
    assert output[-4:] == ["you> ", "bot (pop-up): Pressed yes\n", "you> ", "\n"]
    assert NO_REPLY + "\n" not in output


async def test_practitioner_and_patient_buttons_are_pressed_apart(emu: BotApiEmulator) -> None:
    output: list[str] = []
    handlers = (
        CommandHandler("start", start_with_alert),
        CallbackQueryHandler(staff_pressed, pattern="^staff:"),
        CallbackQueryHandler(chosen),
    )
    async with polling_app(emu, *handlers, drop_pending_updates=True):
        await chat_in_terminal(
            emu,
            USER,
            read_line=scripted(["p2", "1", "p3", "2", "p1"]),
            write=output.append,
            is_staff_button=lambda data: data.startswith("staff:"),
        )
    assert output == [
        HELP + "\n",
        "you> /start\n",
        "bot: Alert\n     [p1] Open  [p2] Dismiss\n",
        "bot: Ready?\n     [1] Yes  [2] No\n",
        "you> ",
        "bot (pop-up): Pressed staff:Dismiss\n",  # p2: the alert's, though it is not the latest
        "you> ",
        "bot (edited): You chose yes\n",  # 1: the question's
        "you> ",
        "(choose a button from p1 to p2)\n",
        "you> ",
        "(there are no buttons to press)\n",  # never the alert's, which still has buttons
        "you> ",
        "bot (pop-up): Pressed staff:Open\n",
        "you> ",
        "\n",
    ]
    assert emu.violations == []


async def test_practitioner_buttons_need_a_practitioner_message(emu: BotApiEmulator) -> None:
    output: list[str] = []
    async with polling_app(emu, CommandHandler("start", start), drop_pending_updates=True):
        await chat_in_terminal(emu, USER, read_line=scripted(["p1"]), write=output.append)
    assert output[-4:] == ["you> ", "(there are no practitioner buttons to press)\n", "you> ", "\n"]


async def test_quit_command_ends_without_sending(emu: BotApiEmulator) -> None:
    output: list[str] = []
    await chat_in_terminal(
        emu,
        USER,
        read_line=scripted(["/quit", "never"]),
        write=output.append,
        first_message=None,
    )
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
