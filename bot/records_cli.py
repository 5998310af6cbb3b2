"""`ashi export` and `ashi audit`: patient records leave the bot only through here."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bot.private_files import SymlinkRefused, private_text
from bot.records.documents import export_document
from bot.settings import Settings
from storage import AuditEntry, Storage, StorageError


def add_parsers(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `export` and `audit` on the `ashi` parser."""
    exp = verbs.add_parser(
        "export", help="intakes as JSON, CSV or FHIR, or every score as CSV (stdout or --output)"
    )
    exp.add_argument("--format", choices=("json", "csv", "scores", "fhir"), default="json")
    exp.add_argument("--patient", type=int, metavar="TELEGRAM_USER_ID", help="one patient only")
    exp.add_argument(
        "--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="started that day or later"
    )
    exp.add_argument(
        "--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="started that day or before"
    )
    exp.add_argument("--output", type=Path, metavar="FILE", help="write here (mode 0600)")
    audit = verbs.add_parser("audit", help="who viewed, exported, reviewed or erased what")
    audit.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD")


def _day_start(day: date | None, settings: Settings) -> datetime | None:
    return datetime.combine(day, time(), settings.timezone) if day else None


async def run_export(args: argparse.Namespace, settings: Settings) -> str:
    """`ashi export`: the document, or a line saying where it was written."""
    storage = await Storage.open(settings.db_path, create=False)
    try:
        until = _day_start(args.until + timedelta(days=1), settings) if args.until else None
        text = await export_document(
            storage,
            settings.load_content(),
            args.format,
            settings.timezone,
            patient=args.patient,
            start=_day_start(args.since, settings),
            end=until,
        )
        filters = (
            f"format={args.format} patient={args.patient} since={args.since} until={args.until}"
        )
        await storage.audit(None, "export (command line)", args.patient, filters)
    finally:
        await storage.close()
    if args.output is None:
        return text
    try:
        with private_text(args.output) as handle:
            handle.write(text)
    except SymlinkRefused as exc:
        raise StorageError(f"--output {args.output} is a symbolic link: refused") from exc
    return f"wrote {args.output}\n"


async def run_audit(args: argparse.Namespace, settings: Settings) -> str:
    """`ashi audit`: one line per entry, oldest first."""
    storage = await Storage.open(settings.db_path, create=False)
    try:
        entries = await storage.audit_entries(_day_start(args.since, settings))
    finally:
        await storage.close()
    lines = [
        "\t".join(
            [
                entry.at.astimezone(settings.timezone).isoformat(),
                _actor(entry),
                entry.action,
                _subject(entry),
                entry.detail or "",
            ]
        ).rstrip()
        for entry in entries
    ]
    return "\n".join(lines) + "\n" if lines else "no audit entries\n"


def _actor(entry: AuditEntry) -> str:
    if entry.actor_key is not None:
        return f"erased patient {entry.actor_key}"
    return "command line" if entry.actor is None else f"user {entry.actor}"


def _subject(entry: AuditEntry) -> str:
    if entry.subject_key is not None:
        return f"erased patient {entry.subject_key}"
    return "" if entry.subject is None else f"patient {entry.subject}"
