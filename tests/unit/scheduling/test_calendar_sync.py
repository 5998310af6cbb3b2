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


async def test_a_renamed_or_re_noted_event_is_followed_and_linked_once_it_names_a_user(
    storage: Storage,
) -> None:
    book = AppointmentBook(storage, plan=())
    when = NOW + timedelta(days=2)
    first = ImportedAppointment("ics:r", when, "J. Doe", None, None)
    await sync_feed(book, storage, feed(first), NOW)
    patient = await storage.ensure_patient(5150, 5150, "en")  # has started the bot since

    renamed = ImportedAppointment("ics:r", when, "Jane Doe", 5150, "left knee")
    report = await sync_feed(book, storage, feed(renamed), NOW)

    assert (report.booked, report.moved, report.updated, report.cancelled) == (0, 0, 1, 0)
    booked = await storage.appointment_by_external_id("feed:ics:r")
    assert booked is not None
    assert (booked.name, booked.note, booked.patient_id) == ("Jane Doe", "left knee", patient.id)
    # Read again unchanged: nothing to do.
    again = await sync_feed(book, storage, feed(renamed), NOW)
    assert again.updated == 0

    # Once linked, the appointment stays with its patient whatever the calendar says later.
    other = await storage.ensure_patient(6160, 6160, "en")
    relinked = ImportedAppointment("ics:r", when, "Jane Doe", other.telegram_user_id, None)
    await sync_feed(book, storage, feed(relinked), NOW)
    kept = await storage.appointment_by_external_id("feed:ics:r")
    assert kept is not None and kept.patient_id == patient.id and kept.note is None
