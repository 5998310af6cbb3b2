"""The routing table: each patient command, button verb and text goes to the feature that
declared it (their `routes()`); nothing here knows what any of them does."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from zoneinfo import ZoneInfo

from bot.account.service import AccountService
from bot.content import Content
from bot.intake.returning import DEFAULT_RETURNING_DAYS
from bot.intake.service import IntakeService
from bot.practice.messaging import Messaging
from bot.scheduling.checkins import CheckIns
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Outcome, Relay
from bot.vocabulary.people import Who, localised
from bot.vocabulary.routes import ButtonHandler, Command, Routes, TextHandler
from storage import Storage


class Router:
    """A patient's update, in the language they chose, to its feature.

    The intake answers what no feature claims: unknown commands, stale or forged buttons,
    and any text no other feature wanted.
    """

    def __init__(self, storage: Storage, intake: IntakeService, features: Sequence[Routes]):
        self._storage = storage
        self._intake = intake
        self._commands: dict[str, Command] = {}
        self._buttons: dict[Verb, ButtonHandler] = {}
        self._texts: list[TextHandler] = []
        for routes in features:
            for name, command in routes.commands.items():
                if name in self._commands:
                    raise ValueError(f"/{name} is claimed by two features")
                self._commands[name] = command
            for verb, button in routes.buttons.items():
                if verb in self._buttons:
                    raise ValueError(f"button verb {verb.name} is claimed by two features")
                self._buttons[verb] = button
            if routes.text is not None:
                self._texts.append(routes.text)

    @property
    def commands(self) -> tuple[str, ...]:
        """The patients' commands, in menu order (the features' order)."""
        return tuple(self._commands)

    async def command(self, who: Who, name: str, args: list[str]) -> Outcome:
        """/name with its arguments."""
        who = await localised(self._storage, who)
        command = self._commands.get(name)
        if command is None:
            return self._intake.unknown_command(who)
        return await command(who, args)

    async def button(self, who: Who, data: str) -> Outcome:
        """A button press; an old, foreign or forged one is answered as stale. (Each
        feature reads the patient, and with it the language they chose.)"""
        action = Action.decode(data)
        button = self._buttons.get(action.verb) if action is not None else None
        outcome = await button(who, action) if button is not None and action else None
        return outcome if outcome is not None else await self._intake.stale(who)

    async def text(self, who: Who, text: str) -> Outcome:
        """A text message: for the first feature that wants it, else the intake's."""
        for handler in self._texts:
            outcome = await handler(who, text)
            if outcome is not None:
                return outcome
        return await self._intake.text(who, text)

    async def unexpected(self, who: Who, *, edited: bool) -> Outcome:
        """A sticker, photo, edited message or anything else the bot cannot use."""
        return await self._intake.unexpected(await localised(self._storage, who), edited=edited)

    async def slow_down(self, who: Who) -> Outcome:
        """Told once when a chat sends faster than the bot reads (bot.edge.updates)."""
        return self._intake.slow_down(await localised(self._storage, who))


def patient_side(
    storage: Storage,
    content: Content,
    checkins: CheckIns,
    *,
    clinic_name: str,
    practitioner_ids: Collection[int],
    timezone: ZoneInfo,
    relay: Relay,
    returning_days: int = DEFAULT_RETURNING_DAYS,
) -> tuple[IntakeService, Messaging, Router]:
    """The patients' features (intake, account, check-ins, conversations with the clinic)
    and the router over them; `relay` passes a conversation's messages to the other side."""
    intake = IntakeService(
        storage,
        content,
        clinic_name=clinic_name,
        practitioner_ids=practitioner_ids,
        timezone=timezone,
        resume_after_consent=checkins.resume_after_consent,
        returning_days=returning_days,
    )
    account = AccountService(
        storage,
        content,
        intake,
        clinic_name=clinic_name,
        practitioner_ids=practitioner_ids,
        timezone=timezone,
    )
    messaging = Messaging(
        storage,
        content,
        clinic_name=clinic_name,
        practitioner_ids=practitioner_ids,
        relay=relay,
        awaits_text=intake.awaits_text,
    )
    # A check-in waiting for its note, and an intake waiting for a typed answer (asked by
    # Messaging), take a patient's text before the clinic does.
    features = [intake.routes(), account.routes(), checkins.routes(), messaging.routes()]
    return intake, messaging, Router(storage, intake, features)
