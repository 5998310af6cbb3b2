"""The `ashi` command: run, demo, migrate, backup, content, appointments, export, audit.

Every bad setting, path, file or token ends the command with one `ashi:` line saying what
is wrong and how to fix it, and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from bot import appointments_cli, records_cli
from bot.content import Content, ContentError, init_content
from bot.logs import configure_logging
from bot.runner import StartError, TelegramUnreachable, start
from bot.settings import Settings, SettingsError, load_environment, parse_settings
from storage import DATABASE_ERRORS, DatabaseLock, Storage, StorageError, describe

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ashi", description="Ashi: patient-intake Telegram bot for a dry needling clinic."
    )
    parser.add_argument("--version", action="version", version=f"ashi {version('ashi')}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    run = verbs.add_parser(
        "run", help="run the bot (long polling, or a webhook); needs TELEGRAM_BOT_TOKEN"
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="take updates on a webhook (ASHI_WEBHOOK_URL, ASHI_LISTEN, ASHI_WEBHOOK_SECRET)",
    )
    demo = verbs.add_parser(
        "demo", help="chat with the bot in this terminal against a local emulator (no token)"
    )
    demo.add_argument(
        "--db", type=Path, help="an existing database to use (default: a throw-away one)"
    )
    verbs.add_parser("migrate", help="create the database or bring it up to date")
    backup = verbs.add_parser(
        "backup", help="a consistent copy of the database, also while the bot runs"
    )
    backup.add_argument("file", type=Path, metavar="FILE", help="a new file (never overwritten)")
    appointments_cli.add_parsers(verbs)
    records_cli.add_parsers(verbs)
    content = verbs.add_parser("content", help="check the texts, or copy them to edit")
    actions = content.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="check ASHI_CONTENT_DIR (or the shipped texts)")
    check.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    init = actions.add_parser("init", help="copy the shipped texts into DIR, to edit")
    init.add_argument("dir", type=Path, metavar="DIR")
    return parser


def _settings(require_token: bool = False, require_webhook: bool = False) -> Settings:
    return parse_settings(
        load_environment(), require_token=require_token, require_webhook=require_webhook
    )


class ContentProblems(Exception):
    """The texts have problems; `lines` names each."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(f"{len(lines)} content problems")
        self.lines = lines


def checked_content(settings: Settings, directory: Path | None = None) -> Content:
    """The configured texts, refused with every problem `ashi content check` would name."""
    # Imported here: the checks render every message, which the other verbs do not need.
    from bot.content_check import check_configured

    content = settings.load_content(directory)
    problems = check_configured(content)
    if problems:
        raise ContentProblems([f"{content.directory}: {p}" for p in problems])
    return content


async def _migrate(settings: Settings) -> int:
    # Not under a running bot: it migrates at start, and its code expects the schema it found.
    lock = DatabaseLock.acquire(settings.db_path, "migrate", sends=False)
    try:
        storage = await Storage.open(settings.db_path)
        try:
            return await storage.schema_version()
        finally:
            await storage.close()
    finally:
        lock.release()


async def _backup(settings: Settings, target: Path) -> str:
    storage = await Storage.open(settings.db_path, create=False, migrate=False)
    try:
        completed = await storage.backup_to(target)
    finally:
        await storage.close()
    return f"backup of {settings.db_path} written to {target} ({completed} completed intakes)\n"


def _run(webhook: bool) -> int:
    settings = _settings(require_token=True, require_webhook=webhook)
    configure_logging(settings.token)
    return start(settings, checked_content(settings), webhook=webhook)


def _demo(db: Path | None) -> int:
    from bot.demo import run_demo

    settings = _settings()
    checked_content(settings)
    if db is not None and not db.exists():
        raise StorageError(
            f"there is no database at {db}: leave out --db for a throw-away one, or create"
            " it with `ashi migrate` (ASHI_DB_PATH)"
        )
    # The bot takes the database's lock as it starts: a live database is refused.
    asyncio.run(run_demo(settings, db_path=db))
    return 0


def _content_verb(args: argparse.Namespace) -> int:
    if args.action == "init":
        written, kept = init_content(args.dir)
        for path in written:
            print(f"wrote {args.dir / path}")
        for path in kept:
            print(f"kept {args.dir / path} (exists; never overwritten)")
        print(f"to use these texts: ASHI_CONTENT_DIR={args.dir.resolve()}")
        return 0
    settings = _settings()
    try:
        content = checked_content(settings, args.dir)
    except ContentProblems as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        print(f"ashi: {exc}", file=sys.stderr)
        return 1
    print(
        f"content OK: {', '.join(content.languages)} (version {content.version},"
        f" {content.directory})"
    )
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.verb == "run":
        return _run(args.webhook)
    if args.verb == "demo":
        return _demo(args.db)
    if args.verb == "content":
        return _content_verb(args)
    settings = _settings()
    try:
        if args.verb == "migrate":
            at = asyncio.run(_migrate(settings))
            print(f"database {settings.db_path} is at schema version {at}")
        elif args.verb == "backup":
            sys.stdout.write(asyncio.run(_backup(settings, args.file)))
        elif args.verb == "export":
            sys.stdout.write(asyncio.run(records_cli.run_export(args, settings)))
        elif args.verb == "audit":
            sys.stdout.write(asyncio.run(records_cli.run_audit(args, settings)))
        elif args.verb == "appointments":
            sys.stdout.write(asyncio.run(appointments_cli.run(args, settings)))
    except DATABASE_ERRORS as exc:
        # The database refused in the middle of a verb (a full disk, a lock held too long).
        raise StorageError(f"database {settings.db_path}: {describe(exc)}") from exc
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except appointments_cli.RowsRejected as exc:
        sys.stdout.write(exc.report)  # what was done, and each row that was not
        print(f"ashi: {exc}", file=sys.stderr)
        return 1
    except (appointments_cli.CliError, TelegramUnreachable) as exc:
        print(f"ashi: {exc}", file=sys.stderr)
        return 1
    except (StartError, StorageError) as exc:
        print(f"ashi: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SettingsError as exc:
        for message in exc.problems:
            print(f"ashi: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ContentProblems as exc:
        for line in exc.lines:
            print(f"ashi: content problem: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ContentError as exc:
        print(f"ashi: content problem: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"ashi: {describe(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
