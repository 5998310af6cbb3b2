"""The `ashi` command as a deployer runs it: a real process, settings from the environment."""

import csv
import io
import json
from pathlib import Path

from bot.vocabulary.people import Who
from storage import Storage
from storage.migrate import migrations
from tests.support.conversation import Conversation
from tests.support.process import ashi


def test_run_without_a_token_says_what_is_missing(tmp_path: Path) -> None:
    result = ashi("run", cwd=tmp_path, ASHI_TIMEZONE="Nowhere/Land")
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "Nowhere/Land" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_on_a_webhook_without_its_settings_says_what_is_missing(tmp_path: Path) -> None:
    result = ashi("run", "--webhook", cwd=tmp_path, TELEGRAM_BOT_TOKEN="123456:ABC-def_123")
    assert result.returncode == 2
    assert "ASHI_WEBHOOK_URL is not set" in result.stderr
    assert "ASHI_WEBHOOK_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_verb(tmp_path: Path) -> None:
    result = ashi("--help", cwd=tmp_path)
    assert result.returncode == 0
    for verb in ("run", "demo", "export", "migrate"):
        assert verb in result.stdout


def test_migrate_creates_the_database(tmp_path: Path) -> None:
    db = tmp_path / "data" / "clinic.sqlite3"
    result = ashi("migrate", cwd=tmp_path, ASHI_DB_PATH=str(db))
    assert result.returncode == 0, result.stderr
    assert f"schema version {len(migrations())}" in result.stdout
    assert db.exists()


async def test_export_prints_every_answer_as_json_and_csv(
    tmp_path: Path, service: Conversation, storage: Storage
) -> None:
    who = Who(user_id=5, chat_id=5, first_name="Jun", language_code="en")
    outcome = await service.start(who)
    consent = outcome.replies[0].keyboard[0][0].data
    await service.button(who, consent)
    await service.button(who, "t:1:areas:arms")
    await service.button(who, "d:1:areas:")
    await service.button(who, "a:1:cause:exercise")
    db = str(tmp_path / "ashi.sqlite3")  # the conftest storage fixture's file

    result = ashi("export", "--format", "json", cwd=tmp_path, ASHI_DB_PATH=db)
    assert result.returncode == 0, result.stderr
    [intake] = json.loads(result.stdout)["intakes"]
    assert intake["status"] == "in_progress"
    assert intake["patient"]["first_name"] == "Jun"
    assert {a["question_id"]: a["label"] for a in intake["answers"]} == {
        "areas": "Arms",
        "cause": "Exercise or sport",
    }

    result = ashi("export", "--format", "csv", cwd=tmp_path, ASHI_DB_PATH=db)
    assert result.stdout.startswith("\ufeff")  # Excel reads UTF-8 with a byte-order mark
    [row] = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert (row["areas"], row["cause"], row["intensity"]) == ("Arms", "Exercise or sport", "")
    assert row["status"] == "in_progress" and row["first_name"] == "Jun"

    out = tmp_path / "export.json"
    written = ashi("export", "--output", str(out), "--patient", "5", cwd=tmp_path, ASHI_DB_PATH=db)
    assert written.stdout == f"wrote {out}\n"
    assert len(json.loads(out.read_text())["intakes"]) == 1
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    nobody = ashi("export", "--patient", "6", cwd=tmp_path, ASHI_DB_PATH=db)
    assert json.loads(nobody.stdout)["intakes"] == []

    later = ashi("export", "--since", "2999-01-01", cwd=tmp_path, ASHI_DB_PATH=db)
    assert json.loads(later.stdout) == {"intakes": [], "followups": [], "scores": []}


async def test_audit_lists_exports_and_views(tmp_path: Path, storage: Storage) -> None:
    await storage.audit(777, "viewed a record", 5)
    db = str(tmp_path / "ashi.sqlite3")
    ashi("export", "--format", "csv", cwd=tmp_path, ASHI_DB_PATH=db)
    result = ashi("audit", cwd=tmp_path, ASHI_DB_PATH=db)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.endswith("user 777\tviewed a record\tpatient 5")
    assert "command line\texport (command line)" in second
    later = ashi("audit", "--since", "2999-01-01", cwd=tmp_path, ASHI_DB_PATH=db)
    assert later.stdout == "no audit entries\n"
