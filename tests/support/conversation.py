"""The patients' side as the bot runs it, without Telegram: the router over the intake,
account, check-in and messaging features, with one method per thing a patient can do."""

from __future__ import annotations

from collections.abc import Collection
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.edge.router import patient_side
from bot.intake.returning import DEFAULT_RETURNING_DAYS
from bot.scheduling.checkins import CheckIns
from bot.vocabulary.outgoing import Outcome, Relayed, Reply
from bot.vocabulary.people import Who
from storage import Storage


class Relays:
    """The injected relay: what a conversation passed to which chat, and what Telegram is
    made to answer (`answer`)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, Reply]] = []
        self.answer = Relayed.DELIVERED

    async def __call__(self, chat_id: int, reply: Reply) -> Relayed:
        if self.answer is Relayed.DELIVERED:
            self.sent.append((chat_id, reply))
        return self.answer

    def to(self, chat_id: int) -> list[str]:
        """The texts passed to one chat, oldest first."""
        return [reply.html for chat, reply in self.sent if chat == chat_id]


class Conversation:
    """What a patient can send, routed to its feature as in the running bot."""

    def __init__(
        self,
        storage: Storage,
        content: Content,
        checkins: CheckIns,
        *,
        clinic_name: str,
        practitioner_ids: Collection[int],
        timezone: ZoneInfo,
        returning_days: int = DEFAULT_RETURNING_DAYS,
    ) -> None:
        self.relays = Relays()
        self.intake, self.messaging, self.router = patient_side(
            storage,
            content,
            checkins,
            clinic_name=clinic_name,
            practitioner_ids=practitioner_ids,
            timezone=timezone,
            relay=self.relays,
            returning_days=returning_days,
        )

    async def command(self, who: Who, name: str, *args: str) -> Outcome:
        return await self.router.command(who, name, list(args))

    async def start(self, who: Who, payload: str | None = None) -> Outcome:
        return await self.command(who, "start", *([payload] if payload else []))

    async def button(self, who: Who, data: str) -> Outcome:
        return await self.router.button(who, data)

    async def text(self, who: Who, text: str) -> Outcome:
        return await self.router.text(who, text)

    async def unexpected(self, who: Who, *, edited: bool) -> Outcome:
        return await self.router.unexpected(who, edited=edited)

    async def delete(self, who: Who) -> Outcome:
        return await self.command(who, "delete")

    async def privacy(self, who: Who) -> Outcome:
        return await self.command(who, "privacy")

    async def mydata(self, who: Who) -> Outcome:
        return await self.command(who, "mydata")

    async def guide(self, who: Who) -> Outcome:
        return await self.command(who, "guide")

    async def cancel(self, who: Who) -> Outcome:
        return await self.command(who, "cancel")

    async def mark_guided(self, intake_id: int) -> None:
        await self.intake.mark_guided(intake_id)
