"""Appointments exported from a clinic's calendar, read as plain records.

``read_appointments(path, timezone)`` reads a CSV file or an iCalendar (``.ics``) file
and returns an :class:`ImportedFile`: one :class:`ImportedAppointment` per appointment,
the rows or events left out on purpose (cancelled, no-show, all-day, past) with their
reason, and the ones that cannot be read, each named with its problem (one bad row never
stops the others). It does no database work: the caller decides what to do with
duplicates, using ``external_id``, which stays the same when the same file is imported
again.

CSV format
----------
The first row is a header. The file is UTF-8, with or without a byte-order mark
(Excel's "CSV UTF-8" export), comma- or semicolon-delimited (detected from the
header row). Column names are case-insensitive; surrounding spaces are ignored and
inner spaces or hyphens count as underscores (``Telegram User ID`` is
``telegram_user_id``). Columns, with the other names real exports use for them:

* ``date`` (Start Date) and ``time`` (Start Time), or instead a single ``start``
  column (``YYYY-MM-DD HH:MM``, or ISO 8601 such as ``2025-03-27T09:30:00+01:00``).
  Dates are ``YYYY-MM-DD``; dates written day or month first (``27/03/2025``,
  ``03/27/2025``) need ``date_format`` (DMY or MDY), never a guess. Times are
  ``HH:MM`` (24-hour; ``H:MM`` and ``HH:MM:SS`` too) or ``9:30 AM``;
* ``name`` (Patient, Client, Subject, Title): the patient's name;
* ``telegram_user_id`` (Telegram ID, optional): the patient's numeric Telegram user id;
* ``note`` (Notes, Description, Comments; optional): free text;
* ``id`` (Appointment ID, UID; optional): the clinic system's appointment id;
* ``status`` (optional): a row whose status says cancelled or no-show is skipped;
* ``all_day`` (All Day Event, optional): a row marked all-day is skipped.

Other columns are ignored. A time without a UTC offset is the clinic's local time:
a time that does not exist because the clocks go forward is an error, and a time
that happens twice because the clocks go back means the first of the two. Every
row needs a time and a name or a Telegram user id. Blank rows are skipped, and so
are rows that started more than a day before the import. Rows are returned in file
order. The identity of a row (``external_id``) is ``csv:`` followed by its ``id`` if
it has one, otherwise ``csv:h-`` followed by a hash of its start time, its name (case
and spacing ignored) and its Telegram user id. Bad rows are named by row number as a
spreadsheet shows it (the header is row 1).

iCalendar format
----------------
Each VEVENT is an appointment (see :func:`parse_ics`): SUMMARY is the name,
DESCRIPTION the note, and a Telegram user id is taken from an
``X-ASHI-TELEGRAM-ID`` property or a ``telegram: 123456`` line in DESCRIPTION.
Cancelled events, all-day events and events that started more than a day before the
import are skipped; recurring events are expanded over the next 365 days by
recurring-ical-events.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]
from icalendar import Calendar

from bot.scheduling.clock import SkippedTime, wall_clock_to_utc

__all__ = [
    "RECURRENCE_HORIZON",
    "AppointmentFileError",
    "DateFormat",
    "ImportedAppointment",
    "ImportedFile",
    "Skipped",
    "parse_csv",
    "parse_ics",
    "read_appointments",
]

#: How far ahead occurrences of a recurring event are expanded.
RECURRENCE_HORIZON = timedelta(days=365)
#: Events that started before ``now`` minus this are in the past and skipped.
PAST_GRACE = timedelta(days=1)

_TELEGRAM_ID_MAX = 2**53  # Telegram user ids fit in 52 bits


@dataclass(frozen=True, slots=True)
class ImportedAppointment:
    """One appointment read from a file."""

    external_id: str
    """Stable identity for duplicate detection when the file is imported again."""
    starts_at: datetime
    """Timezone-aware, in UTC."""
    name: str | None
    """The patient's name as written in the calendar."""
    telegram_user_id: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A row or event that is not an appointment to book, and why."""

    where: str  # "row 4", "event 2 (UID x)"
    reason: str  # cancelled, no-show, all-day, in the past


@dataclass(frozen=True, slots=True)
class ImportedFile:
    """What a file holds: the appointments to book, what is left out on purpose, and the
    rows or events that cannot be read (each named, with its problem)."""

    appointments: list[ImportedAppointment]
    skipped: list[Skipped]
    rejected: list[str]


class AppointmentFileError(ValueError):
    """A file that cannot be imported at all (unreadable, no header, not a calendar); the
    message names the file and each problem."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems: tuple[str, ...] = tuple(problems)
        if len(self.problems) == 1:
            message = f"{source}: {self.problems[0]}"
        else:
            listed = "\n".join(f"  {problem}" for problem in self.problems)
            message = f"{source}: {len(self.problems)} problems:\n{listed}"
        super().__init__(message)


