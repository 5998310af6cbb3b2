"""What the domain asks the Telegram layer to send: plain data, no Telegram types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

Keyboard = tuple[tuple["Button", ...], ...]


@dataclass(frozen=True, slots=True)
class Button:
    label: str  # plain text
    data: str  # callback data, at most 64 bytes


@dataclass(frozen=True, slots=True)
class Reply:
    html: str  # Telegram HTML
    keyboard: Keyboard = ()


@dataclass(frozen=True, slots=True)
class Document:
    filename: str
    data: bytes
    caption: str  # Telegram HTML


@dataclass(frozen=True, slots=True)
class Photo:
    """A PNG image (a chart) with its caption."""

    data: bytes
    caption: str  # Telegram HTML


@dataclass(frozen=True, slots=True)
class Notification:
    chat_id: int
    reply: Reply


@dataclass(slots=True)
class Outcome:
    """Everything one patient action produces."""

    replies: list[Reply] = field(default_factory=list)
    # Replaces the message whose button was pressed (text and keyboard).
    edit: Reply | None = None
    # Short text shown by Telegram as the answer to a button press.
    toast: str | None = None
    notifications: list[Notification] = field(default_factory=list)
    # The completed intake these notifications announce: recorded as notified once sent.
    notified_intake: int | None = None
    # The completed intake whose thank-you and guide the replies are: recorded once sent.
    guided_intake: int | None = None
    # Files for the patient or practitioner (an export, /mydata).
    documents: list[Document] = field(default_factory=list)
    # Images for the patient or practitioner (a chart of a patient's course).
    photos: list[Photo] = field(default_factory=list)


class Relayed(StrEnum):
    """What became of a message passed on to another chat."""

    DELIVERED = "delivered"
    UNREACHABLE = "unreachable"  # the user blocked the bot, or never started it
    FAILED = "failed"  # Telegram did not take it now; it may later


# Sends one reply to another user's chat at once (a conversation between a practitioner
# and a patient), and says whether it arrived.
Relay = Callable[[int, Reply], Awaitable[Relayed]]
