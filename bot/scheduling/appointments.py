"""Booking appointments: by Telegram id or by name with a personal deep link, imports,
listing, moving, recording visits and cancelling. Each appointment schedules its messages
from the plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.scheduling.clock import SkippedTime, wall_clock_to_utc
from bot.scheduling.importer import ImportedAppointment
from bot.scheduling.plan import PlanEntry
from bot.vocabulary.links import new_link_token
from storage import Appointment, PlannedMessage, Storage, Visit


class AppointmentError(ValueError):
    """An appointment cannot be booked as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class NewAppointment:
    """One appointment to book (from the command line or an imported file)."""

    starts_at: datetime  # aware
    telegram_user_id: int | None = None
    name: str | None = None
    note: str | None = None
    external_id: str | None = None


def deep_link(bot_username: str, token: str) -> str:
    """The t.me link that opens the bot with this payload."""
    return f"https://t.me/{bot_username}?start={token}"


def local_to_utc(naive: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in the clinic's zone as UTC; AppointmentError in a DST gap."""
    try:
        return wall_clock_to_utc(naive, tz)
    except SkippedTime as exc:
        raise AppointmentError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (clock change)"
        ) from exc


class AppointmentBook:
    """Appointments and the messages they schedule."""

    def __init__(self, storage: Storage, *, plan: Sequence[PlanEntry]) -> None:
        self._storage = storage
        self._plan = tuple(plan)

    def planned(self, starts_at: datetime) -> list[PlannedMessage]:
        """The messages the plan schedules around an appointment."""
        return [
            PlannedMessage(entry.kind.value, entry.offset_seconds, starts_at + entry.offset)
            for entry in self._plan
        ]

    async def book(self, new: NewAppointment) -> Appointment | None:
        """Store an appointment; None if its external id was imported before.

        With a Telegram id the patient must have started the bot (a bot cannot write
        first); otherwise the appointment's deep-link token is the way in.
        """
        patient_id = None
        if new.telegram_user_id is not None:
            patient = await self._storage.patient_by_telegram_id(new.telegram_user_id)
            if patient is None:
                raise AppointmentError(
                    f"Telegram user {new.telegram_user_id} has not started the bot yet;"
                    " book by --name to get a link to send them"
                )
            patient_id = patient.id
        elif not new.name:
            raise AppointmentError("an appointment needs a patient's Telegram id or a name")
        return await self._storage.add_appointment(
            new.starts_at,
            self.planned(new.starts_at),
            patient_id=patient_id,
            name=new.name,
            note=new.note,
            link_token=new_link_token(),
            external_id=new.external_id,
        )

    async def book_imported(
        self, record: ImportedAppointment, external_id: str | None = None
    ) -> Appointment | None:
        """Book an appointment read from a file or a calendar feed (under `external_id`,
        else the record's): linked when its Telegram user has started the bot, else by name
        with a personal link. None if it was imported before; AppointmentError when it has
        neither a reachable Telegram user nor a name."""
        new = NewAppointment(
            record.starts_at,
            telegram_user_id=record.telegram_user_id,
            name=record.name,
            note=record.note,
            external_id=external_id or record.external_id,
        )
        try:
            return await self.book(new)
        except AppointmentError:
            if not new.name:
                raise
            # Not started the bot yet: the personal link is the way in.
            by_name = NewAppointment(
                new.starts_at, name=new.name, note=new.note, external_id=new.external_id
            )
            return await self.book(by_name)

    async def move(self, appointment_id: int, starts_at: datetime) -> Appointment | None:
        """Give a scheduled appointment a new time: its messages are planned again from it,
        and a linked patient is told. None if there is no such scheduled appointment."""
        return await self._storage.move_appointment(
            appointment_id, starts_at, self.planned(starts_at)
        )

    async def record_visit(self, appointment_id: int, visit: Visit) -> bool:
        """Record whether the patient came (a no-show gets no check-in)."""
        return await self._storage.set_visit(appointment_id, visit)

    async def cancel(self, appointment_id: int) -> bool:
        """Cancel an appointment and its pending messages."""
        return await self._storage.cancel_appointment(appointment_id)

    async def between(
        self, start: datetime | None, end: datetime | None
    ) -> list[tuple[Appointment, str | None]]:
        """Appointments starting in [start, end) with the linked patient's name."""
        return await self._storage.appointments_between(start, end)
