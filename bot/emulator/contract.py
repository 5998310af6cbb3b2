"""Limits the Bot API documents in prose rather than in parameter types.

Each failed check raises a contract-violation ApiError carrying Telegram's wording where
Telegram has one, so the bot sees the same error it would in production and the test sees
a violation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.emulator.models import contract_violation
from bot.telegram_html import (
    HtmlParseError,
    ParsedText,
    clean,
    is_empty_text,
    parse_html,
    plain_text,
)

MAX_TEXT = 4096  # code points of the cleaned text
MAX_RAW_TEXT_BYTES = 32768  # UTF-8 bytes of the text as sent, before any parsing
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_TEXT_METHODS = frozenset({"sendMessage", "editMessageText"})
# Exactly one of these must accompany the text of an inline keyboard button.
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def format_text(params: Mapping[str, object], key: str) -> ParsedText | None:
    """Parse and clean params[key] as the Bot API server and tdlib do; None when absent.

    Raises the error Telegram gives for raw text over 32 KiB, an unknown parse_mode or
    HTML it can't parse. Emptiness and the visible-length limit are the caller's.
    """
    text = params.get(key)
    if not isinstance(text, str):
        return None
    # The Bot API server refuses this before parsing, for text and captions alike.
    if len(text.encode("utf-8", "surrogatepass")) > MAX_RAW_TEXT_BYTES:
        raise contract_violation("text is too long")
    parse_mode = params.get("parse_mode")
    mode = parse_mode.lower() if isinstance(parse_mode, str) else parse_mode
    if mode in (None, "", "none") or not text:
        return clean(plain_text(text))
    if mode in ("markdown", "markdownv2"):
        raise contract_violation(
            f"unsupported parse_mode {parse_mode!r}: emulator supports HTML only"
        )
    if mode != "html":
        raise contract_violation("unsupported parse_mode")
    try:
        return clean(parse_html(text))
    except HtmlParseError as exc:
        raise contract_violation(f"can't parse entities: {exc}") from exc


def check_call(method: str, params: Mapping[str, object]) -> None:
    """Apply the prose-documented limits to an already type-checked call."""
    if method in _TEXT_METHODS:
        check_message_text(params)
    caption = format_text(params, "caption")
    if caption is not None and len(caption.text) > MAX_CAPTION:
        raise contract_violation("message caption is too long")
    markup = params.get("reply_markup")
    if isinstance(markup, dict):
        check_reply_markup(markup)
    if method == "answerCallbackQuery":
        answer = params.get("text")
        if isinstance(answer, str) and len(answer) > MAX_CALLBACK_ANSWER:
            raise contract_violation("MESSAGE_TOO_LONG: callback answer text exceeds 200 chars")
    if method == "setMyCommands":
        check_commands(params.get("commands"))


def check_message_text(params: Mapping[str, object]) -> None:
    """sendMessage/editMessageText text: present, not empty once cleaned, not too long."""
    if params.get("text") == "":
        raise contract_violation("message text is empty")  # the Bot API server's own check
    text = format_text(params, "text")
    if text is not None and is_empty_text(text.text):
        raise contract_violation("text must be non-empty")  # tdlib's "Text must be non-empty"
    # tdlib counts code points (utf8_length) of the cleaned text, not UTF-16 units.
    if text is not None and len(text.text) > MAX_TEXT:
        raise contract_violation("message is too long")


def check_reply_markup(markup: Mapping[str, object]) -> None:
    """Validate an inline keyboard's buttons (other keyboards: button text only)."""
    if "inline_keyboard" in markup:
        for button in _buttons(markup["inline_keyboard"], "inline_keyboard"):
            _check_inline_button(button)
    elif "keyboard" in markup:
        for button in _buttons(markup["keyboard"], "keyboard"):
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text:
                raise contract_violation("keyboard button text must be a non-empty string")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise contract_violation("can't parse reply keyboard markup JSON object")


def _buttons(rows: object, field: str) -> list[object]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise contract_violation(f'field "{field}" of the reply markup must be an Array of Array')
    return [button for row in rows for button in row]


def _check_inline_button(button: object) -> None:
    if not isinstance(button, dict):
        raise contract_violation("can't parse inline keyboard button: object expected")
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise contract_violation("can't parse inline keyboard button: text must be non-empty")
    actions = [name for name in _INLINE_BUTTON_ACTIONS if name in button]
    if len(actions) != 1:
        raise contract_violation(
            "can't parse inline keyboard button: exactly one optional field must be used, "
            f"got {actions or 'none'}"
        )
    data = button.get("callback_data")
    if "callback_data" in button and not (
        isinstance(data, str) and 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
    ):
        raise contract_violation("BUTTON_DATA_INVALID: callback_data must be 1-64 bytes")


def check_commands(commands: object) -> None:
    """Validate setMyCommands' list of BotCommand objects."""
    if not isinstance(commands, list):
        raise contract_violation("commands must be an array")
    if len(commands) > MAX_COMMANDS:
        raise contract_violation("too many commands (at most 100)")
    for item in commands:
        if not isinstance(item, dict):
            raise contract_violation("BotCommand must be an object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND_RE.fullmatch(command):
            raise contract_violation(f"BOT_COMMAND_INVALID: {command!r}")
        if not isinstance(description, str) or not (
            1 <= len(description) <= MAX_COMMAND_DESCRIPTION
        ):
            raise contract_violation(f"BOT_COMMAND_DESCRIPTION_INVALID for {command!r}")
