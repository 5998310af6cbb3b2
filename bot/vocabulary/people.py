"""Who is behind an update, as the features see it (no Telegram types)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Who:
    """The Telegram user behind an update."""

    user_id: int
    chat_id: int
    first_name: str | None = None
    username: str | None = None
    language_code: str | None = None
