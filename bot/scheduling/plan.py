"""The message plan around an appointment, quiet hours and staleness: pure time logic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

DEFAULT_PLAN = "intake:-72h,reminder:-24h,followup:+24h,followup:+7d"
DEFAULT_QUIET_HOURS = "21:00-08:00"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ENTRY = re.compile(r"^(intake|reminder|followup):([+-]?)(\d+)([smhd])$")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class MessageKind(StrEnum):
    """What a scheduled message is for."""

    INTAKE = "intake"  # invitation to complete the intake (skipped once it is done)
    REMINDER = "reminder"  # the appointment is coming up
    FOLLOWUP = "followup"  # how are you feeling after treatment
    MOVED = "moved"  # the appointment has a new time (not in a plan: sent when it moves)


@dataclass(frozen=True, slots=True)
class PlanEntry:
    kind: MessageKind
    offset: timedelta  # relative to the appointment's start; negative = before

    @property
    def offset_seconds(self) -> int:
        return int(self.offset.total_seconds())


def parse_plan(text: str) -> tuple[PlanEntry, ...]:
    """Parse 'kind:±N<unit>,...' (units s, m, h, d); ValueError names the bad part."""
    entries: list[PlanEntry] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _ENTRY.match(part)
        if not match:
            raise ValueError(
                f"{part!r} is not kind:offset"
                " (kinds intake, reminder, followup; e.g. reminder:-24h)"
            )
        kind, sign, amount, unit = match.groups()
        seconds = int(amount) * _UNITS[unit] * (-1 if sign == "-" else 1)
        entry = PlanEntry(MessageKind(kind), timedelta(seconds=seconds))
        if entry in entries:
            raise ValueError(f"{part!r} is listed twice")
        entries.append(entry)
    if not entries:
        raise ValueError("the plan is empty")
    return tuple(entries)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span in clinic time when no scheduled message is sent (may cross midnight)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """Whether a clinic-local wall-clock time falls in the quiet span."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def release(self, due: datetime, tz: ZoneInfo) -> datetime:
        """When a message due at `due` may go out: `due` itself, or the end of quiet hours."""
        local = due.astimezone(tz)
        if not self.contains(local.time().replace(tzinfo=None)):
            return due
        day = local.date() if local.time() < self.end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.end, tz).astimezone(UTC)


def parse_quiet_hours(text: str) -> QuietHours | None:
    """Parse 'HH:MM-HH:MM' (clinic time), or 'off' for none; ValueError if malformed."""
    text = text.strip()
    if text.lower() in ("off", "none", ""):
        return None
    match = _HOURS.match(text)
    if not match:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM (or off)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from exc
    if start == end:
        raise ValueError(f"{text!r} is an empty span (use off for no quiet hours)")
    return QuietHours(start, end)


FOLLOWUP_GRACE = timedelta(days=2)
# An intake completed this long before an appointment still describes the patient.
INTAKE_FRESH = timedelta(days=30)


def fresh_intake_since(appointment_at: datetime) -> datetime:
    """The earliest completion time of an intake that makes an invitation unnecessary."""
    return appointment_at - INTAKE_FRESH


def is_stale(kind: MessageKind, appointment_at: datetime, due_at: datetime, now: datetime) -> bool:
    """Whether a message has lost its point: an intake invitation, a reminder or a notice
    of a new time for an appointment that has already started, or a follow-up more than two
    days late (the bot was down, or a past appointment was imported)."""
    if kind is MessageKind.FOLLOWUP:
        return now - due_at > FOLLOWUP_GRACE
    return now >= appointment_at


STANDARD_PLAN = parse_plan(DEFAULT_PLAN)
STANDARD_QUIET_HOURS = parse_quiet_hours(DEFAULT_QUIET_HOURS)
