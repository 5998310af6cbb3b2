"""`ashi appointments add|list|cancel|import`: the clinic's side of booking."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from telegram import Bot
from telegram.error import TelegramError

from bot.scheduling.appointments import (
    AppointmentBook,
    AppointmentError,
    NewAppointment,
    deep_link,
    local_to_utc,
)
from bot.scheduling.importer import AppointmentFileError, read_appointments
from bot.settings import Settings
from storage import Appointment, Storage


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
    imp = sub.add_parser("import", help="import a CSV or iCalendar (.ics) file")
    imp.add_argument("file", type=Path)


class CliError(Exception):
    """A problem to print as one line; exit status 1."""


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
        return await _import(book, settings, args.file)
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
    token = appointment.link_token or ""
    username = await _username(settings)
    if username is None:
        return (
            f"  personal link payload: {token}\n"
            "  (set ASHI_BOT_USERNAME to print the whole https://t.me/... link)\n"
        )
    return f"  personal link: {deep_link(username, token)}\n"


def _local(settings: Settings, moment: datetime) -> str:
    return moment.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M")


async def _add(book: AppointmentBook, settings: Settings, args: argparse.Namespace) -> str:
    try:
        naive = datetime.strptime(args.at, "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise CliError(f"--at must be YYYY-MM-DD HH:MM, got {args.at!r}") from exc
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
            f"{appointment.status}  {linked}  {appointment.attendance or ''}  [{sent}]"
        )
    return "\n".join(lines) + "\n" if lines else "no appointments\n"


async def _import(book: AppointmentBook, settings: Settings, path: Path) -> str:
    try:
        records = read_appointments(path, settings.timezone)
    except AppointmentFileError as exc:
        raise CliError(str(exc)) from exc
    added = skipped = 0
    warnings: list[str] = []
    for record in records:
        new = NewAppointment(
            record.starts_at,
            telegram_user_id=record.telegram_user_id,
            name=record.name,
            note=record.note,
            external_id=record.external_id,
        )
        try:
            booked = await book.book(new)
        except AppointmentError as exc:
            if record.telegram_user_id is None or not record.name:
                warnings.append(f"skipped {record.external_id}: {exc}")
                continue
            # A patient who has not started the bot yet gets a personal link instead.
            booked = await book.book(_by_name(new))
        if booked is None:
            skipped += 1
        else:
            added += 1
    summary = f"imported {added} appointments, {skipped} already imported\n"
    return "".join(f"warning: {w}\n" for w in warnings) + summary


def _by_name(new: NewAppointment) -> NewAppointment:
    return NewAppointment(new.starts_at, name=new.name, note=new.note, external_id=new.external_id)


__all__: Sequence[str] = ("CliError", "add_parsers", "run")