def read_appointments(
    path: Path,
    timezone: ZoneInfo,
    *,
    now: datetime | None = None,
    date_format: DateFormat | None = None,
) -> ImportedFile:
    """Appointments in a ``.csv`` or ``.ics`` file (by suffix, case-insensitive).

    Naive times are in the clinic's ``timezone``. ``now`` (default: the current time)
    sets which appointments are past (and skipped) and how far recurring events are
    expanded. ``date_format`` reads CSV dates written day or month first.
    """
    if now is None:
        now = datetime.now(UTC)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".ics"):
        raise AppointmentFileError(
            source,
            [f"unknown file type {path.suffix or '(no suffix)'!r}: expected .csv or .ics"],
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AppointmentFileError(source, [f"cannot read the file: {exc.strerror}"]) from exc
    if suffix == ".ics":
        return parse_ics(data, timezone, source=source, now=now)
    text = _decode(data, source, " (in Excel, save as 'CSV UTF-8')")
    return parse_csv(text, timezone, source=source, now=now, date_format=date_format)


def _decode(data: bytes, source: str, hint: str = "") -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AppointmentFileError(
            source,
            [f"line {line}: the file is not UTF-8 text{hint}"],
        ) from exc


# --- CSV -----------------------------------------------------------------


class DateFormat(StrEnum):
    """How a CSV writes dates that are not YYYY-MM-DD (never guessed: 03/04 is either)."""

    DMY = "DMY"  # 27/03/2025, 27.03.2025
    MDY = "MDY"  # 03/27/2025


# What real exports call each column (Google Calendar, Outlook, booking systems), by the
# column each stands for; the first listed is the canonical name.
_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "date": ("date", "start_date", "appointment_date", "day"),
    "time": ("time", "start_time", "appointment_time"),
    "start": ("start", "starts_at", "start_datetime", "begin"),
    "name": ("name", "patient", "patient_name", "client", "client_name", "subject", "title"),
    "telegram_user_id": ("telegram_user_id", "telegram_id", "telegram"),
    "note": ("note", "notes", "description", "comments", "comment"),
    "id": ("id", "appointment_id", "booking_id", "uid"),
    "status": ("status", "appointment_status"),
    "all_day": ("all_day", "all_day_event"),
}
_COLUMN_OF = {alias: key for key, aliases in _COLUMN_NAMES.items() for alias in aliases}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OTHER_DATE_RE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?")
_START_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")
_TRUE = frozenset({"true", "yes", "y", "1", "x", "wahr", "ja"})
_NO_SHOW = frozenset({"noshow", "no show", "no-show", "dna", "did not attend", "missed"})


class _RowError(Exception):
    """One problem with one CSV row or calendar event."""


class _Skip(Exception):
    """A row or event that is not an appointment to book; the message is why."""


