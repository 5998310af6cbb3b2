"""After erasure the audit trail keeps no Telegram id of the patient, only a keyed hash
that groups their entries (issue 12)."""

import argparse
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.edge.app import purge_expired
from bot.records_cli import run_audit
from bot.settings import parse_settings
from storage import Storage
from storage.audit import key_path
from storage.migrate import migrations
from tests.conftest import PRACTITIONER
from tests.support.conversation import Conversation
from tests.support.patient_flow import PAT, completed_intake, press

# Above 2**32: stored in six bytes, a pattern that does not turn up in a file by chance.
PATIENT = 7_401_234_567
OTHER = 7_401_234_568


def raw_rows(path: Path) -> list[tuple[object, ...]]:
    """Every audit row, every column, as SQLite holds it."""
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT * FROM audit ORDER BY id"))


def mentions(rows: list[tuple[object, ...]], telegram_id: int) -> list[tuple[object, ...]]:
    """The rows that hold the id in any column, as a number or inside text."""
    return [row for row in rows if any(v == telegram_id or str(telegram_id) in str(v) for v in row)]


async def erase_as_the_service_does(storage: Storage, telegram_id: int) -> None:
    """bot/intake/service.py `_delete`: erase, then record the erasure by Telegram id."""
    patient = await storage.patient_by_telegram_id(telegram_id)
    assert patient is not None
    await storage.delete_patient(patient.id)
    await storage.audit(telegram_id, "erased (/delete)", telegram_id)


async def patient_with_history(storage: Storage, telegram_id: int) -> None:
    """A patient seen by a practitioner, exported, and looking at their own data."""
    await storage.ensure_patient(telegram_id, telegram_id, "en")
    await storage.audit(PRACTITIONER, "viewed a record", telegram_id)
    filters = f"format=json patient={telegram_id} since=None until=None"
    await storage.audit(None, "export (command line)", telegram_id, filters)
    await storage.audit(telegram_id, "patient viewed own data", telegram_id)
    await storage.audit(telegram_id, "refused", None, "/intakes")


