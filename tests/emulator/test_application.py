"""A full PTB Application lifecycle against the emulator."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.emulator import BotApiEmulator
from tests.emulator.conftest import USER, polling_app


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    buttons = [[InlineKeyboardButton("Yes", callback_data="yes")]]
    await update.message.reply_html("<b>Welcome</b>", reply_markup=InlineKeyboardMarkup(buttons))


async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"You chose {query.data}")


async def test_polling_application_round_trip(emu: BotApiEmulator) -> None:
    async with polling_app(emu, CommandHandler("start", start), CallbackQueryHandler(chosen)):
        emu.send_text(USER, "/start")
        welcome = await emu.wait_for_bot_message(USER)
        assert (welcome.text, welcome.html) == ("Welcome", "<b>Welcome</b>")
        query_id = emu.press_button(USER, welcome.message_id, "yes")
        await emu.wait_for(lambda: welcome.edited)
        assert welcome.text == "You chose yes"
        assert welcome.buttons == []
        assert emu.callback_query(query_id).answered
    methods = [call.method for call in emu.transcript]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    # Shutdown confirms the fetched updates with one last non-blocking getUpdates.
    last = emu.transcript[-1]
    assert (last.method, last.params.get("timeout"), last.ok) == ("getUpdates", 0, True)
    assert all(call.ok for call in emu.transcript)
    assert emu.violations == []