def parse_csv(
    text: str,
    timezone: ZoneInfo,
    *,
    source: str = "<csv>",
    now: datetime | None = None,
    date_format: DateFormat | None = None,
) -> ImportedFile:
    """Appointments in CSV text (format in the module docstring). A bad row is rejected
    with its row number, the others are read; rows before ``now`` (minus a day) are
    skipped as past when ``now`` is given."""
    text = text.removeprefix("\ufeff")
    records = [(number, cells) for number, cells in _csv_records(text) if _filled(cells)]
    if not records:
        raise AppointmentFileError(source, ["the file is empty: expected a header row"])
    header_row, header = records[0]
    columns = _csv_columns(header, header_row, source)
    row = _RowReader(columns, len(header), timezone, date_format)

    result = ImportedFile([], [], [])
    seen: dict[str, int] = {}
    for number, cells in records[1:]:
        try:
            appointment = row.read(cells)
            if now is not None and appointment.starts_at < now - PAST_GRACE:
                raise _Skip("in the past")
            first = seen.setdefault(appointment.external_id, number)
            if first != number:
                raise _RowError(f"same appointment as row {first}")
        except _Skip as skip:
            result.skipped.append(Skipped(f"row {number}", str(skip)))
        except _RowError as exc:
            result.rejected.append(f"row {number}: {exc}")
        else:
            result.appointments.append(appointment)
    return result


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Records with the row number a spreadsheet shows (blank rows included)."""
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip(" \t,;")), "")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    yield from enumerate(reader, start=1)


def _filled(cells: Sequence[str]) -> bool:
    return any(cell.strip() for cell in cells)


def _column_key(heading: str) -> str:
    return re.sub(r"[\s\-]+", "_", heading.strip().lower())


def _csv_columns(header: Sequence[str], row: int, source: str) -> dict[str, int]:
    """Column index by the column each heading stands for; where several headings stand
    for one column (Name and Subject), the one listed first in _COLUMN_NAMES wins."""
    found: dict[str, tuple[int, int]] = {}  # key -> (rank of the alias, index)
    problems: list[str] = []
    seen: set[str] = set()
    for index, heading in enumerate(header):
        alias = _column_key(heading)
        key = _COLUMN_OF.get(alias)
        if key is None:
            continue
        if alias in seen:
            problems.append(f"row {row}: column {alias!r} appears twice in the header")
            continue
        seen.add(alias)
        rank = _COLUMN_NAMES[key].index(alias)
        if key not in found or rank < found[key][0]:
            found[key] = (rank, index)
    columns = {key: index for key, (_, index) in found.items()}
    if "start" in columns and ("date" in columns or "time" in columns):
        problems.append(f"row {row}: use either a 'start' column or 'date' and 'time', not both")
    elif "start" not in columns and not ("date" in columns and "time" in columns):
        missing = [key for key in ("date", "time") if key not in columns]
        if len(missing) == 2:
            problems.append(
                f"row {row}: the header needs 'date' and 'time' columns, or a 'start' column"
            )
        else:
            problems.append(f"row {row}: the header has no {missing[0]!r} column")
    if "name" not in columns:
        problems.append(f"row {row}: the header has no 'name' column")
    if problems:
        found_names = ", ".join(repr(heading.strip()) for heading in header)
        problems.append(f"row {row}: header read as {found_names}")
        raise AppointmentFileError(source, problems)
    return columns


@dataclass(frozen=True, slots=True)
class _RowReader:
    """Reads one CSV row into an appointment (or a _Skip, or a _RowError)."""

    columns: dict[str, int]
    header_width: int
    timezone: ZoneInfo
    date_format: DateFormat | None

    def cell(self, cells: Sequence[str], key: str) -> str:
        index = self.columns.get(key)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def read(self, cells: Sequence[str]) -> ImportedAppointment:
        if len(cells) > self.header_width and _filled(cells[self.header_width :]):
            raise _RowError(
                f"has {len(cells)} cells but the header has {self.header_width} columns "
                "(is a value with a delimiter in it missing its quotes?)"
            )
        status = " ".join(self.cell(cells, "status").casefold().split())
        if "cancel" in status:
            raise _Skip("cancelled")
        if status in _NO_SHOW:
            raise _Skip("no-show")
        if self.cell(cells, "all_day").casefold() in _TRUE:
            raise _Skip("all-day")

        problems: list[str] = []
        starts_at: datetime | None = None
        try:
            if "start" in self.columns:
                starts_at = self.start(self.cell(cells, "start"))
            else:
                starts_at = self.date_time(self.cell(cells, "date"), self.cell(cells, "time"))
        except _RowError as exc:
            problems.append(str(exc))

        telegram_user_id: int | None = None
        try:
            telegram_user_id = _telegram_id(
                self.cell(cells, "telegram_user_id"), "telegram_user_id"
            )
        except _RowError as exc:
            problems.append(str(exc))

        name = self.cell(cells, "name") or None
        if name is None and telegram_user_id is None and not problems:
            problems.append("needs a name or a telegram_user_id")
        if problems or starts_at is None:
            raise _RowError("; ".join(problems))

        clinic_id = self.cell(cells, "id")
        external_id = (
            f"csv:{clinic_id}"
            if clinic_id
            else "csv:h-" + _fingerprint(starts_at, name, telegram_user_id)
        )
        return ImportedAppointment(
            external_id=external_id,
            starts_at=starts_at,
            name=name,
            telegram_user_id=telegram_user_id,
            note=self.cell(cells, "note") or None,
        )

    def date_time(self, day: str, clock: str) -> datetime:
        if not day and not clock:
            raise _RowError("no date and time")
        problems: list[str] = []
        parsed_day: date | None = None
        parsed_time: time | None = None
        if not day:
            problems.append("no date")
        else:
            try:
                parsed_day = self.day(day)
            except _RowError as exc:
                problems.append(str(exc))
        if not clock:
            problems.append("no time")
        else:
            try:
                parsed_time = _clock(clock)
            except _RowError as exc:
                problems.append(str(exc))
        if problems or parsed_day is None or parsed_time is None:
            raise _RowError("; ".join(problems))
        return _localize(datetime.combine(parsed_day, parsed_time), self.timezone)

    def day(self, value: str) -> date:
        """A date as YYYY-MM-DD, or day or month first as --date-format says."""
        other = _OTHER_DATE_RE.fullmatch(value)
        if other is None or self.date_format is None:
            try:
                if not _DATE_RE.fullmatch(value):
                    raise ValueError
                return date.fromisoformat(value)
            except ValueError:
                hint = (
                    ": for dates written day first pass --date-format DMY, month first"
                    " --date-format MDY"
                    if other
                    else ""
                )
                raise _RowError(f"date {value!r} is not YYYY-MM-DD{hint}") from None
        first, second, year = (int(part) for part in other.groups())
        day, month = (first, second) if self.date_format is DateFormat.DMY else (second, first)
        try:
            return date(year, month, day)
        except ValueError:
            raise _RowError(f"date {value!r} is not a date ({self.date_format})") from None

    def start(self, value: str) -> datetime:
        if not value:
            raise _RowError("no start")
        if not _START_RE.fullmatch(value):
            # A day and a time as the clinic's export writes them: 27/03/2025 09:30.
            day, _, clock = value.partition(" ")
            if _OTHER_DATE_RE.fullmatch(day) and clock.strip():
                return self.date_time(day, clock.strip())
            raise _RowError(
                f"start {value!r} is not YYYY-MM-DD HH:MM or ISO 8601 (2025-03-27T09:30+01:00)"
            )
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _RowError(
                f"start {value!r} is not YYYY-MM-DD HH:MM or ISO 8601 (2025-03-27T09:30+01:00)"
            ) from None
        if parsed.tzinfo is None:
            return _localize(parsed, self.timezone)
        return parsed.astimezone(UTC)


def _clock(value: str) -> time:
    """HH:MM (24-hour, seconds allowed) or a 12-hour time with AM / PM."""
    match = _TIME_RE.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        hour, minute, second, half = match.groups()
        hours = int(hour)
        if half is not None:
            if not 1 <= hours <= 12:
                raise ValueError
            hours = hours % 12 + (12 if half in "Pp" else 0)
        return time(hours, int(minute), int(second or 0))
    except ValueError:
        raise _RowError(f"time {value!r} is not HH:MM (24-hour) or H:MM AM/PM") from None


def _fingerprint(starts_at: datetime, name: str | None, telegram_user_id: int | None) -> str:
    normalized_name = " ".join((name or "").split()).casefold()
    key = "\x1f".join(
        (
            _utc_iso(starts_at),
            normalized_name,
            "" if telegram_user_id is None else str(telegram_user_id),
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _telegram_id(value: str, what: str) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or int(value) == 0:
        raise _RowError(f"{what} {value!r} is not a Telegram user id (a positive whole number)")
    number = int(value)
    if number >= _TELEGRAM_ID_MAX:
        raise _RowError(f"{what} {value!r} is too large to be a Telegram user id")
    return number


# --- time zones ----------------------------------------------------------


def _localize(local: datetime, timezone: tzinfo) -> datetime:
    """A naive wall-clock time in ``timezone``, in UTC.

    A time skipped when the clocks go forward is an error; a time that happens
    twice when they go back is the first of the two (``fold=0``).
    """
    try:
        return wall_clock_to_utc(local, timezone)
    except SkippedTime as exc:
        raise _RowError(f"{exc} (the clocks go forward then)") from exc


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# --- iCalendar -----------------------------------------------------------

_TELEGRAM_LINE_RE = re.compile(
    r"^[ \t]*telegram(?:[ _-]?(?:user[ _-]?)?id)?[ \t]*[:=][ \t]*(\S+)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_TELEGRAM_PROPERTY = "X-ASHI-TELEGRAM-ID"
_UNSUPPORTED_FREQUENCIES = ("SECONDLY", "MINUTELY")


@dataclass(frozen=True, slots=True)
class _Window:
    earliest: datetime
    latest: datetime


@dataclass(frozen=True, slots=True)
class _Event:
    """One VEVENT that passed the checks, with what it is known by."""

    label: str
    component: Any
    zone: ZoneInfo  # of its floating times
    uid: str
    recurrence_id: datetime | None  # UTC; None: not an override (or an all-day one)


def parse_ics(
    data: bytes,
    timezone: ZoneInfo,
    *,
    source: str = "<ics>",
    now: datetime | None = None,
) -> ImportedFile:
    """Appointments in an iCalendar file, sorted by start time; an event that cannot be
    read is rejected with its number, UID and SUMMARY, the others are read.

    * Each VEVENT is one appointment; ``external_id`` is ``ics:`` + UID, plus
      ``:`` + the occurrence's original start (its RECURRENCE-ID) in UTC ISO 8601
      for one occurrence of a recurring event.
    * DTSTART with a TZID (an IANA name, a Windows name such as
      ``W. Europe Standard Time``, or any zone defined by a VTIMEZONE in the
      file) or in UTC is converted to UTC; a floating DTSTART is in the calendar's
      X-WR-TIMEZONE, else the clinic's ``timezone``. A TZID that is none of these, or
      a DTSTART given twice, rejects the event.
    * All-day events (DTSTART is a DATE) and STATUS:CANCELLED events are skipped,
      as are events that started more than a day before ``now``.
    * SUMMARY is the name, DESCRIPTION the note. A Telegram user id is read from
      an ``X-ASHI-TELEGRAM-ID`` property or a ``telegram: 123456`` line in
      DESCRIPTION.
    * Recurring events (RRULE, RDATE, EXDATE, and VEVENTs with a RECURRENCE-ID that
      move, change or cancel one occurrence, or with ``RANGE=THISANDFUTURE`` every
      later one) are expanded by recurring-ical-events from a day before ``now`` to
      365 days after it. An occurrence keeps its identity when it is moved.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    window = _Window(now - PAST_GRACE, now + RECURRENCE_HORIZON)
    text = _decode(data, source)
    # icalendar keeps every VTIMEZONE it has read in a process-wide cache, by TZID: a later
    # file defining the same TZID differently would get the first file's offsets. Choosing
    # the provider again empties that cache, so each file is read with its own definitions.
    icalendar.use_zoneinfo()  # type: ignore[no-untyped-call]
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except ValueError as exc:
        raise AppointmentFileError(source, [f"not a valid iCalendar file: {exc}"]) from exc
    if not calendars:
        raise AppointmentFileError(source, ["not an iCalendar file: no complete VCALENDAR found"])

    result = ImportedFile([], [], [])
    series: dict[str, list[_Event]] = {}
    # Occurrences whose replacement could not be read are left out, not booked as they were.
    unreadable: set[tuple[str, datetime]] = set()
    number = 0
    for calendar in calendars:
        # Floating times are in the calendar's own zone when it names one (X-WR-TIMEZONE,
        # as Google Calendar writes), else in the clinic's.
        zone = _calendar_zone(calendar, timezone)
        for component in calendar.walk("VEVENT"):
            number += 1
            label = _event_label(number, component)
            try:
                event = _checked_event(label, component, zone)
            except (_RowError, ValueError) as exc:  # ValueError: icalendar could not parse it
                result.rejected.append(f"{label}: {exc}")
                uid = _text(component.get("UID"))
                recurrence_id = _readable_recurrence_id(component, zone)
                if uid is not None and recurrence_id is not None:
                    unreadable.add((uid, recurrence_id))
                continue
            series.setdefault(event.uid, []).append(event)

    seen: set[str] = set()
    for events in series.values():
        try:
            found = _series_appointments(events, window, unreadable, result.skipped)
        except (_RowError, ValueError, TypeError) as exc:
            result.rejected.extend(f"{event.label}: {exc}" for event in events)
            continue
        for label, appointment in found:
            if appointment.external_id in seen:
                result.rejected.append(f"{label}: {appointment.external_id!r} appears twice")
                continue
            seen.add(appointment.external_id)
            result.appointments.append(appointment)
    result.appointments.sort(
        key=lambda appointment: (appointment.starts_at, appointment.external_id)
    )
    return result