async def test_erasure_leaves_no_telegram_id_in_the_audit_trail(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    storage = await Storage.open(path)
    await patient_with_history(storage, PATIENT)
    await storage.audit(PRACTITIONER, "viewed /today")
    await erase_as_the_service_does(storage, PATIENT)
    entries = await storage.audit_entries()
    await storage.close()

    rows = raw_rows(path)
    assert len(rows) == 6
    assert mentions(rows, PATIENT) == []
    # Every entry of theirs, the erasure included, carries the same pseudonym.
    [key] = {k for e in entries for k in (e.actor_key, e.subject_key) if k is not None}
    theirs = [e for e in entries if e.action != "viewed /today"]
    assert all(key in (e.actor_key, e.subject_key) for e in theirs)
    assert len(key) == 16 and int(key, 16) >= 0
    by_action = {e.action: e for e in entries}
    erased = by_action["erased (/delete)"]
    assert (erased.actor, erased.subject) == (None, None)
    assert (erased.actor_key, erased.subject_key) == (key, key)
    assert (
        by_action["export (command line)"].detail
        == f"format=json patient={key} since=None until=None"
    )
    # The practitioners stay named: who looked is the point of the trail.
    assert [e.actor for e in entries if e.actor is not None] == [PRACTITIONER, PRACTITIONER]


async def test_the_erased_id_is_nowhere_in_the_database_files(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    storage = await Storage.open(path)
    await patient_with_history(storage, PATIENT)
    await erase_as_the_service_does(storage, PATIENT)
    await storage.close()  # the last connection checkpoints the log into the file
    files = b"".join(
        p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
    )
    assert str(PATIENT).encode() not in files
    assert PATIENT.to_bytes(6, "big") not in files


async def test_the_same_person_groups_and_another_does_not(storage: Storage) -> None:
    await patient_with_history(storage, PATIENT)
    await erase_as_the_service_does(storage, PATIENT)
    # They come back: a patient again, named by id until they are erased again.
    await patient_with_history(storage, PATIENT)
    assert (await storage.audit_entries())[-4].subject == PATIENT
    await erase_as_the_service_does(storage, PATIENT)
    await patient_with_history(storage, OTHER)
    await erase_as_the_service_does(storage, OTHER)

    erasures = [e for e in await storage.audit_entries() if e.action == "erased (/delete)"]
    first, second, other = (e.subject_key for e in erasures)
    assert first == second and first is not None
    assert other is not None and other != first
    subjects = [e.subject_key for e in await storage.audit_entries() if e.subject_key]
    assert subjects.count(first) == 8 and subjects.count(other) == 4


async def test_a_practitioner_who_never_was_a_patient_is_untouched(storage: Storage) -> None:
    await storage.ensure_patient(PATIENT, PATIENT, "en")
    await storage.audit(PRACTITIONER, "viewed a record", PATIENT)
    await erase_as_the_service_does(storage, PATIENT)
    await storage.audit(PRACTITIONER, "viewed /flagged")
    await storage.audit(PRACTITIONER, "viewed a record", OTHER)
    entries = await storage.audit_entries()
    assert [(e.actor, e.actor_key) for e in entries if e.actor_key is None] == [
        (PRACTITIONER, None)
    ] * 3
    assert entries[-1].subject == OTHER  # never erased: named by id


async def test_retention_purge_pseudonymises_the_patients_it_erases(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    old = await Storage.open(path, clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    patient = await old.ensure_patient(PATIENT, PATIENT, "en")
    await old.start_intake(patient.id, step="a", content_version="v", start_payload=None)
    await old.audit(PRACTITIONER, "viewed a record", PATIENT)
    await old.audit(PATIENT, "consent refused", None)
    await old.close()
    storage = await Storage.open(path)
    await storage.ensure_patient(OTHER, OTHER, "en")  # recent: kept
    await storage.audit(PRACTITIONER, "viewed a record", OTHER)
    assert await purge_expired(storage, retention_days=30) == 1
    entries = await storage.audit_entries()
    await storage.close()
    assert mentions(raw_rows(path), PATIENT) == []
    assert entries[0].subject_key is not None and entries[0].subject_key == entries[1].actor_key
    assert entries[2].subject == OTHER


async def test_refusing_consent_keeps_the_id_beside_the_kept_refusal(storage: Storage) -> None:
    # The patient row that records the refusal holds the id anyway: nothing to hide.
    patient = await storage.ensure_patient(PATIENT, PATIENT, "en")
    await storage.forget_patient_data(patient.id)
    await storage.audit(PATIENT, "consent refused", None)
    [entry] = await storage.audit_entries()
    assert (entry.actor, entry.actor_key) == (PATIENT, None)


async def test_the_key_file_is_private_made_on_first_need_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    storage = await Storage.open(path)
    await patient_with_history(storage, PATIENT)
    assert not key_path(path).exists()  # nobody erased yet
    await erase_as_the_service_does(storage, PATIENT)
    await storage.close()
    key_file = key_path(path)
    assert key_file == tmp_path / "ashi.sqlite3.auditkey"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    assert len(key) == 32

    again = await Storage.open(path)
    await patient_with_history(again, PATIENT)
    await erase_as_the_service_does(again, PATIENT)
    keys = {e.subject_key for e in await again.audit_entries() if e.subject_key}
    await again.close()
    assert len(keys) == 1  # the same key after reopening: the same pseudonym
    assert key_file.read_bytes() == key


async def test_a_key_copied_in_with_a_wider_mode_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    key_path(path).write_bytes(os.urandom(32))
    os.chmod(key_path(path), 0o644)
    storage = await Storage.open(path)
    await patient_with_history(storage, PATIENT)
    await erase_as_the_service_does(storage, PATIENT)
    await storage.close()
    assert stat.S_IMODE(key_path(path).stat().st_mode) == 0o600


async def test_an_in_memory_database_keeps_its_key_in_memory() -> None:
    storage = await Storage.open(":memory:")
    await patient_with_history(storage, PATIENT)
    await erase_as_the_service_does(storage, PATIENT)
    entries = await storage.audit_entries()
    await storage.close()
    assert {e.subject for e in entries} == {None}
    assert len({e.subject_key for e in entries if e.subject_key}) == 1


async def test_backup_needs_no_key_and_makes_none(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    storage = await Storage.open(path)
    await patient_with_history(storage, PATIENT)
    await erase_as_the_service_does(storage, PATIENT)
    await storage.close()
    key_path(path).unlink()
    source = await Storage.open(path, create=False, migrate=False)
    copy = tmp_path / "copy.sqlite3"
    await source.backup_to(copy)
    await source.close()
    assert not key_path(path).exists() and not key_path(copy).exists()
    restored = await Storage.open(copy)
    erased = [e for e in await restored.audit_entries() if e.action == "erased (/delete)"]
    await restored.close()
    assert erased[0].subject_key is not None  # readable without the key


async def test_older_erasures_are_pseudonymised_on_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as old:
        for number, sql in migrations()[:7]:
            await old.executescript(f"{sql}\nPRAGMA user_version = {number};")
        # PATIENT erased for good; OTHER withdrew consent and is a (refusing) patient again.
        await old.executemany(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            [
                ("2026-01-01T00:00:00+00:00", PRACTITIONER, "viewed a record", PATIENT, None),
                ("2026-01-02T00:00:00+00:00", PATIENT, "erased (/delete)", PATIENT, None),
                ("2026-01-03T00:00:00+00:00", OTHER, "erased (consent withdrawn)", OTHER, None),
                ("2026-01-04T00:00:00+00:00", PRACTITIONER, "viewed a record", OTHER, None),
            ],
        )
        await old.execute(
            "INSERT INTO patients (telegram_user_id, chat_id, language, created_at)"
            " VALUES (?, ?, 'en', '2026-01-03T00:00:00+00:00')",
            (OTHER, OTHER),
        )
        await old.commit()
    storage = await Storage.open(path)
    entries = await storage.audit_entries()
    await storage.audit(PATIENT, "refused", None, "/intakes")  # a stranger now: by id
    await storage.close()
    assert [(e.actor, e.subject) for e in entries] == [
        (PRACTITIONER, None),
        (None, None),
        (None, None),
        (PRACTITIONER, OTHER),  # after the erasure, about the patient they are again
    ]
    assert entries[0].subject_key == entries[1].subject_key == entries[1].actor_key
    assert entries[2].subject_key not in (None, entries[0].subject_key)
    assert len(mentions(raw_rows(path), PATIENT)) == 1


async def test_ashi_audit_names_an_erased_patient_by_pseudonym(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    storage = await Storage.open(path)
    await patient_with_history(storage, PATIENT)
    await erase_as_the_service_does(storage, PATIENT)
    [key] = {e.subject_key for e in await storage.audit_entries() if e.subject_key}
    await storage.close()
    settings = parse_settings({"ASHI_DB_PATH": str(path)}, require_token=False)
    lines = (await run_audit(argparse.Namespace(since=None), settings)).splitlines()
    assert lines[0].endswith(f"user {PRACTITIONER}\tviewed a record\terased patient {key}")
    assert lines[-1].endswith(f"erased patient {key}\terased (/delete)\terased patient {key}")
    assert str(PATIENT) not in "\n".join(lines)


async def test_delete_through_the_service_leaves_no_id(
    service: Conversation, storage: Storage
) -> None:
    await completed_intake(service)
    await service.mydata(PAT)
    done = await press(service, await service.delete(PAT), "Yes, erase everything")
    assert done.edit and "erased" in done.edit.html
    entries = await storage.audit_entries()
    assert [e.action for e in entries] == ["patient viewed own data", "erased (/delete)"]
    assert {(e.actor, e.subject) for e in entries} == {(None, None)}
    assert len({e.subject_key for e in entries} | {e.actor_key for e in entries}) == 1


async def test_withdrawing_consent_through_the_service_leaves_no_id_in_the_trail(
    service: Conversation, storage: Storage
) -> None:
    await completed_intake(service)
    patient = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient is not None
    await storage.record_consent(patient.id, True, "an older consent text")
    asked = await press(service, await service.start(PAT), "No thanks")
    await press(service, asked, "Yes, erase everything")
    [entry] = await storage.audit_entries()
    assert entry.action == "erased (consent withdrawn)"
    assert (entry.actor, entry.subject) == (None, None)
    assert entry.actor_key is not None and entry.actor_key == entry.subject_key
    # What stays is the refusal, in a new patient row: by id, as for anyone who says no.
    assert await storage.patient_by_telegram_id(PAT.user_id) is not None
