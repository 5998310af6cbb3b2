"""The simulated Telegram side: users, their private chats with the bot, and the update queue."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.emulator.models import (
    ApiError,
    Button,
    ChatMessage,
    JsonDict,
    SimUser,
    bad_request,
)
from bot.telegram_html import utf16_len

# Without allowed_updates Telegram delivers every type except these.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to"
    " delete the webhook first"
)
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)


@dataclass
class CallbackQueryState:
    """A callback query the bot may still answer (once)."""

    query_id: str
    user_id: int
    message_id: int
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


def buttons_from_markup(markup: JsonDict | None) -> list[list[Button]]:
    """The inline keyboard rows of a reply_markup (empty for other keyboards or none)."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        [Button(b["text"], b.get("callback_data"), b.get("url")) for b in row]
        for row in markup["inline_keyboard"]
    ]


def file_json(prefix: str, unique: int, size: int) -> JsonDict:
    """Fields every Bot API file object carries."""
    return {
        "file_id": f"{prefix}-{unique:08d}",
        "file_unique_id": f"u{prefix}{unique}",
        "file_size": size,
    }


@dataclass
class Webhook:
    """Where updates go while a webhook is set, and how its deliveries went."""

    url: str
    secret: str | None
    attempts: int = 0  # POSTs made, answered or not
    last_error: str | None = None  # Telegram's getWebhookInfo last_error_message


UpdateListener = Callable[[JsonDict, float], None]
"""Called with each queued update and time.monotonic() when it was queued (benchmarks)."""


