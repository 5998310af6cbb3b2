"""The emulator over real HTTP, driven by a real PTB Bot (and raw aiohttp for malformed calls)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter

from bot.emulator import BotApiEmulator
from tests.emulator.conftest import USER


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.title(), callback_data=d) for d in data]])


async def raw_call(
    emu: BotApiEmulator, method: str, *, data: dict[str, str] | None = None, json: Any = None
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.base_url}{emu.token}/{method}", data=data, json=json) as response,
    ):
        return response.status, await response.json()


async def confirm_all(bot: Bot) -> int:
    """Confirm every pending update; return the next offset."""
    updates = await bot.get_updates()
    offset = updates[-1].update_id + 1 if updates else 0
    await bot.get_updates(offset=offset)
    return offset


async def test_send_message_appears_in_chat(emu: BotApiEmulator, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Hi <b>Pat</b>", parse_mode="HTML")
    assert sent.text == "Hi Pat"
    assert sent.entities == (MessageEntity("bold", 3, 3),)
    last = emu.chat(USER)[-1]
    assert (last.message_id, last.from_bot, last.text, last.html) == (
        sent.message_id,
        True,
        "Hi Pat",
        "Hi <b>Pat</b>",
    )
    assert [m.text for m in emu.chat(USER)] == ["hello", "Hi Pat"]
    assert emu.violations == []


async def test_unknown_parameter_is_a_violation(emu: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)unknown parameter 'foo'"):
        await bot.send_message(USER, "x", api_kwargs={"foo": "bar"})
    assert emu.violations == ["sendMessage: unknown parameter 'foo'"]
    assert emu.bot_messages(USER) == []


async def test_missing_required_parameter(emu: BotApiEmulator) -> None:
    status, body = await raw_call(emu, "sendMessage", data={"chat_id": str(USER)})
    assert status == 400
    assert body["ok"] is False
    assert emu.violations == ["sendMessage: missing required parameter 'text'"]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"chat_id": USER, "message_id": "abc"}, "'message_id' must be Integer"),
        ({"chat_id": USER, "message_id": 1.5}, "'message_id' must be Integer"),
    ],
)
async def test_parameter_types_are_checked(
    emu: BotApiEmulator, params: dict[str, Any], problem: str
) -> None:
    status, _ = await raw_call(emu, "deleteMessage", json=params)
    assert status == 400
    assert len(emu.violations) == 1
    assert problem in emu.violations[0]


async def test_form_and_json_encodings_are_both_accepted(emu: BotApiEmulator) -> None:
    markup = '{"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}'
    form = {"chat_id": str(USER), "text": "form", "disable_notification": "true"}
    status, body = await raw_call(emu, "sendMessage", data={**form, "reply_markup": markup})
    assert (status, body["result"]["text"]) == (200, "form")
    status, body = await raw_call(
        emu, "sendMessage", json={"chat_id": USER, "text": "json", "disable_notification": True}
    )
    assert (status, body["result"]["text"]) == (200, "json")
    assert emu.bot_messages(USER)[0].buttons[0][0].callback_data == "y"
    bad = {**form, "disable_notification": "yes"}
    status, _ = await raw_call(emu, "sendMessage", data=bad)
    assert status == 400
    assert emu.violations == [
        "sendMessage: parameter 'disable_notification' must be Boolean, got 'yes'"
    ]


async def test_text_length_limit_counts_visible_text(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.send_message(USER, "a" * 4096)
    await bot.send_message(USER, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    assert emu.violations == []
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(USER, "a" * 4097)
    assert emu.violations == ["sendMessage: message is too long"]
    assert len(emu.bot_messages(USER)) == 2


async def test_empty_text_is_rejected(emu: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)empty"):
        await bot.send_message(USER, "  \n ")
    assert emu.violations == ["sendMessage: text must be non-empty"]


async def test_callback_data_limit_is_64_bytes(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard("é" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "too long", reply_markup=keyboard("é" * 32 + "x"))
    assert len(emu.violations) == 1
    assert [m.text for m in emu.bot_messages(USER)] == ["ok"]


@pytest.mark.parametrize(
    "html",
    [
        "<b>unclosed",
        "<blink>unknown</blink>",
        "1 < 2",
        "fish & chips",
        "<b><i>crossed</b></i>",
        "<a>no href</a>",
        '<span class="x">bad span</span>',
        "&nbsp;",
    ],
)
async def test_invalid_html_is_rejected(emu: BotApiEmulator, bot: Bot, html: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)parse entities"):
        await bot.send_message(USER, html, parse_mode="HTML")
    assert len(emu.violations) == 1
    assert emu.violations[0].startswith("sendMessage: can't parse entities: ")


async def test_valid_nested_html_gives_visible_text(emu: BotApiEmulator, bot: Bot) -> None:
    html = (
        '<b>bold <i>both</i></b> <a href="https://x.org/?a=1&amp;b=2">link</a> '
        "&lt;3 &#128512; &quot;q&quot; <tg-spoiler>s</tg-spoiler>"
    )
    sent = await bot.send_message(USER, html, parse_mode="HTML")
    expected = 'bold both link <3 \U0001f600 "q" s'
    assert sent.text == expected
    assert emu.chat(USER)[-1].text == expected
    kinds = {(e.type, e.offset, e.length) for e in sent.entities}
    assert kinds == {
        ("bold", 0, 9),
        ("italic", 5, 4),
        ("text_link", 10, 4),
        ("spoiler", 25, 1),
    }  # 😀 is 2 UTF-16 units
    assert sent.entities[2].url == "https://x.org/?a=1&b=2"
    assert emu.violations == []


async def test_markdown_is_refused(emu: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)HTML only"):
        await bot.send_message(USER, "*x*", parse_mode="MarkdownV2")
    assert len(emu.violations) == 1


async def test_chat_not_found_is_real_behaviour_not_a_violation(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.add_user(7, "Silent")  # known user, but never wrote to the bot
    for chat_id in (7, 999):
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(chat_id, "hi")
    assert emu.violations == []
    assert [(c.method, c.error_code) for c in emu.transcript[-2:]] == [("sendMessage", 400)] * 2


async def test_blocked_user_gives_forbidden(emu: BotApiEmulator, bot: Bot) -> None:
    await confirm_all(bot)
    emu.block_bot(USER)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(USER, "hi")
    (update,) = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert emu.violations == []


async def test_rate_limit_after_burst(limited_emu: BotApiEmulator) -> None:
    emu = limited_emu
    async with Bot(emu.token, base_url=emu.base_url) as bot:
        sent = [await bot.send_message(USER, f"m{i}") for i in range(3)]
        with pytest.raises(RetryAfter, match="Retry in 2 seconds"):  # one token at 0.5/s
            await bot.send_message(USER, "one too many")
        # Edits and chat actions do not count against the limit.
        await bot.edit_message_text("edited", chat_id=USER, message_id=sent[0].message_id)
        await bot.send_chat_action(USER, "typing")
    last = emu.transcript[-3]
    assert (last.error_code, last.description) == (429, "Too Many Requests: retry after 2")
    assert emu.violations == []


async def test_long_poll_wakes_up_on_new_message(emu: BotApiEmulator, bot: Bot) -> None:
    offset = await confirm_all(bot)
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(bot.get_updates(offset=offset, timeout=30))
    await emu.wait_for(lambda: emu.is_polling, timeout=5)
    started = loop.time()
    emu.send_text(USER, "/start ref_42")
    updates = await asyncio.wait_for(poll, 5)
    assert loop.time() - started < 1.0
    (update,) = updates
    assert update.message is not None
    assert update.message.text == "/start ref_42"
    assert update.message.entities == (MessageEntity("bot_command", 0, 6),)
    # Unconfirmed updates come back; confirmed ones do not.
    assert [u.update_id for u in await bot.get_updates(offset=offset)] == [update.update_id]
    assert await bot.get_updates(offset=update.update_id + 1) == ()


async def test_long_poll_honours_timeout(emu: BotApiEmulator, bot: Bot) -> None:
    offset = await confirm_all(bot)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(offset=offset, timeout=1) == ()
    assert 0.9 <= loop.time() - started < 3


async def test_get_updates_respects_limit_and_allowed_updates(
    emu: BotApiEmulator, bot: Bot
) -> None:
    offset = await confirm_all(bot)
    await bot.get_updates(offset=offset, allowed_updates=["callback_query"])
    emu.send_text(USER, "ignored")
    assert await bot.get_updates(offset=offset) == ()
    await bot.get_updates(offset=offset, allowed_updates=[])
    for text in ("a", "b", "c"):
        emu.send_text(USER, text)
    updates = await bot.get_updates(offset=offset, limit=2)
    assert [u.message.text for u in updates if u.message] == ["a", "b"]
    assert updates[0].update_id + 1 == updates[1].update_id


async def test_user_edits_stickers_and_photos_parse(emu: BotApiEmulator, bot: Bot) -> None:
    offset = await confirm_all(bot)
    message_id = emu.send_text(USER, "typo")
    emu.edit_text(USER, message_id, "fixed")
    emu.send_sticker(USER)
    emu.send_photo(USER)
    updates = await bot.get_updates(offset=offset)
    assert updates[0].message is not None
    assert updates[1].edited_message is not None
    assert updates[1].edited_message.text == "fixed"
    assert updates[2].message is not None
    assert updates[2].message.sticker is not None
    assert updates[3].message is not None
    assert updates[3].message.photo
    assert emu.chat(USER)[1].edited


async def test_press_button_produces_callback_query(emu: BotApiEmulator, bot: Bot) -> None:
    offset = await confirm_all(bot)
    sent = await bot.send_message(USER, "Continue?", reply_markup=keyboard("yes", "no"))
    query_id = emu.press_button(USER, sent.message_id, "no")
    (update,) = await bot.get_updates(offset=offset)
    query = update.callback_query
    assert query is not None
    assert (query.id, query.data, query.from_user.id) == (query_id, "no", USER)
    assert isinstance(query.message, Message)
    assert query.message.text == "Continue?"
    assert query.message.reply_markup == keyboard("yes", "no")
    assert await query.answer("Noted")
    assert emu.callback_query(query_id).answer_text == "Noted"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")
    with pytest.raises(ValueError, match="no button 'maybe'"):
        emu.press_button(USER, sent.message_id, "maybe")
    emu.press_raw(USER, sent.message_id, "forged")
    assert emu.violations == []


async def test_edits_follow_telegram_rules(emu: BotApiEmulator, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Question", reply_markup=keyboard("yes"))
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard("yes"))
    # Omitting reply_markup in editMessageText removes the keyboard, as on Telegram.
    await bot.edit_message_text("Answered", chat_id=USER, message_id=sent.message_id)
    edited = emu.bot_messages(USER)[0]
    assert (edited.text, edited.buttons, edited.edited) == ("Answered", [], True)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Answered", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(ValueError, match="no button"):
        emu.press_button(USER, sent.message_id, "yes")
    assert await bot.delete_message(USER, sent.message_id)
    assert emu.bot_messages(USER) == []
    with pytest.raises(BadRequest, match=r"(?i)not found"):
        await bot.delete_message(USER, sent.message_id)
    assert emu.violations == []


async def test_send_document_keeps_bytes_and_name(emu: BotApiEmulator, bot: Bot) -> None:
    sent = await bot.send_document(USER, b"%PDF-1.4 data", filename="intake.pdf", caption="Yours")
    assert sent.document is not None
    assert sent.document.file_name == "intake.pdf"
    doc = emu.bot_messages(USER)[-1]
    assert (doc.kind, doc.document, doc.filename, doc.text) == (
        "document",
        b"%PDF-1.4 data",
        "intake.pdf",
        "Yours",
    )
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1025)


async def test_bot_commands_are_validated_and_stored(emu: BotApiEmulator, bot: Bot) -> None:
    assert await bot.set_my_commands([("start", "Begin intake"), ("help", "Help")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert await bot.get_my_commands(language_code="he") == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Start", "Capitalised")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert len(emu.violations) == 1


async def test_unknown_and_unimplemented_methods(emu: BotApiEmulator, bot: Bot) -> None:
    status, body = await raw_call(emu, "sendFoo", json={})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    with pytest.raises(BadRequest, match=r"(?i)method not implemented"):
        await bot.send_sticker(USER, "CAACAgIAAxkBAAE")
    assert emu.violations == [
        "sendFoo: Not Found",
        "sendSticker: emulator: method not implemented: sendSticker",
    ]


async def test_wrong_token_is_unauthorized(emu: BotApiEmulator) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=emu.base_url):
            pass
    assert emu.transcript[-1].error_code == 401


async def test_inject_failure(emu: BotApiEmulator, bot: Bot) -> None:
    emu.inject_failure("sendMessage", status=429, description="Too Many Requests", retry_after=3)
    emu.inject_failure("sendMessage", status=400, description="Bad Request: boom", times=2)
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "a")
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)boom"):
            await bot.send_message(USER, "b")
    await bot.send_message(USER, "c")
    assert [m.text for m in emu.bot_messages(USER)] == ["c"]
    assert emu.violations == []
    with pytest.raises(ValueError, match="not a Bot API method"):
        emu.inject_failure("sendmessage", status=500, description="x")


async def test_wait_for_times_out_with_context(emu: BotApiEmulator) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError, match=r"(?s)within 0.2s.*'hello'"):
        await emu.wait_for_bot_message(USER, timeout=0.2)
    assert 0.2 <= loop.time() - started < 2
    assert await emu.wait_for(lambda: emu.chat(USER)[0].text) == "hello"


def png_header(width: int, height: int, padding: int = 0) -> bytes:
    """The start of a PNG of this size (all the emulator reads), padded to a file size."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes(5)
    return b"\x89PNG\r\n\x1a\n" + bytes(4) + b"IHDR" + ihdr + bytes(4 + padding)


async def test_photos_are_held_to_telegrams_limits(emu: BotApiEmulator, bot: Bot) -> None:
    sent = await bot.send_photo(USER, png_header(1200, 800), caption="Course")
    assert sent.photo and emu.chat(USER)[-1].text == "Course"
    for width, height in ((6000, 4001), (4200, 200)):  # over 10,000 in all; ratio over 20
        with pytest.raises(BadRequest, match=r"(?i)photo_invalid_dimensions"):
            await bot.send_photo(USER, png_header(width, height))
    with pytest.raises(BadRequest, match=r"(?i)photo_save_file_invalid"):
        await bot.send_photo(USER, png_header(100, 100, padding=10 * 1024 * 1024))
    assert emu.violations == []
