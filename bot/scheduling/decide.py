"""What to do with a due message: send it, hold it for quiet hours, or end it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.scheduling.plan import MessageKind, QuietHours, is_stale
from storage import Attendance, DueMessage, MessageStatus, Visit


@dataclass(frozen=True, slots=True)
class Send:
    pass


@dataclass(frozen=True, slots=True)
class Hold:
    until: datetime  # the end of quiet hours


@dataclass(frozen=True, slots=True)
class End:
    status: MessageStatus  # skipped or dropped
    reason: str


Decision = Send | Hold | End


def decide(
    due: DueMessage,
    now: datetime,
    *,
    quiet: QuietHours | None,
    tz: ZoneInfo,
    intake_done: bool,
) -> Decision:
    """The fate of a claimed message at `now`, in order of precedence."""
    kind = MessageKind(due.message.kind)
    appointment = due.appointment
    if due.patient.unreachable_at is not None:
        return End(MessageStatus.SKIPPED, "patient unreachable")
    if not due.patient.reminders_enabled:
        return End(MessageStatus.SKIPPED, "reminders turned off")
    if kind is MessageKind.INTAKE and intake_done:
        return End(MessageStatus.SKIPPED, "intake already done")
    if kind is MessageKind.FOLLOWUP and appointment.visit is Visit.NO_SHOW:
        return End(MessageStatus.SKIPPED, "no-show")
    if kind is MessageKind.FOLLOWUP and appointment.attendance is Attendance.RESCHEDULE:
        # Moving the appointment plans the check-in again for the new time.
        return End(MessageStatus.SKIPPED, "awaiting reschedule")
    if quiet is not None:
        release = quiet.release(now, tz)
        if release > now:
            if is_stale(kind, appointment.starts_at, due.message.due_at, release):
                return End(MessageStatus.DROPPED, "stale after quiet hours")
            return Hold(release)
    if is_stale(kind, appointment.starts_at, due.message.due_at, now):
        return End(MessageStatus.DROPPED, "stale: the appointment has started")
    return Send()