def _event_label(number: int, event: Any) -> str:
    label = f"event {number}"
    uid = _text(event.get("UID"))
    summary = _text(event.get("SUMMARY"))
    if uid:
        label += f" (UID {uid}"
        label += f", {summary!r})" if summary else ")"
    elif summary:
        label += f" ({summary!r})"
    return label


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):  # a property given more than once: take the first
        value = value[0] if value else ""
    stripped = str(value).strip()
    return stripped or None


def _calendar_zone(calendar: Any, clinic: ZoneInfo) -> ZoneInfo:
    """The zone of the calendar's floating times: its X-WR-TIMEZONE if that is a zone
    name this machine knows, else the clinic's."""
    name = _text(calendar.get("X-WR-TIMEZONE"))
    if name is None:
        return clinic
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return clinic


def _event_time(event: Any, name: str, timezone: ZoneInfo) -> datetime | None:
    """The property as UTC, or None for a DATE (all-day) value."""
    prop = event.get(name)
    if prop is None:
        raise _RowError(f"no {name}")
    if isinstance(prop, list):  # written more than once: which one is meant is not known
        raise _RowError(f"{name} is given {len(prop)} times")
    value = prop.dt
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        tzid = prop.params.get("TZID")
        if tzid:
            raise _RowError(
                f"{name} has an unknown time zone {tzid!r} "
                "(not an IANA or Windows zone name, and not defined in the file)"
            )
        return _localize(value, timezone)
    return value.astimezone(UTC)


