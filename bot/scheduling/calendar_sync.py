"""A clinic's live calendar kept in step with the appointments: what one fetch of its
iCalendar feed changes. New events are booked, moved ones moved, cancelled or removed ones
cancelled (with their pending messages); appointments made by hand or imported from a file
are never touched (only those the feed booked carry its prefix)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.scheduling.appointments import AppointmentBook, AppointmentError
from bot.scheduling.importer import ImportedFile
from storage import AppointmentStatus, Storage

FEED_PREFIX = "feed:"


@dataclass(frozen=True, slots=True)
class SyncReport:
    """Counts of what one fetch changed (never names: these are logged)."""

    booked: int = 0
    moved: int = 0
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
    booked = moved = unreachable = 0
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
        elif known.status is AppointmentStatus.SCHEDULED and known.starts_at != record.starts_at:
            await book.move(known.id, record.starts_at)
            moved += 1
    cancelled = 0
    upcoming = await storage.imported_after(FEED_PREFIX, now)
    if not present and upcoming:
        # A feed that suddenly holds nothing is more likely a broken or replaced calendar
        # address than a clinic with no patients: nothing is cancelled on its word.
        return SyncReport(booked, moved, 0, unreachable, len(feed.rejected), emptied=True)
    for appointment in upcoming:
        # Cancelled in the calendar (left out of the feed's appointments) or deleted.
        if appointment.external_id not in present and await book.cancel(appointment.id):
            cancelled += 1
    return SyncReport(booked, moved, cancelled, unreachable, len(feed.rejected))
