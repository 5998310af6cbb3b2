"""`ashi run` with one bad setting at a time: one clear line on stderr, never a traceback,
never the token.

Every case is started at once (a module fixture) so that the processes overlap; each test
then checks its own.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.emulator.server import BotApiEmulator
from bot.logs import RedactToken
from tests.support.process import ashi_command

TOKEN = "424242:WellFormed-but-secret_Token"


@dataclass(frozen=True)
class Case:
    env: dict[str, str]
    expected: str


def closed_port() -> int:
    """A local port nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cases(tmp: Path) -> dict[str, Case]:
    """Each bad setting (paths under `tmp`) and what its line must say."""
    return {
        "token malformed": Case(
            {"TELEGRAM_BOT_TOKEN": "bot-token-from-somewhere"},
            "TELEGRAM_BOT_TOKEN does not look like a bot token",
        ),
        "api url malformed": Case(
            {"TELEGRAM_API_URL": "ftp://api.telegram.org/bot"},
            "TELEGRAM_API_URL must be an http(s) URL",
        ),
        "api url unreachable": Case(
            {"TELEGRAM_API_URL": f"http://127.0.0.1:{closed_port()}/bot"},
            "cannot reach the Bot API at TELEGRAM_API_URL",
        ),
        "practitioner ids": Case(
            {"ASHI_PRACTITIONER_IDS": "11111111, dr_na"},
            "ASHI_PRACTITIONER_IDS must be comma-separated Telegram user ids, got 'dr_na'",
        ),
        "timezone": Case(
            {"ASHI_TIMEZONE": "Mars/Olympus_Mons"},
            "ASHI_TIMEZONE must be an IANA time zone such as Europe/London",
        ),
        "reminder offsets": Case(
            {"ASHI_REMINDER_OFFSETS": "reminder:tomorrow"}, "ASHI_REMINDER_OFFSETS: "
        ),
        "quiet hours": Case({"ASHI_QUIET_HOURS": "21:00-25:00"}, "ASHI_QUIET_HOURS: "),
        "retention days": Case(
            {"ASHI_RETENTION_DAYS": "thirty"},
            "ASHI_RETENTION_DAYS must be a whole number of days or off, got 'thirty'",
        ),
        "default language malformed": Case(
            {"ASHI_DEFAULT_LANGUAGE": "english"},
            "ASHI_DEFAULT_LANGUAGE must be a language code such as en or ko",
        ),
        "default language without content": Case(
            {"ASHI_DEFAULT_LANGUAGE": "fr"}, "there is no content for the language 'fr'"
        ),
        "db path cannot be created": Case(
            {"ASHI_DB_PATH": str(tmp / "a_file" / "data" / "ashi.sqlite3")},
            "cannot be used: Not a directory",
        ),
        "db path is a folder": Case({"ASHI_DB_PATH": str(tmp)}, "cannot be used: Is a directory"),
        "db path is not a database": Case(
            {"ASHI_DB_PATH": str(tmp / "garbage.sqlite3")},
            "cannot be used: file is not a database",
        ),
    }


def environment(tmp: Path, overrides: dict[str, str]) -> dict[str, str]:
    """A valid configuration (except for a Bot API nobody answers) with `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASHI_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=f"http://127.0.0.1:{closed_port()}/bot",
        ASHI_DB_PATH=str(tmp / "ok.sqlite3"),
        ASHI_PRACTITIONER_IDS="11111111",
    )
    env.update(overrides)
    return env


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Each case's exit status and stderr, all run concurrently."""
    tmp = tmp_path_factory.mktemp("bad_settings")
    (tmp / "a_file").write_text("not a folder")
    (tmp / "garbage.sqlite3").write_bytes(b"this is not an SQLite database, just bytes" * 100)
    started = {
        name: subprocess.Popen(
            [*ashi_command(), "run"],
            cwd=tmp,
            env=environment(tmp, case.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, case in cases(tmp).items()
    }
    results = {}
    for name, process in started.items():
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        results[name] = (process.returncode, stdout + stderr)
    return results


def assert_one_clear_line(status: int | None, output: str, expected: str) -> None:
    assert status in (1, 2), output
    assert output.count("\n") == 1 and output.startswith("ashi: "), output
    assert expected in output
    assert "Traceback" not in output
    assert TOKEN.split(":")[1] not in output


@pytest.mark.parametrize("name", list(cases(Path("unused"))))
def test_a_bad_setting_is_one_clear_line(name: str, outcomes: dict[str, tuple[int, str]]) -> None:
    expected = cases(Path("unused"))[name].expected
    status, output = outcomes[name]
    assert_one_clear_line(status, output, expected)


async def test_a_token_telegram_rejects_is_one_line_without_the_token(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    process = await asyncio.create_subprocess_exec(
        *ashi_command(),
        "run",
        cwd=tmp_path,
        env=environment(tmp_path, {"TELEGRAM_API_URL": emulator.base_url}),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert_one_clear_line(process.returncode, output.decode(), "Telegram rejected TELEGRAM_BOT")
    assert [(c.method, c.error_code) for c in emulator.transcript] == [("getMe", 401)]


def test_a_logged_exception_that_names_the_token_is_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactToken(TOKEN))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            logger.exception("bootstrap failed for %s", TOKEN)
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "was rejected" in logged and "Traceback" in logged
    assert TOKEN not in logged
    assert logged.count("<token>") == 2


def test_an_uncaught_exception_prints_no_token(tmp_path: Path) -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    program = "\n".join(
        [
            "import threading",
            "from bot.logs import configure_logging",
            f"configure_logging({TOKEN!r})",
            "def fail():",
            f"    raise OSError({url!r})",
            "thread = threading.Thread(target=fail)",
            "thread.start()",
            "thread.join()",
            f"raise RuntimeError({url!r})",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.count("Traceback") == 2  # the thread's and the main one's
    assert "OSError: https://api.telegram.org/bot<token>/getMe" in result.stderr
    assert "RuntimeError: https://api.telegram.org/bot<token>/getMe" in result.stderr
    assert TOKEN not in result.stderr and TOKEN.split(":")[1] not in result.stderr
