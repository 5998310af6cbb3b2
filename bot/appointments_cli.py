"""`ashi appointments add|list|cancel|import`: the clinic's side of booking."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from telegram import Bot
from telegram.error import TelegramError

from bot.handouts import write_links, write_qr
from bot.scheduling.appointments import (
    AppointmentBook,
    AppointmentError,
    NewAppointment,
    deep_link,
    local_to_utc,
)
from bot.scheduling.importer import (
    AppointmentFileError,
    DateFormat,
    Skipped,
    read_appointments,
)
from bot.settings import Settings
from storage import Appointment, MessageStatus, Storage, Visit

VISITS = {"attended": Visit.ATTENDED, "no-show": Visit.NO_SHOW}
UNREACHABLE = "no name, and the Telegram user has not started the bot"


def add_parsers(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the appointments verbs on the `ashi` parser."""
    appointments = verbs.add_parser("appointments", help="book, list, cancel and import")
    sub = appointments.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="book an appointment (times in ASHI_TIMEZONE)")
    add.add_argument("--at", required=True, metavar="YYYY-MM-DD HH:MM")
    who = add.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", type=int, metavar="TELEGRAM_USER_ID")
    who.add_argument("--name")
    add.add_argument("--note")
    listing = sub.add_parser("list", help="appointments, from today on unless told")
    listing.add_argument("--from", dest="start", type=date.fromisoformat, metavar="DATE")
    listing.add_argument("--to", dest="end", type=date.fromisoformat, metavar="DATE")
    cancel = sub.add_parser("cancel", help="cancel an appointment and its pending messages")
    cancel.add_argument("id", type=int)
    move = sub.add_parser("move", help="give an appointment a new time (the patient is told)")
    move.add_argument("id", type=int)
    move.add_argument("--at", required=True, metavar="YYYY-MM-DD HH:MM")
    for verb, visit in (("attended", "came"), ("no-show", "did not come (no check-in)")):
        sub.add_parser(verb, help=f"record that the patient {visit}").add_argument("id", type=int)
    link = sub.add_parser("link", help="print an appointment's personal link again")
    link.add_argument("id", type=int)
    link.add_argument("--qr", type=Path, metavar="FILE.png", help="also write it as a QR code")
    imp = sub.add_parser("import", help="import a CSV or iCalendar (.ics) file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="show what would happen, book nothing")
    imp.add_argument(
        "--exclude",
        type=_pattern,
        metavar="REGEX",
        help="skip events whose name matches (e.g. 'lunch|closed|training'; case ignored),"
        " instead of ASHI_IMPORT_EXCLUDE",
    )
    imp.add_argument(
        "--date-format",
        type=DateFormat,
        choices=list(DateFormat),
        help="how the file writes dates that are not YYYY-MM-DD: DMY (27/03/2025) or MDY",
    )
    imp.add_argument(
        "--links",
        type=Path,
        metavar="FILE.csv",
        help="write name, time and personal link of each booking by name (for a mail merge)",
    )


class CliError(Exception):
    """A problem to print as one line; exit status 1."""


def _pattern(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a regular expression: {exc}") from exc


async def run(args: argparse.Namespace, settings: Settings) -> str:
    """Carry out one appointments action; returns what to print."""
    storage = await Storage.open(settings.db_path, create=False)
    try:
        book = AppointmentBook(storage, plan=settings.reminder_plan)
        if args.action == "add":
            return await _add(book, settings, args)
        if args.action == "list":
            return await _list(book, storage, settings, args.start, args.end)
        if args.action == "cancel":
            if not await book.cancel(args.id):
                raise CliError(f"no scheduled appointment #{args.id}")
            return f"cancelled appointment #{args.id} and its pending messages\n"
        if args.action == "move":
            return await _move(book, storage, settings, args)
        if args.action in VISITS:
            if not await book.record_visit(args.id, VISITS[args.action]):
                raise CliError(f"no scheduled appointment #{args.id}")
            return f"appointment #{args.id}: {args.action}\n"
        if args.action == "link":
            return await _link(storage, settings, args.id, args.qr)
        return await _import(book, storage, settings, args)
    finally:
        await storage.close()


async def _username(settings: Settings) -> str | None:
    if settings.bot_username:
        return settings.bot_username
    if settings.token is None:
        return None
    try:
        async with Bot(settings.token, base_url=settings.api_url) as bot:
            return bot.username
    except TelegramError:
        return None


async def _link_line(settings: Settings, appointment: Appointment) -> str:
    url = _personal_link(await _username(settings), appointment)
    if url is None:
        return (
            f"  personal link payload: {appointment.link_token or ''}\n"
            "  (set ASHI_BOT_USERNAME to print the whole https://t.me/... link)\n"
        )
    return f"  personal link: {url}\n"


def _personal_link(username: str | None, appointment: Appointment) -> str | None:
    """The appointment's t.me link, or None when the bot's username is not known."""
    if username is None or appointment.link_token is None:
        return None
    return deep_link(username, appointment.link_token)


def _at(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise CliError(f"--at must be YYYY-MM-DD HH:MM, got {text!r}") from exc


def _local(settings: Settings, moment: datetime) -> str:
    return moment.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M")


async def _add(book: AppointmentBook, settings: Settings, args: argparse.Namespace) -> str:
    naive = _at(args.at)
    try:
        starts = local_to_utc(naive, settings.timezone)
        appointment = await book.book(
            NewAppointment(starts, telegram_user_id=args.patient, name=args.name, note=args.note)
        )
    except AppointmentError as exc:
        raise CliError(str(exc)) from exc
    assert appointment is not None
    out = f"appointment #{appointment.id} on {_local(settings, starts)} ({settings.timezone.key})\n"
    for planned in book.planned(starts):
        out += f"  {planned.kind} message due {_local(settings, planned.due_at)}\n"
    if appointment.patient_id is None:
        out += await _link_line(settings, appointment)
        out += "  send this link to the patient: opening it links their Telegram to the booking\n"
    return out


async def _move(
    book: AppointmentBook, storage: Storage, settings: Settings, args: argparse.Namespace
) -> str:
    try:
        starts = local_to_utc(_at(args.at), settings.timezone)
    except AppointmentError as exc:
        raise CliError(str(exc)) from exc
    appointment = await book.move(args.id, starts)
    if appointment is None:
        raise CliError(f"no scheduled appointment #{args.id}")
    out = f"appointment #{appointment.id} moved to {_local(settings, starts)}"
    out += f" ({settings.timezone.key})\n"
    for message in await storage.messages_for(appointment.id):
        if message.status == MessageStatus.PENDING:
            out += f"  {message.kind} message due {_local(settings, message.due_at)}\n"
    patient = await storage.patient(appointment.patient_id) if appointment.patient_id else None
    if patient is None:
        out += await _link_line(settings, appointment)
        out += "  not linked to a patient yet: tell them the new time with this link\n"
    elif not patient.reminders_enabled:
        out += "  the patient turned appointment messages off: tell them the new time yourself\n"
    else:
        out += "  the patient will be told the new time in Telegram\n"
    return out


async def _link(storage: Storage, settings: Settings, appointment_id: int, qr: Path | None) -> str:
    appointment = await storage.appointment(appointment_id)
    if appointment is None:
        raise CliError(f"no appointment #{appointment_id}")
    out = f"appointment #{appointment.id} on {_local(settings, appointment.starts_at)}"
    out += f" ({appointment.name or 'linked patient'})\n"
    out += await _link_line(settings, appointment)
    if qr is not None:
        url = _personal_link(await _username(settings), appointment)
        if url is None:
            raise CliError("a QR code needs the whole link: set ASHI_BOT_USERNAME")
        _write(qr, lambda: write_qr(url, qr))
        out += f"  QR code written to {qr}\n"
    return out


async def _list(
    book: AppointmentBook,
    storage: Storage,
    settings: Settings,
    start: date | None,
    end: date | None,
) -> str:
    tz = settings.timezone
    begin = datetime.combine(start or datetime.now(tz).date(), time(), tz)
    finish = datetime.combine(end, time(), tz) + timedelta(days=1) if end else None
    lines = []
    for appointment, first_name in await book.between(begin, finish):
        messages = await storage.messages_for(appointment.id)
        sent = ", ".join(f"{m.kind} {m.status}" for m in messages)
        who = first_name or appointment.name or "-"
        linked = "linked" if appointment.patient_id else "not linked"
        lines.append(
            f"#{appointment.id}  {_local(settings, appointment.starts_at)}  {who}  "
            f"{appointment.status}  {linked}  {appointment.attendance or ''}"
            f"  {appointment.visit or ''}  [{sent}]"
        )
    return "\n".join(lines) + "\n" if lines else "no appointments\n"


class RowsRejected(CliError):
    """An import that booked what it could and rejected some rows: the report goes to
    standard output, this one line to standard error, and the exit status is 1."""

    def __init__(self, report: str, count: int) -> None:
        what = "row or event" if count == 1 else "rows or events"
        super().__init__(f"{count} {what} rejected (listed above): fix and import again")
        self.report = report


async def _import(
    book: AppointmentBook, storage: Storage, settings: Settings, args: argparse.Namespace
) -> str:
    try:
        found = read_appointments(args.file, settings.timezone, date_format=args.date_format)
    except AppointmentFileError as exc:
        raise CliError(str(exc)) from exc
    skipped = list(found.skipped)
    exclude = args.exclude or settings.import_exclude
    booked = known = 0
    by_name: list[tuple[str, datetime, Appointment | None]] = []
    for record in found.appointments:
        if exclude is not None and record.name and exclude.search(record.name):
            skipped.append(Skipped(record.external_id, "excluded"))
            continue
        if args.dry_run:
            linked = record.telegram_user_id is not None and bool(
                await storage.patient_by_telegram_id(record.telegram_user_id)
            )
            if not linked and not record.name:
                skipped.append(Skipped(record.external_id, UNREACHABLE))
            elif await storage.appointment_by_external_id(record.external_id):
                known += 1
            else:
                booked += 1
                if not linked:
                    by_name.append((record.name or "", record.starts_at, None))
            continue
        try:
            appointment = await book.book_imported(record)
        except AppointmentError:
            # Neither a Telegram account that has started the bot nor a name for a link.
            skipped.append(Skipped(record.external_id, UNREACHABLE))
            continue
        if appointment is None:
            known += 1
            continue
        booked += 1
        if appointment.patient_id is None:
            by_name.append((appointment.name or "", appointment.starts_at, appointment))
    out = "".join(f"rejected {problem}\n" for problem in found.rejected)
    out += "".join(f"skipped {s.where}: {s.reason}\n" for s in skipped)
    reasons = Counter(s.reason for s in skipped)
    left_out = f"skipped {len(skipped)}"
    if reasons:
        left_out += " (" + ", ".join(f"{n} {why}" for why, n in sorted(reasons.items())) + ")"
    verb = "would book" if args.dry_run else "booked"
    out += (
        f"{verb} {booked}, already imported {known}, {left_out}, rejected {len(found.rejected)}\n"
    )
    out += await _link_report(settings, by_name, None if args.dry_run else args.links)
    if args.dry_run:
        out += "dry run: nothing was booked\n"
    if found.rejected:
        raise RowsRejected(out, len(found.rejected))
    return out


async def _link_report(
    settings: Settings,
    by_name: list[tuple[str, datetime, Appointment | None]],
    links: Path | None,
) -> str:
    """Each appointment booked by name with its personal link (and the --links file)."""
    out = ""
    rows = []
    # Asked of Telegram once, not once per appointment, when ASHI_BOT_USERNAME is not set.
    username = await _username(settings) if any(a for _, _, a in by_name) else None
    for name, starts_at, appointment in by_name:
        when = _local(settings, starts_at)
        if appointment is None:  # a dry run: no link exists yet
            out += f"  {when} {name}: booked by name, with a personal link\n"
            continue
        url = _personal_link(username, appointment) or appointment.link_token or ""
        rows.append((name, when, url))
        out += f"  #{appointment.id} {when} {name}: {url}\n"
    if rows:
        out += "  send each patient their link: opening it links their Telegram to the booking\n"
    if links is not None:
        _write(links, lambda: write_links(links, rows))
        out += f"  {len(rows)} personal links written to {links}\n"
    return out


def _write(path: Path, write: Callable[[], None]) -> None:
    """Write a file for the clinic; a failure is one line naming the file."""
    try:
        write()
    except OSError as exc:
        raise CliError(f"{path} cannot be written: {exc.strerror}") from exc


__all__: Sequence[str] = ("CliError", "RowsRejected", "add_parsers", "run")
