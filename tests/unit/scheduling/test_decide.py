"""What happens to a due message (issue 14): a check-in only after a visit that may have
happened, a notice of a new time like any appointment message."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling.decide import End, Send, decide
from storage import (
    Appointment,
    AppointmentStatus,
    Attendance,
    DueMessage,
    MessageStatus,
    Patient,
    ScheduledMessage,
    Visit,
)

STARTS = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
PATIENT = Patient(7, 7, 7, "Ann", None, "en", STARTS - timedelta(days=9))
APPOINTMENT = Appointment(
    1, 7, None, STARTS, None, None, None, AppointmentStatus.SCHEDULED, None, None
)


def due(kind: str, offset: timedelta, **appointment: object) -> DueMessage:
    message = ScheduledMessage(
        1,
        1,
        kind,
        int(offset.total_seconds()),
        STARTS + offset,
        MessageStatus.SENDING,
        1,
        None,
        None,
        None,
    )
    return DueMessage(message, replace(APPOINTMENT, **appointment), PATIENT)  # type: ignore[arg-type]


def at(message: DueMessage) -> object:
    return decide(message, message.message.due_at, quiet=None, tz=LONDON, intake_done=False)


def test_a_check_in_goes_after_a_visit_that_may_have_happened() -> None:
    after = timedelta(days=1)
    assert at(due("followup", after)) == Send()
    assert at(due("followup", after, visit=Visit.ATTENDED)) == Send()
    assert at(due("followup", after, attendance=Attendance.CONFIRMED)) == Send()
    assert at(due("followup", after, visit=Visit.NO_SHOW)) == End(MessageStatus.SKIPPED, "no-show")
    assert at(due("followup", after, attendance=Attendance.RESCHEDULE)) == End(
        MessageStatus.SKIPPED, "awaiting reschedule"
    )


@pytest.mark.parametrize("kind", ["intake", "reminder", "moved"])
def test_no_show_and_reschedule_do_not_stop_messages_before_the_visit(kind: str) -> None:
    before = -timedelta(hours=2)
    assert at(due(kind, before, attendance=Attendance.RESCHEDULE)) == Send()


def test_a_notice_of_a_new_time_follows_the_patients_choice_and_goes_stale() -> None:
    notice = due("moved", -timedelta(hours=3))
    off = DueMessage(notice.message, notice.appointment, replace(PATIENT, reminders_enabled=False))
    assert at(off) == End(MessageStatus.SKIPPED, "reminders turned off")
    late = decide(notice, STARTS + timedelta(minutes=1), quiet=None, tz=LONDON, intake_done=False)
    assert late == End(MessageStatus.DROPPED, "stale: the appointment has started")
