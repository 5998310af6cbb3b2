"""`make demo` as a person uses it: a terminal chat with the real bot, no token."""

import asyncio
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.emulator.terminal import HELP, NO_REPLY
from tests.support.databases import create_database
from tests.support.process import ashi_command

# What the person types, each with a name for the tests: the bot greeted them already.
SCRIPT = [
    ("agree", "1"),
    ("done too early", "7"),  # nothing ticked yet: the bot only shows a pop-up
    ("tick arms", "4"),
    ("done", "7"),
    ("desk work", "1"),
    ("pain 0", "1"),
    ("a week", "1"),
    ("tender spot", "1"),
    ("numbness", "1"),  # Yes: a red flag, and the demo user is the practitioner too
    ("open record", "p1"),  # the alert's, though the next question is on screen below it
    ("bladder", "1"),  # the question's Yes, though the record's buttons are the latest
    ("no such button", "p9"),
    ("pause", "/cancel"),
    ("leave", "/quit"),
]
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ", re.MULTILINE)


@dataclass
class Demo:
    stdout: str
    stderr: str
    tmp: Path
    before_start: str
    """Everything up to the first prompt."""
    replies: dict[str, str]
    """What followed each prompt: "start" (the demo's own /start) and SCRIPT's names."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    tmp = tmp_path_factory.mktemp("demo")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ASHI_", "TELEGRAM_"))}
    # `demo --db` uses an existing database only.
    asyncio.run(create_database(tmp / "demo.sqlite3"))
    result = subprocess.run(
        [*ashi_command(), "demo", "--db", str(tmp / "demo.sqlite3")],
        input="".join(f"{line}\n" for _, line in SCRIPT),
        cwd=tmp,
        env={**clean, "TMPDIR": str(tmp)},  # where the log file goes
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp / "demo.sqlite3").exists()
    before_start, *after_prompts = result.stdout.split("you> ")
    names = ["start", *(name for name, _ in SCRIPT)]
    assert len(after_prompts) == len(names), result.stdout
    replies = dict(zip(names, after_prompts, strict=True))
    return Demo(result.stdout, result.stderr, tmp, before_start, replies)


def test_the_bot_greets_without_typing_start(demo: Demo) -> None:
    assert HELP in demo.before_start
    greeting = demo.replies["start"]
    assert greeting.startswith("/start\nbot: Hello! I'm the intake assistant")
    assert "Do you agree to share your answers" in greeting
    assert greeting.endswith("[1] I agree  [2] No thanks\n")
    assert "Question 1 of 26" in demo.replies["agree"]


def test_a_pop_up_is_shown_and_does_not_hold_up_the_prompt(demo: Demo) -> None:
    pop_up = "bot (pop-up): Please choose at least one answer first.\n"
    assert demo.replies["done too early"] == pop_up
    # Had the prompt waited for a message, it would have timed out saying so.
    assert NO_REPLY not in demo.stdout
    assert "✅ Arms" in demo.replies["tick arms"]
    assert "What brought the pain on?" in demo.replies["done"]


def test_practitioner_and_patient_buttons_are_pressed_apart(demo: Demo) -> None:
    on_screen = demo.replies["numbness"]
    alert = on_screen[on_screen.index("bot: 🚨 Red flag from You") : on_screen.index("bot: ⚠️")]
    assert alert.endswith("\n     [p1] Open record  [p2] Message patient\n")
    assert on_screen.endswith("or between the legs?\n     [1] Yes  [2] No\n")  # the latest

    record = demo.replies["open record"]
    assert "Patient record: You (id 1001)" in record
    # The intake is still in progress: shown as such, with nothing to mark reviewed yet.
    assert "Intake #1 (in progress, 🚨 urgent): You (id 1001)" in record
    assert "[p1] Open record  [p2] Message patient" in record
    assert "Mark reviewed" not in record

    answered = demo.replies["bladder"]
    assert "Your answer: Yes" in answered and "Question 8 of 26" in answered
    assert "Patient record" not in answered

    assert demo.replies["no such button"] == "(choose a button from p1 to p2)\n"
    assert "Your answers so far are kept" in demo.replies["pause"]


def test_log_lines_go_to_the_printed_file(demo: Demo) -> None:
    first_line = demo.stdout.split("\n", 1)[0]
    assert first_line.startswith("Log: ")
    log_path = Path(first_line.removeprefix("Log: "))
    assert log_path.parent == demo.tmp and log_path.name.startswith("ashi-demo-")
    log = log_path.read_text(encoding="utf-8")  # kept after the demo ended
    assert "INFO telegram.ext.Application: Application started" in log
    assert "TEST-TOKEN" not in log
    assert not LOG_LINE.search(demo.stdout)
    assert not LOG_LINE.search(demo.stderr)
    assert "Application started" not in demo.stdout + demo.stderr