class World:
    """Users, chats and pending updates. All methods must run on the event loop's thread."""

    def __init__(self, bot_user: JsonDict) -> None:
        self.bot_user = bot_user
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, list[ChatMessage]] = {}
        self._last_message_id: dict[int, int] = {}
        self.pending: list[JsonDict] = []
        self.confirmed_below = 0  # the highest getUpdates offset the bot has sent
        self._next_update_id = 100_000_001
        self.allowed_updates: frozenset[str] | None = None
        self.callback_queries: dict[str, CallbackQueryState] = {}
        self._ids = itertools.count(1)
        self._wakeup = asyncio.Event()
        self._poll_generation = 0
        self.waiting_polls = 0
        self.closed = False
        self.update_listeners: list[UpdateListener] = []
        self.webhook: Webhook | None = None  # set by setWebhook: updates are POSTed to it

    # ---- users -------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None,
    ) -> SimUser:
        """Register a user (idempotent: re-adding updates the profile)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = self.users.get(user_id)
        if user is None:
            user = SimUser(user_id, first_name, language_code, username)
            self.users[user_id] = user
            self.chats[user_id] = []
        else:
            user.first_name, user.language_code, user.username = first_name, language_code, username
        return user

    def user(self, user_id: int) -> SimUser:
        """The user, registered with defaults if the test did not add them first."""
        return self.users.get(user_id) or self.add_user(user_id, "Pat", "en", None)

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Block or unblock the bot; emits my_chat_member like Telegram does."""
        user = self.user(user_id)
        if user.blocked == blocked:
            return
        user.blocked = blocked
        if not user.started:
            return
        statuses = ("member", "kicked") if blocked else ("kicked", "member")
        old, new = (
            {"user": self.bot_user, "status": s, **({"until_date": 0} if s == "kicked" else {})}
            for s in statuses
        )
        self.enqueue(
            "my_chat_member",
            {
                "chat": user.chat_json(),
                "from": user.to_json(),
                "date": int(time.time()),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )

    # ---- messages ----------------------------------------------------------------------

    def new_message_id(self, chat_id: int) -> int:
        """Next message id in a chat (ids are per private chat and shared by both sides)."""
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def user_message(
        self, user_id: int, kind: str, text: str, entities: list[JsonDict] | None = None
    ) -> int:
        """Record a message from the user and queue the `message` update."""
        user = self.user(user_id)
        if user.blocked:
            raise RuntimeError(f"user {user_id} has blocked the bot; unblock first")
        user.started = True
        message = ChatMessage(
            message_id=self.new_message_id(user_id),
            from_bot=False,
            text=text,
            kind=kind,
            date=int(time.time()),
            entities=entities or [],
        )
        self.chats[user_id].append(message)
        self.enqueue("message", self.message_json(user, message))
        return message.message_id

    def send_text(self, user_id: int, text: str) -> int:
        """User sends text; a leading /command gets its bot_command entity."""
        if not text:
            raise ValueError("Telegram clients cannot send empty messages")
        entities: list[JsonDict] = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        return self.user_message(user_id, "text", text, entities)

    def edit_user_text(self, user_id: int, message_id: int, new_text: str) -> None:
        """User edits their own text message; queues `edited_message`."""
        message = self.find_message(user_id, message_id)
        if message is None or message.from_bot or message.kind != "text":
            raise ValueError(f"user {user_id} has no text message {message_id} to edit")
        message.text, message.edited = new_text, True
        self.enqueue("edited_message", self.message_json(self.users[user_id], message))

    def press(self, user_id: int, message_id: int, data: str, *, must_exist: bool) -> str:
        """User taps an inline button; queues `callback_query` and returns its id."""
        message = self.find_message(user_id, message_id)
        if message is None or not message.from_bot:
            raise ValueError(f"chat {user_id} has no bot message {message_id}")
        if must_exist and all(b.callback_data != data for row in message.buttons for b in row):
            shown = [[b.callback_data for b in row] for row in message.buttons]
            raise ValueError(f"message {message_id} has no button {data!r}; buttons: {shown}")
        user = self.users[user_id]
        query_id = str(4_000_000_000_000 + next(self._ids))
        self.callback_queries[query_id] = CallbackQueryState(query_id, user_id, message_id, data)
        self.enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_json(),
                "message": self.message_json(user, message),
                "chat_instance": str(-user_id * 7919),
                "data": data,
            },
        )
        return query_id

    def find_message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        """A message still present in the chat, or None."""
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def chat_for_bot(self, chat_id: object) -> SimUser:
        """The user behind a chat_id the bot addresses, or the error Telegram would give."""
        user = self.users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None or not user.started:
            raise bad_request("chat not found")
        if user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def add_bot_message(
        self,
        user: SimUser,
        *,
        kind: str,
        text: str,
        html: str | None,
        entities: list[JsonDict],
        markup: JsonDict | None,
        document: bytes | None = None,
        filename: str | None = None,
    ) -> ChatMessage:
        """Append a message from the bot to the user's chat."""
        message = ChatMessage(
            message_id=self.new_message_id(user.user_id),
            from_bot=True,
            text=text,
            html=html,
            buttons=buttons_from_markup(markup),
            kind=kind,
            document=document,
            filename=filename,
            date=int(time.time()),
            entities=entities,
            reply_markup=markup if markup and "inline_keyboard" in markup else None,
        )
        self.chats[user.user_id].append(message)
        return message

    def message_json(self, user: SimUser, message: ChatMessage) -> JsonDict:
        """Render a message as a Bot API `Message` object."""
        data: JsonDict = {
            "message_id": message.message_id,
            "from": self.bot_user if message.from_bot else user.to_json(),
            "chat": user.chat_json(),
            "date": message.date,
        }
        if message.edited:
            data["edit_date"] = int(time.time())
        size = len(message.document) if message.document is not None else 0
        if message.kind == "text":
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        else:
            if message.text:
                data["caption"] = message.text
                if message.entities:
                    data["caption_entities"] = message.entities
            if message.kind == "document":
                data["document"] = {
                    **file_json("doc", message.message_id, size),
                    "file_name": message.filename or "file",
                    "mime_type": "application/octet-stream",
                }
            elif message.kind == "photo":
                data["photo"] = [
                    {**file_json(f"photo{w}", message.message_id, size), "width": w, "height": w}
                    for w in (90, 320, 800)
                ]
            elif message.kind == "sticker":
                data["sticker"] = {
                    **file_json("sticker", message.message_id, 4096),
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "\N{THUMBS UP SIGN}",
                }
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data

    # ---- updates -----------------------------------------------------------------------

    def enqueue(self, update_type: str, payload: JsonDict) -> None:
        """Queue an update unless the bot's allowed_updates filter excludes its type."""
        allowed = self.allowed_updates
        if allowed is None and update_type in _OPT_IN_UPDATE_TYPES:
            return
        if allowed is not None and update_type not in allowed:
            return
        update = {"update_id": self._next_update_id, update_type: payload}
        self.pending.append(update)
        self._next_update_id += 1
        if self.update_listeners:
            queued_at = time.monotonic()
            for listener in self.update_listeners:
                listener(update, queued_at)
        self._notify()

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def get_updates(
        self, offset: int | None, limit: int, poll_seconds: float, allowed: list[str] | None
    ) -> list[JsonDict]:
        """getUpdates semantics: confirm by offset, then long-poll up to `poll_seconds`."""
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        if allowed is not None:
            # An empty list means "the default set", like Telegram.
            self.allowed_updates = frozenset(allowed) if allowed else None
        if offset is not None and offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
            self.confirmed_below = max(self.confirmed_below, offset)
        elif offset is not None and offset < 0:
            self.pending = self.pending[offset:]
        limit = min(max(limit, 1), 100)
        # A newer getUpdates terminates an older one still waiting, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        deadline = asyncio.get_running_loop().time() + max(poll_seconds, 0)
        while True:
            wakeup = self._wakeup
            if self.webhook is not None:  # set while this call waited
                raise ApiError(409, WEBHOOK_ACTIVE)
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT)
            if self.pending or self.closed:
                return self.pending[:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return []
            self.waiting_polls += 1
            try:
                await asyncio.wait_for(wakeup.wait(), remaining)
            except TimeoutError:
                return []
            finally:
                self.waiting_polls -= 1

    async def next_for_webhook(self) -> JsonDict | None:
        """The oldest pending update once there is one and a webhook is set (None once
        closed)."""
        while not self.closed:
            wakeup = self._wakeup
            if self.webhook is not None and self.pending:
                return self.pending[0]
            await wakeup.wait()
        return None

    def delivered(self, update: JsonDict) -> None:
        """A webhook answered 200 for `update`: Telegram forgets it."""
        self.pending = [u for u in self.pending if u["update_id"] != update["update_id"]]
        self.confirmed_below = max(self.confirmed_below, update["update_id"] + 1)

    def set_webhook(self, webhook: Webhook | None) -> None:
        """Set or delete the webhook; a delivery waiting for one is woken."""
        self.webhook = webhook
        self._notify()

    def close(self) -> None:
        """Release long-polling requests so the server can shut down promptly."""
        self.closed = True
        self._notify()
