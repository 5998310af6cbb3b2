"""Who is behind an update, as the features see it (no Telegram types)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from storage import Patient, Storage


@dataclass(frozen=True, slots=True)
class Who:
    """The Telegram user behind an update."""

    user_id: int
    chat_id: int
    first_name: str | None = None
    username: str | None = None
    language_code: str | None = None


async def localised(storage: Storage, who: Who) -> Who:
    """The user with the language they chose (/language) in place of Telegram's."""
    patient = await storage.patient_by_telegram_id(who.user_id)
    if patient is None or patient.language == who.language_code:
        return who
    return replace(who, language_code=patient.language)


async def came_back(storage: Storage, patient: Patient | None) -> None:
    """A patient who writes again has unblocked the bot: messages may go to them again."""
    if patient is not None and patient.unreachable_at is not None:
        await storage.mark_reachable(patient.id)
