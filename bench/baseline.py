"""The baseline: a bare python-telegram-bot application, as its documentation would write it.

Long polling, PTB's default one-update-at-a-time processing, no rate limiter, no storage, and
a three-step inline-keyboard conversation (ConversationHandler, state in memory). Each button
press is handled like Ashi handles one: edit the pressed message, send the next question,
answer the press.
"""

from __future__ import annotations

import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
)
from telegram.warnings import PTBUserWarning

STEPS = (
    ("Where does it hurt?", ("Neck", "Back", "Legs")),
    ("How strong is the pain?", ("Mild", "Moderate", "Severe")),
    ("For how long?", ("Days", "Weeks", "Months")),
)
DONE = "Thank you, that is all."


def keyboard(step: int) -> InlineKeyboardMarkup:
    """The answer buttons of a step; callback data is "step:answer"."""
    _, answers = STEPS[step]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(a, callback_data=f"{step}:{i}") for i, a in enumerate(answers)]]
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/start: the first question."""
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, STEPS[0][0], reply_markup=keyboard(0))
    return 0


def answer_step(step: int):  # type: ignore[no-untyped-def]
    """The callback for a press on the buttons of `step`."""

    async def answered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None and query.data is not None and update.effective_chat
        _, index = query.data.split(":")
        question, answers = STEPS[step]
        await query.edit_message_text(f"{question}\n{answers[int(index)]}")
        following = step + 1
        if following < len(STEPS):
            await context.bot.send_message(
                update.effective_chat.id, STEPS[following][0], reply_markup=keyboard(following)
            )
        else:
            await context.bot.send_message(update.effective_chat.id, DONE)
        await query.answer()
        return following if following < len(STEPS) else ConversationHandler.END

    return answered


def build_baseline(token: str, base_url: str) -> Application:  # type: ignore[type-arg]
    """The bare application against the Bot API at base_url."""
    app = ApplicationBuilder().token(token).base_url(base_url).build()
    with warnings.catch_warnings():
        # per_message=False with CallbackQueryHandlers is the intended, per-chat design.
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states={
                step: [CallbackQueryHandler(answer_step(step), pattern=rf"^{step}:")]
                for step in range(len(STEPS))
            },
            fallbacks=[CommandHandler("start", start)],
        )
    app.add_handler(conversation)
    return app
