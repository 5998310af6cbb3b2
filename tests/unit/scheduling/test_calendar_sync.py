"""What one read of a calendar feed changes (bot.scheduling.calendar_sync), without HTTP."""

from datetime import timedelta

from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.calendar_sync import sync_feed
from bot.scheduling.importer import ImportedAppointment, ImportedFile
from storage import AppointmentStatus, Storage, utc_now

NOW = utc_now()


def feed(*appointments: ImportedAppointment) -> ImportedFile:
    return ImportedFile(list(appointments), [], [])


async def test_an_empty_feed_cancels_nothing_and_a_hand_made_booking_is_never_touched(
    storage: Storage,
) -> None:
    book = AppointmentBook(storage, plan=())
    jane = ImportedAppointment("ics:a", NOW + timedelta(days=2), "Jane", None, None)
    first = await sync_feed(book, storage, feed(jane), NOW)
    assert (first.booked, first.moved, first.cancelled) == (1, 0, 0)
    by_hand = await book.book(NewAppointment(NOW + timedelta(days=3), name="Walk-in Wu"))
    assert by_hand is not None

    empty = await sync_feed(book, storage, feed(), NOW)
    assert empty.emptied and empty.cancelled == 0
    booked = await storage.appointment_by_external_id("feed:ics:a")
    assert booked is not None and booked.status is AppointmentStatus.SCHEDULED

    # Another event left, Jane's gone: hers is cancelled, the one made by hand stays.
    other = ImportedAppointment("ics:b", NOW + timedelta(days=4), "Ben", None, None)
    changed = await sync_feed(book, storage, feed(other), NOW)
    assert (changed.booked, changed.cancelled, changed.emptied) == (1, 1, False)
    gone = await storage.appointment_by_external_id("feed:ics:a")
    assert gone is not None and gone.status is AppointmentStatus.CANCELLED
    kept = await storage.appointment(by_hand.id)
    assert kept is not None and kept.status is AppointmentStatus.SCHEDULED

    # Unchanged: nothing to do; an event with no one to reach is counted, not booked.
    nobody = ImportedAppointment("ics:c", NOW + timedelta(days=5), None, 4242, None)
    again = await sync_feed(book, storage, feed(other, nobody), NOW)
    assert (again.booked, again.moved, again.cancelled, again.unreachable) == (0, 0, 0, 1)