def _readable_recurrence_id(component: Any, zone: ZoneInfo) -> datetime | None:
    if component.get("RECURRENCE-ID") is None:
        return None
    try:
        return _event_time(component, "RECURRENCE-ID", zone)
    except (_RowError, ValueError):
        return None


def _checked_event(label: str, component: Any, zone: ZoneInfo) -> _Event:
    """The event, if what an appointment needs can be read from it (raises _RowError)."""
    uid = _text(component.get("UID"))
    if uid is None:
        raise _RowError("no UID")
    _event_time(component, "DTSTART", zone)  # once, in a known zone
    recurrence_id = None
    if component.get("RECURRENCE-ID") is not None:
        recurrence_id = _event_time(component, "RECURRENCE-ID", zone)
    for rule in _as_list(component.get("RRULE")):
        frequency = rule.get("FREQ", [""])[0].upper()
        if frequency in _UNSUPPORTED_FREQUENCIES:
            raise _RowError(f"RRULE frequency {frequency} is not supported")
    if not _cancelled(component):
        _appointment_fields(component)
    return _Event(label, component, zone, uid, recurrence_id)


def _cancelled(component: Any) -> bool:
    status = _text(component.get("STATUS"))
    return status is not None and status.upper() == "CANCELLED"


def _appointment_fields(component: Any) -> tuple[str | None, int | None, str | None]:
    """Name, Telegram user id and note of an event (raises _RowError without either of
    the first two)."""
    name = _text(component.get("SUMMARY"))
    note = _text(component.get("DESCRIPTION"))
    telegram_user_id = _event_telegram_id(component, note)
    if name is None and telegram_user_id is None:
        raise _RowError(f"needs a SUMMARY (the patient's name) or {_TELEGRAM_PROPERTY}")
    return name, telegram_user_id, note


