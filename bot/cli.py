"""The `ashi` command: run, demo, export, migrate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot import appointments_cli, records_cli
from bot.app import ALLOWED_UPDATES, bot_api_client, build_application
from bot.content import CONTENT_DIR, Content, ContentError
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_environment, parse_settings
from storage import Storage


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ashi", description="Ashi: patient-intake Telegram bot for a dry needling clinic."
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("run", help="run the bot (long polling); needs TELEGRAM_BOT_TOKEN")
    demo = verbs.add_parser(
        "demo", help="chat with the bot in this terminal against a local emulator (no token)"
    )
    demo.add_argument(
        "--db", type=Path, help="database file to use (default: a throw-away temporary one)"
    )
    verbs.add_parser("migrate", help="create the database or bring it up to date")
    appointments_cli.add_parsers(verbs)
    records_cli.add_parsers(verbs)
    content = verbs.add_parser("content", help="check the texts in content/")
    content.add_argument("action", choices=("check",))
    content.add_argument("--dir", type=Path, default=CONTENT_DIR, help=argparse.SUPPRESS)
    return parser


def _settings(require_token: bool) -> Settings:
    return parse_settings(load_environment(), require_token=require_token)


async def _migrate(settings: Settings) -> int:
    storage = await Storage.open(settings.db_path)
    try:
        return await storage.schema_version()
    finally:
        await storage.close()


class StartError(Exception):
    """`ashi run` cannot start; the message says why in one line."""


async def _preflight(settings: Settings) -> None:
    """Check the database and the token before serving, so that a wrong setting is one
    clear line instead of a traceback from inside the polling loop."""
    try:
        await _migrate(settings)
    except sqlite3.DatabaseError as exc:
        raise StartError(f"ASHI_DB_PATH {settings.db_path} cannot be used: {exc}.") from exc
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise StartError(
            f"ASHI_DB_PATH {settings.db_path} cannot be used: {exc.strerror or exc}{where}."
        ) from exc
    assert settings.token is not None
    try:
        request = bot_api_client(settings.api_url, 1)
        async with Bot(settings.token, base_url=settings.api_url, request=request):
            pass  # initialising asks Telegram who the bot is
    except InvalidToken as exc:
        raise StartError(
            "Telegram rejected TELEGRAM_BOT_TOKEN (revoked or mistyped? get it from @BotFather),"
            f" or TELEGRAM_API_URL {settings.api_url} is not a Bot API."
        ) from exc
    except NetworkError as exc:
        reason = exc.message.replace(settings.token, "<token>")
        raise StartError(
            f"cannot reach the Bot API at TELEGRAM_API_URL {settings.api_url}: {reason}"
        ) from exc


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.verb == "run":
            settings = _settings(require_token=True)
            configure_logging(settings.token)
            app = build_application(settings)
            asyncio.run(_preflight(settings))
            if not settings.practitioner_ids:
                logging.getLogger("ashi").warning(
                    "ASHI_PRACTITIONER_IDS is empty: intakes are stored but nobody is notified"
                )
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
        elif args.verb == "demo":
            from bot.demo import run_demo

            settings = _settings(require_token=False)
            configure_logging(None, logging.WARNING)
            asyncio.run(run_demo(settings, db_path=args.db))
        elif args.verb == "export":
            settings = _settings(require_token=False)
            sys.stdout.write(asyncio.run(records_cli.run_export(args, settings)))
        elif args.verb == "audit":
            settings = _settings(require_token=False)
            sys.stdout.write(asyncio.run(records_cli.run_audit(args, settings)))
        elif args.verb == "appointments":
            settings = _settings(require_token=False)
            sys.stdout.write(asyncio.run(appointments_cli.run(args, settings)))
        elif args.verb == "content":
            # Imported here: it loads the emulator's HTML parser (and aiohttp with it).
            from bot.content_check import check_content

            content = Content.load(args.dir)
            problems = check_content(content)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print(f"ashi: {len(problems)} content problems", file=sys.stderr)
                return 1
            print(f"content OK: {', '.join(content.languages)} (version {content.version})")
        elif args.verb == "migrate":
            settings = _settings(require_token=False)
            version = asyncio.run(_migrate(settings))
            print(f"database {settings.db_path} is at schema version {version}")
    except (appointments_cli.CliError, StartError) as exc:
        print(f"ashi: {exc}", file=sys.stderr)
        return 1
    except SettingsError as exc:
        for message in exc.problems:
            print(f"ashi: {message}", file=sys.stderr)
        return 2
    except ContentError as exc:
        print(f"ashi: content problem: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ashi: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
