"""Implementations of the Bot API methods the emulator supports.

Handlers receive parameters already type-checked and decoded by the schema and return the
`result` Telegram would send. Errors Telegram itself would give (chat not found, message not
modified, ...) are raised as plain ApiErrors; broken call contracts as violations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from bot.emulator.contract import format_text
from bot.emulator.models import (
    ApiError,
    ChatMessage,
    JsonDict,
    SimUser,
    UploadedFile,
    bad_request,
    contract_violation,
)
from bot.emulator.world import Webhook, World, buttons_from_markup

Params = dict[str, Any]
Handler = Callable[[Params], Awaitable[object]]

WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})  # the ones Telegram delivers to
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


def _inline_markup(params: Params) -> JsonDict | None:
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def _scope_key(params: Params) -> str:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)


class BotApiMethods:
    """The supported methods, keyed by their Bot API name in `handlers`."""

    def __init__(self, world: World, me: JsonDict) -> None:
        self.world = world
        self.me = me
        self.commands: dict[str, list[JsonDict]] = {}
        self.menu_buttons: dict[int | None, JsonDict] = {}
        self.handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendDocument": self.send_document,
            "sendPhoto": self.send_photo,
            "sendChatAction": self.send_chat_action,
        }

    # ---- bot setup ---------------------------------------------------------------------

    async def get_me(self, params: Params) -> object:
        """getMe: the bot's User object."""
        return self.me

    async def get_updates(self, params: Params) -> object:
        """getUpdates with long polling."""
        return await self.world.get_updates(
            params.get("offset"),
            params.get("limit", 100),
            params.get("timeout", 0),
            params.get("allowed_updates"),
        )

    async def set_webhook(self, params: Params) -> object:
        """setWebhook: updates are POSTed to `url` from now on (getUpdates is refused).
        Telegram takes HTTPS on ports 443, 80, 88 or 8443; the emulator also plain HTTP to
        this machine, for the tests."""
        if not params["url"]:  # an empty address removes the webhook, as on Telegram
            self.world.set_webhook(None)
            return True
        try:
            url = urlsplit(str(params["url"]))
            port = url.port
        except ValueError as exc:
            raise bad_request("bad webhook: Failed to resolve host") from exc
        local = url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost")
        if not local and url.scheme != "https":
            raise bad_request("bad webhook: HTTPS url must be provided for webhook")
        if not local and (port or 443) not in WEBHOOK_PORTS:
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = params.get("secret_token")
        if secret is not None and not WEBHOOK_SECRET.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.world.allowed_updates = frozenset(allowed) if allowed else None
        if params.get("drop_pending_updates"):
            self.world.pending.clear()
        self.world.set_webhook(Webhook(url.geturl(), None if secret is None else str(secret)))
        return True

    async def delete_webhook(self, params: Params) -> object:
        """deleteWebhook: back to getUpdates; optionally drop pending updates."""
        if params.get("drop_pending_updates"):
            self.world.pending.clear()
        self.world.set_webhook(None)
        return True

    async def get_webhook_info(self, params: Params) -> object:
        """getWebhookInfo: the webhook's URL ("" while polling) and pending updates."""
        webhook = self.world.webhook
        info: JsonDict = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.pending),
        }
        if webhook is not None and webhook.last_error is not None:
            info["last_error_message"] = webhook.last_error
        return info

    async def set_my_commands(self, params: Params) -> object:
        """setMyCommands per (scope, language_code); a chat scope needs a chat the bot
        knows (Telegram: "chat not found" until the user has started the bot)."""
        scope = params.get("scope")
        if isinstance(scope, dict) and "chat_id" in scope:
            user = self.world.users.get(scope["chat_id"])
            if user is None or not user.started:
                raise bad_request("chat not found")
        self.commands[_scope_key(params)] = params["commands"]
        return True

    async def get_my_commands(self, params: Params) -> object:
        """getMyCommands for exactly that (scope, language_code)."""
        return self.commands.get(_scope_key(params), [])

    async def delete_my_commands(self, params: Params) -> object:
        """deleteMyCommands for that (scope, language_code)."""
        self.commands.pop(_scope_key(params), None)
        return True

    async def set_chat_menu_button(self, params: Params) -> object:
        """setChatMenuButton for one private chat or the default."""
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self.world.chat_for_bot(chat_id)
        self.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
        return True

    async def get_chat_menu_button(self, params: Params) -> object:
        """getChatMenuButton, falling back to the default button."""
        chat_id = params.get("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}

    # ---- messages ----------------------------------------------------------------------

    async def send_message(self, params: Params) -> object:
        """sendMessage."""
        user = self.world.chat_for_bot(params["chat_id"])
        formatted = format_text(params, "text")
        assert formatted is not None  # text is required by the schema
        message = self.world.add_bot_message(
            user,
            kind="text",
            text=formatted.text,
            html=params["text"],
            entities=formatted.entities,
            markup=_inline_markup(params),
        )
        return self.world.message_json(user, message)

    async def send_document(self, params: Params) -> object:
        """sendDocument; uploaded bytes and file name are kept on the ChatMessage."""
        return self._send_file(params, "document")

    async def send_photo(self, params: Params) -> object:
        """sendPhoto; stored like a document, rendered as a PhotoSize list. An uploaded
        photo is held to Telegram's limits: at most 10 MB, width + height at most 10,000
        pixels, one side at most 20 times the other (read from a PNG's header)."""
        media = params["photo"]
        if isinstance(media, UploadedFile):
            if len(media.content) > MAX_PHOTO_BYTES:
                raise bad_request("PHOTO_SAVE_FILE_INVALID")
            size = png_size(media.content)
            if size is not None and not photo_fits(*size):
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return self._send_file(params, "photo")

    def _send_file(self, params: Params, kind: str) -> object:
        user = self.world.chat_for_bot(params["chat_id"])
        media = params[kind]
        if isinstance(media, UploadedFile):
            content, filename = media.content, media.filename
        else:  # a file_id or URL: nothing to store but its last path segment
            content, filename = None, str(media).rsplit("/", 1)[-1]
        caption = format_text(params, "caption")
        message = self.world.add_bot_message(
            user,
            kind=kind,
            text=caption.text if caption else "",
            html=params.get("caption"),
            entities=caption.entities if caption else [],
            markup=_inline_markup(params),
            document=content,
            filename=filename,
        )
        return self.world.message_json(user, message)

    async def send_chat_action(self, params: Params) -> object:
        """sendChatAction: validated, otherwise invisible."""
        self.world.chat_for_bot(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise contract_violation(f"wrong parameter action {params['action']!r}")
        return True

    def _message_to_edit(self, params: Params) -> tuple[SimUser, ChatMessage]:
        if "inline_message_id" in params:
            raise contract_violation("emulator: inline messages are not supported")
        if "chat_id" not in params or "message_id" not in params:
            raise contract_violation("message identifier is not specified")
        user = self.world.chat_for_bot(params["chat_id"])
        message = self.world.find_message(user.user_id, params["message_id"])
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return user, message

    async def edit_message_text(self, params: Params) -> object:
        """editMessageText; omitting reply_markup removes the inline keyboard, as on Telegram."""
        user, message = self._message_to_edit(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        formatted = format_text(params, "text")
        assert formatted is not None
        markup = _inline_markup(params)
        if (
            formatted.text == message.text
            and formatted.entities == message.entities
            and markup == message.reply_markup
        ):
            raise bad_request(_NOT_MODIFIED)
        message.text, message.html, message.entities = (
            formatted.text,
            params["text"],
            formatted.entities,
        )
        self._set_markup(message, markup)
        return self.world.message_json(user, message)

    async def edit_message_reply_markup(self, params: Params) -> object:
        """editMessageReplyMarkup; no reply_markup means remove the keyboard."""
        user, message = self._message_to_edit(params)
        markup = _inline_markup(params)
        if markup == message.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        self._set_markup(message, markup)
        return self.world.message_json(user, message)

    @staticmethod
    def _set_markup(message: ChatMessage, markup: JsonDict | None) -> None:
        message.reply_markup = markup
        message.buttons = buttons_from_markup(markup)
        message.edited = True

    async def delete_message(self, params: Params) -> object:
        """deleteMessage (bots may delete both sides of a private chat)."""
        user = self.world.chat_for_bot(params["chat_id"])
        message = self.world.find_message(user.user_id, params["message_id"])
        if message is None:
            raise bad_request("message to delete not found")
        self.world.chats[user.user_id].remove(message)
        return True

    async def answer_callback_query(self, params: Params) -> object:
        """answerCallbackQuery: each query can be answered once."""
        query = self.world.callback_queries.get(params["callback_query_id"])
        if query is None or query.answered:
            raise bad_request(_QUERY_INVALID)
        query.answered = True
        query.answer_text = params.get("text")
        query.show_alert = bool(params.get("show_alert"))
        return True


def unexpected(method: str) -> ApiError:
    """Reply for a real Bot API method the emulator does not implement."""
    return contract_violation(f"emulator: method not implemented: {method}")


MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_SIDES = 10_000  # width + height
MAX_PHOTO_RATIO = 20


def png_size(data: bytes) -> tuple[int, int] | None:
    """A PNG's width and height from its header; None for anything else."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def photo_fits(width: int, height: int) -> bool:
    """Whether Telegram takes a photo of this size."""
    if width <= 0 or height <= 0:
        return False
    ratio = max(width, height) / min(width, height)
    return width + height <= MAX_PHOTO_SIDES and ratio <= MAX_PHOTO_RATIO