def _appointment(external_id: str, starts_at: datetime, component: Any) -> ImportedAppointment:
    name, telegram_user_id, note = _appointment_fields(component)
    return ImportedAppointment(
        external_id=external_id,
        starts_at=starts_at,
        name=name,
        telegram_user_id=telegram_user_id,
        note=note,
    )


def _series_appointments(
    events: Sequence[_Event],
    window: _Window,
    unreadable: set[tuple[str, datetime]],
    skipped: list[Skipped],
) -> list[tuple[str, ImportedAppointment]]:
    """The appointments of the events that share one UID, each with the label of the
    event it comes from; what is left out on purpose is added to ``skipped``."""
    masters = [event for event in events if event.component.get("RECURRENCE-ID") is None]
    master = masters[0] if masters else None
    recurring = master is None or any(
        master.component.get(name) is not None for name in ("RRULE", "RDATE")
    )
    if master is not None and not recurring and len(events) == 1:
        return _single_appointment(master, window, skipped)
    if master is not None:
        if _cancelled(master.component):
            skipped.append(Skipped(master.label, "cancelled"))
        elif _start(master.component, master.zone) is None:
            skipped.append(Skipped(master.label, "all-day"))
    label = (master or events[0]).label
    uid = events[0].uid
    zone = (master or events[0]).zone
    shifts = _this_and_future_shifts(events)

    calendar = Calendar()
    for event in events:
        calendar.add_component(event.component)
    # A day wider than needed each way, for floating times; the window is checked in UTC.
    occurrences = recurring_ical_events.CalendarQuery(calendar).between(
        window.earliest - timedelta(days=1), window.latest + timedelta(days=1)
    )
    found = []
    for occurrence in occurrences:
        starts_at = _start(occurrence, zone)
        if starts_at is None or _cancelled(occurrence):
            continue
        if not window.earliest <= starts_at <= window.latest:
            continue
        original = _original_start(occurrence, zone, shifts)
        if (uid, original) in unreadable:
            continue
        external_id = f"ics:{uid}:{_utc_iso(original)}" if recurring else f"ics:{uid}"
        found.append((label, _appointment(external_id, starts_at, occurrence)))
    return found


