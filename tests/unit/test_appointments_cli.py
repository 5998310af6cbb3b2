"""`ashi appointments ...` as the clinic runs it: real processes on a shared database."""

import asyncio
import csv
import re
import stat
from pathlib import Path

import pytest

from bot.vocabulary.people import Who
from storage import Storage
from tests.support.conversation import Conversation
from tests.support.databases import create_database
from tests.support.process import ashi

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(autouse=True)
def database(tmp_path: Path) -> None:
    """The appointments verbs never create a database."""
    asyncio.run(create_database(tmp_path / "ashi.sqlite3"))


def env(tmp_path: Path) -> dict[str, str]:
    return {
        "ASHI_DB_PATH": str(tmp_path / "ashi.sqlite3"),
        "ASHI_TIMEZONE": "Europe/London",
        "ASHI_BOT_USERNAME": "ashi_clinic_bot",
    }


def test_booking_by_name_prints_a_personal_deep_link(tmp_path: Path) -> None:
    result = ashi(
        "appointments",
        "add",
        "--at",
        "2031-06-02 09:30",
        "--name",
        "Jane Doe",
        cwd=tmp_path,
        **env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "appointment #1 on 2031-06-02 09:30 (Europe/London)" in result.stdout
    assert "reminder message due 2031-06-01 09:30" in result.stdout
    link = re.search(r"https://t\.me/ashi_clinic_bot\?start=(\S+)", result.stdout)
    assert link, result.stdout
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", link.group(1))

    listed = ashi("appointments", "list", "--from", "2031-06-01", cwd=tmp_path, **env(tmp_path))
    assert "#1  2031-06-02 09:30  Jane Doe  scheduled  not linked" in listed.stdout
    assert "reminder pending" in listed.stdout

    cancelled = ashi("appointments", "cancel", "1", cwd=tmp_path, **env(tmp_path))
    assert cancelled.returncode == 0
    listed = ashi("appointments", "list", "--from", "2031-06-01", cwd=tmp_path, **env(tmp_path))
    assert "cancelled" in listed.stdout and "reminder cancelled" in listed.stdout
    again = ashi("appointments", "cancel", "1", cwd=tmp_path, **env(tmp_path))
    assert again.returncode == 1 and "no scheduled appointment #1" in again.stderr


async def test_booking_a_patient_who_started_the_bot_links_at_once(
    tmp_path: Path, service: Conversation, storage: Storage
) -> None:
    await service.start(Who(user_id=31337, chat_id=31337, first_name="Kim"))
    result = ashi(
        "appointments",
        "add",
        "--at",
        "2031-06-02 10:00",
        "--patient",
        "31337",
        cwd=tmp_path,
        **env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "t.me" not in result.stdout
    unknown = ashi(
        "appointments",
        "add",
        "--at",
        "2031-06-02 10:00",
        "--patient",
        "42",
        cwd=tmp_path,
        **env(tmp_path),
    )
    assert unknown.returncode == 1
    assert "has not started the bot" in unknown.stderr


def test_bad_times_are_refused_clearly(tmp_path: Path) -> None:
    for at, message in [
        ("2031-13-01 10:00", "YYYY-MM-DD HH:MM"),
        ("2031-03-30 01:30", "does not exist in Europe/London"),
    ]:
        result = ashi(
            "appointments", "add", "--at", at, "--name", "X", cwd=tmp_path, **env(tmp_path)
        )
        assert result.returncode == 1
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def future_fixture(tmp_path: Path) -> Path:
    """The sample export moved to 2031 (same weekdays' clock changes), so nothing is past."""
    source = tmp_path / "export.csv"
    text = (FIXTURES / "appointments.csv").read_text(encoding="utf-8")
    source.write_text(text.replace("2025-", "2031-"), encoding="utf-8")
    return source


def test_csv_import_twice_adds_once(tmp_path: Path) -> None:
    source = future_fixture(tmp_path)
    first = ashi("appointments", "import", str(source), cwd=tmp_path, **env(tmp_path))
    assert first.returncode == 0, first.stderr
    # A-1045 has only an unknown Telegram id and no name: it cannot be reached, so it is skipped.
    assert (
        "skipped csv:A-1045: no name, and the Telegram user has not started the bot" in first.stdout
    )
    assert "booked 4, already imported 0, skipped 1 (1 no name, and the" in first.stdout
    second = ashi("appointments", "import", str(source), cwd=tmp_path, **env(tmp_path))
    assert "booked 0, already imported 4, skipped 1" in second.stdout
    assert second.stdout.endswith("rejected 0\n")


def test_a_bad_row_is_listed_and_the_good_ones_are_booked(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text(
        "Date,Time,Patient,Status\n"
        "2031-06-02,09:30,Jane Doe,Booked\n"
        "02/06/2031,10:30,John Smith,Booked\n"
        "2031-06-02,11:30,Anna Müller,Cancelled\n"
        "2020-06-02,11:30,Tom Brown,\n",
        encoding="utf-8",
    )
    dry = ashi("appointments", "import", str(source), "--dry-run", cwd=tmp_path, **env(tmp_path))
    assert dry.returncode == 1
    assert "rejected row 3: date '02/06/2031' is not YYYY-MM-DD" in dry.stdout
    assert "would book 1, already imported 0, skipped 2 (1 cancelled, 1 in the past)" in dry.stdout
    assert "dry run: nothing was booked" in dry.stdout
    assert dry.stderr == "ashi: 1 row or event rejected (listed above): fix and import again\n"
    listed = ashi("appointments", "list", "--from", "2031-06-01", cwd=tmp_path, **env(tmp_path))
    assert listed.stdout == "no appointments\n"

    real = ashi(
        "appointments",
        "import",
        str(source),
        "--date-format",
        "DMY",
        cwd=tmp_path,
        **env(tmp_path),
    )
    assert real.returncode == 0, real.stdout + real.stderr
    assert "booked 2, already imported 0, skipped 2 (1 cancelled, 1 in the past)" in real.stdout
    listed = ashi("appointments", "list", "--from", "2031-06-01", cwd=tmp_path, **env(tmp_path))
    assert "2031-06-02 09:30  Jane Doe" in listed.stdout
    assert "2031-06-02 10:30  John Smith" in listed.stdout
    assert "Anna" not in listed.stdout


def test_ics_import_twice_adds_once(tmp_path: Path) -> None:
    calendar = tmp_path / "clinic.ics"
    calendar.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
        "BEGIN:VEVENT\r\nUID:one@google.com\r\nDTSTART;TZID=Europe/London:20310602T093000\r\n"
        "DTEND;TZID=Europe/London:20310602T101500\r\nSUMMARY:Jane Doe\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:two@google.com\r\nDTSTART:20310603T080000Z\r\n"
        "SUMMARY:John Smith\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    first = ashi("appointments", "import", str(calendar), cwd=tmp_path, **env(tmp_path))
    assert "booked 1, already imported 0, skipped 1 (1 cancelled)" in first.stdout, first.stderr
    second = ashi("appointments", "import", str(calendar), cwd=tmp_path, **env(tmp_path))
    assert "booked 0, already imported 1, skipped 1 (1 cancelled)" in second.stdout
    listed = ashi("appointments", "list", "--from", "2031-06-01", cwd=tmp_path, **env(tmp_path))
    assert "2031-06-02 09:30  Jane Doe" in listed.stdout


def test_an_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "appointments.xlsx"
    bad.write_bytes(b"PK")
    result = ashi("appointments", "import", str(bad), cwd=tmp_path, **env(tmp_path))
    assert result.returncode == 1
    assert "expected .csv or .ics" in result.stderr


def test_an_import_prints_and_writes_each_personal_link(tmp_path: Path) -> None:
    links = tmp_path / "links.csv"
    result = ashi(
        "appointments",
        "import",
        str(future_fixture(tmp_path)),
        "--links",
        str(links),
        cwd=tmp_path,
        **env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    printed = re.findall(
        r"#\d+ (\S+ \S+) (.+): (https://t\.me/ashi_clinic_bot\?start=\S+)", result.stdout
    )
    assert [(when, name) for when, name, _ in printed] == [
        ("2031-03-27 09:30", "Jane Doe"),
        ("2031-03-28 11:00", "John Smith"),
        ("2031-03-31 09:00", "Anna Müller"),
        ("2031-10-26 01:30", "Tom Brown"),
    ]
    assert "4 personal links written to" in result.stdout
    with links.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["name", "time", "link"], *([n, w, u] for w, n, u in printed)]
    assert stat.S_IMODE(links.stat().st_mode) == 0o600  # a link lets its holder answer


def test_moving_recording_a_visit_and_printing_a_link_again(tmp_path: Path) -> None:
    booked = ashi(
        "appointments",
        "add",
        "--at",
        "2031-06-02 09:30",
        "--name",
        "Jane Doe",
        cwd=tmp_path,
        **env(tmp_path),
    )
    assert booked.returncode == 0, booked.stderr
    link = re.search(r"https://t\.me/ashi_clinic_bot\?start=\S+", booked.stdout)
    assert link

    moved = ashi(
        "appointments", "move", "1", "--at", "2031-06-09 14:00", cwd=tmp_path, **env(tmp_path)
    )
    assert moved.returncode == 0, moved.stderr
    assert "appointment #1 moved to 2031-06-09 14:00 (Europe/London)" in moved.stdout
    assert "reminder message due 2031-06-08 14:00" in moved.stdout
    assert "not linked to a patient yet" in moved.stdout and link.group(0) in moved.stdout

    again = ashi(
        "appointments",
        "link",
        "1",
        "--qr",
        str(tmp_path / "jane.png"),
        cwd=tmp_path,
        **env(tmp_path),
    )
    assert again.returncode == 0, again.stderr
    assert link.group(0) in again.stdout and "2031-06-09 14:00" in again.stdout
    png = (tmp_path / "jane.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert stat.S_IMODE((tmp_path / "jane.png").stat().st_mode) == 0o600

    came = ashi("appointments", "no-show", "1", cwd=tmp_path, **env(tmp_path))
    assert came.returncode == 0 and "appointment #1: no-show" in came.stdout
    listed = ashi("appointments", "list", "--from", "2031-06-01", cwd=tmp_path, **env(tmp_path))
    assert "2031-06-09 14:00  Jane Doe  scheduled  not linked" in listed.stdout
    assert "no_show" in listed.stdout

    for verb, args in (("move", ["--at", "2031-06-10 10:00"]), ("attended", []), ("link", [])):
        missing = ashi("appointments", verb, "9", *args, cwd=tmp_path, **env(tmp_path))
        assert missing.returncode == 1 and "no " in missing.stderr and "#9" in missing.stderr
        assert "Traceback" not in missing.stderr
    wrong = ashi("appointments", "move", "1", "--at", "tomorrow", cwd=tmp_path, **env(tmp_path))
    assert wrong.returncode == 1 and "--at must be YYYY-MM-DD HH:MM" in wrong.stderr


def test_events_that_are_not_patients_are_excluded_by_name(tmp_path: Path) -> None:
    source = tmp_path / "diary.csv"
    source.write_text(
        "Start,Subject\n2031-06-02 09:30,Jane Doe\n2031-06-02 12:30,Lunch break\n"
        "2031-06-02 14:00,Clinic closed (training)\n",
        encoding="utf-8",
    )
    setting = {**env(tmp_path), "ASHI_IMPORT_EXCLUDE": "lunch|closed"}
    result = ashi("appointments", "import", str(source), "--dry-run", cwd=tmp_path, **setting)
    assert "would book 1, already imported 0, skipped 2 (2 excluded)" in result.stdout
    override = ashi(
        "appointments", "import", str(source), "--exclude", "LUNCH", cwd=tmp_path, **setting
    )
    assert "booked 2, already imported 0, skipped 1 (1 excluded)" in override.stdout
    bad = ashi("appointments", "import", str(source), "--exclude", "(", cwd=tmp_path, **setting)
    assert bad.returncode == 2 and "not a regular expression" in bad.stderr
