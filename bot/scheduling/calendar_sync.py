"""A clinic's live calendar kept in step with the appointments: what one fetch of its
iCalendar feed changes. New events are booked, moved ones moved, renamed or re-noted ones
updated (and linked once they name a Telegram user who started the bot), cancelled or
removed ones cancelled (with their pending messages); appointments made by hand or imported
from a file are never touched (only those the feed booked carry its prefix)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.scheduling.appointments import AppointmentBook, AppointmentError
from bot.scheduling.importer import ImportedAppointment, ImportedFile
from storage import Appointment, AppointmentStatus, Storage

FEED_PREFIX = "feed:"


@dataclass(frozen=True, slots=True)
class SyncReport:
    """Counts of what one fetch changed (never names: these are logged)."""

    booked: int = 0
    moved: int = 0
    updated: int = 0  # a new name or note, or now linked to the patient's Telegram
    cancelled: int = 0
    unreachable: int = 0  # events with neither a name nor a Telegram user who started the bot
    rejected: int = 0  # events that could not be read
    emptied: bool = False  # the feed held no appointments while some were booked from it


async def sync_feed(
    book: AppointmentBook,
    storage: Storage,
    feed: ImportedFile,
    now: datetime,
    exclude: re.Pattern[str] | None = None,
) -> SyncReport:
    """Bring the feed's appointments into the database as of `now`."""
    booked = moved = updated = unreachable = 0
    present: set[str] = set()
    for record in feed.appointments:
        if exclude is not None and record.name and exclude.search(record.name):
            continue
        external_id = FEED_PREFIX + record.external_id
        present.add(external_id)
        known = await storage.appointment_by_external_id(external_id)
        if known is None:
            try:
                await book.book_imported(record, external_id)
            except AppointmentError:
                unreachable += 1
                continue
            booked += 1
            continue
        if known.status is not AppointmentStatus.SCHEDULED:
            continue
        if known.starts_at != record.starts_at:
            await book.move(known.id, record.starts_at)
            moved += 1
        if await _update(storage, known, record):
            updated += 1
    cancelled = 0
    upcoming = await storage.imported_after(FEED_PREFIX, now)
    if not present and upcoming:
        # A feed that suddenly holds nothing is more likely a broken or replaced calendar
        # address than a clinic with no patients: nothing is cancelled on its word.
        return SyncReport(booked, moved, updated, 0, unreachable, len(feed.rejected), emptied=True)
    for appointment in upcoming:
        # Cancelled in the calendar (left out of the feed's appointments) or deleted.
        if appointment.external_id not in present and await book.cancel(appointment.id):
            cancelled += 1
    return SyncReport(booked, moved, updated, cancelled, unreachable, len(feed.rejected))


async def _update(storage: Storage, known: Appointment, record: ImportedAppointment) -> bool:
    """Follow the event's name, note and Telegram user; whether anything changed."""
    patient_id = None
    if known.patient_id is None and record.telegram_user_id is not None:
        patient = await storage.patient_by_telegram_id(record.telegram_user_id)
        patient_id = patient.id if patient else None
    if (record.name, record.note) == (known.name, known.note) and patient_id is None:
        return False
    await storage.update_booking(
        known.id, name=record.name, note=record.note, patient_id=patient_id
    )
    return True