def _single_appointment(
    event: _Event, window: _Window, skipped: list[Skipped]
) -> list[tuple[str, ImportedAppointment]]:
    starts_at = _start(event.component, event.zone)
    reason = None
    if _cancelled(event.component):
        reason = "cancelled"
    elif starts_at is None:
        reason = "all-day"
    elif starts_at < window.earliest:
        reason = "in the past"
    if reason is not None or starts_at is None:
        skipped.append(Skipped(event.label, reason or "all-day"))
        return []
    return [(event.label, _appointment(f"ics:{event.uid}", starts_at, event.component))]


def _start(component: Any, zone: ZoneInfo) -> datetime | None:
    """DTSTART in UTC, or None for a DATE (all-day)."""
    return _event_time(component, "DTSTART", zone)


def _this_and_future_shifts(events: Sequence[_Event]) -> dict[datetime, timedelta]:
    """For each RANGE=THISANDFUTURE change (by its RECURRENCE-ID in UTC): how far it
    moves every later occurrence, as recurring-ical-events applies it (wall-clock)."""
    shifts = {}
    for event in events:
        prop = event.component.get("RECURRENCE-ID")
        if event.recurrence_id is None or prop.params.get("RANGE") != "THISANDFUTURE":
            continue
        start = event.component.get("DTSTART").dt
        shifts[event.recurrence_id] = start.replace(tzinfo=None) - prop.dt.replace(tzinfo=None)
    return shifts


def _original_start(occurrence: Any, zone: ZoneInfo, shifts: dict[datetime, timedelta]) -> datetime:
    """When an occurrence was first planned (UTC): its RECURRENCE-ID, except after a
    RANGE=THISANDFUTURE change, which gives every later occurrence that change's."""
    prop = occurrence.get("RECURRENCE-ID")
    recurrence_id = _event_time(occurrence, "RECURRENCE-ID", zone)
    if recurrence_id is None:
        raise _RowError("an all-day RECURRENCE-ID on a timed event")
    shift = shifts.get(recurrence_id)
    if shift is None or prop.params.get("RANGE") != "THISANDFUTURE":
        return recurrence_id
    start: datetime = occurrence.get("DTSTART").dt
    wall_clock = start.replace(tzinfo=None) - shift
    if start.tzinfo is None:
        return _localize(wall_clock, zone)
    return wall_clock.replace(tzinfo=start.tzinfo).astimezone(UTC)


def _event_telegram_id(event: Any, note: str | None) -> int | None:
    from_property = _telegram_id(_text(event.get(_TELEGRAM_PROPERTY)) or "", _TELEGRAM_PROPERTY)
    from_note: int | None = None
    if note is not None:
        for match in _TELEGRAM_LINE_RE.finditer(note):
            value = match.group(1)
            if value.isascii() and value.isdigit():
                from_note = _telegram_id(value, "the 'telegram:' line in DESCRIPTION")
                break
    if from_property is not None and from_note is not None and from_property != from_note:
        raise _RowError(
            f"{_TELEGRAM_PROPERTY} {from_property} and the 'telegram: {from_note}' line "
            "in DESCRIPTION disagree"
        )
    return from_property if from_property is not None else from_note


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
