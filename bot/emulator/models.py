"""Plain data types shared by the emulator modules and the tests that inspect it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass
class Button:
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class ChatMessage:
    """A message in a simulated private chat, in its current state (after edits)."""

    message_id: int
    from_bot: bool
    text: str
    """Visible text (for documents and photos: the visible caption)."""
    html: str | None = None
    """Raw text or caption exactly as the bot sent it (None for user messages)."""
    buttons: list[list[Button]] = field(default_factory=list)
    edited: bool = False
    kind: str = "text"
    document: bytes | None = None
    filename: str | None = None
    date: int = 0
    entities: list[JsonDict] = field(default_factory=list, repr=False)
    reply_markup: JsonDict | None = field(default=None, repr=False)
    """Raw reply_markup as sent, echoed back in Message objects and callback queries."""


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart/form-data request."""

    filename: str
    content: bytes
    content_type: str

    def __repr__(self) -> str:  # bytes would flood assertion output
        return f"UploadedFile({self.filename!r}, {len(self.content)} bytes, {self.content_type!r})"


@dataclass(frozen=True)
class ApiCall:
    """One HTTP call the bot made. The transcript lists calls in completion order (a long
    poll appears when it returns); `time` is time.monotonic() when the request arrived."""

    method: str
    params: dict[str, Any]
    ok: bool
    error_code: int | None
    description: str | None
    time: float


@dataclass
class SimUser:
    """A simulated Telegram user; their private chat shares the user id."""

    user_id: int
    first_name: str
    language_code: str | None
    username: str | None
    started: bool = False
    """True once the user has written to the bot; before that the chat does not exist."""
    blocked: bool = False

    def to_json(self) -> JsonDict:
        """Render as a Bot API `User` object."""
        data: JsonDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data

    def chat_json(self) -> JsonDict:
        """Render the private chat with this user as a Bot API `Chat` object."""
        data: JsonDict = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.username is not None:
            data["username"] = self.username
        return data


class ApiError(Exception):
    """A Bot API error reply. `violation` marks errors caused by a broken call contract."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        violation: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.violation = violation
        self.retry_after = retry_after

    def to_json(self) -> JsonDict:
        """Render the Telegram-shaped error body."""
        body: JsonDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str, *, violation: bool = False) -> ApiError:
    """Build a 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {detail}", violation=violation)


def contract_violation(detail: str) -> ApiError:
    """Build a 400 error that is also recorded as a contract violation."""
    return bad_request(detail, violation=True)
