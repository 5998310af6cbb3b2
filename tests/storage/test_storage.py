import asyncio
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.edge.app import purge_expired
from storage import Author, IntakeStatus, MessageStatus, PlannedMessage, Storage, utc_now
from storage.migrate import migrations


async def test_database_is_private_in_wal_mode_and_migrated(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ashi.sqlite3"
    db = await Storage.open(path)
    assert await db.schema_version() == len(migrations())
    await db.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    async with aiosqlite.connect(path) as raw, raw.execute("PRAGMA journal_mode") as cursor:
        assert (await cursor.fetchone()) == ("wal",)
    again = await Storage.open(path)  # reopening applies nothing twice
    assert await again.schema_version() == len(migrations())
    await again.close()


async def test_answer_is_durable_the_moment_it_is_saved(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    db = await Storage.open(path)
    patient = await db.ensure_patient(7, 7, "en")
    intake = await db.start_intake(
        patient.id, step="areas", content_version="v", start_payload=None
    )
    await db.save_answer(intake.id, "intensity", 7, next_step="duration")
    # A second connection (another process after a crash) sees it without close().
    other = await Storage.open(path)
    assert await other.answers(intake.id) == {"intensity": 7}
    reopened = await other.intake(intake.id)
    assert reopened is not None and reopened.step == "duration"
    await other.close()
    await db.close()


async def test_red_flag_marks_intake_urgent_once(storage: Storage) -> None:
    patient = await storage.ensure_patient(7, 7, "en")
    intake = await storage.start_intake(
        patient.id, step="x", content_version="v", start_payload=None
    )
    for _ in range(2):
        await storage.save_answer(intake.id, "rf_chest_pain", "yes", red_flag="rf_chest_pain")
    record = await storage.intake_record(intake.id)
    assert record is not None and record.intake.urgent
    assert [f.flag for f in record.red_flags] == ["rf_chest_pain"]


async def test_new_intake_closes_the_open_one(storage: Storage) -> None:
    patient = await storage.ensure_patient(7, 7, "en")
    first = await storage.start_intake(patient.id, step="a", content_version="v", start_payload="p")
    second = await storage.start_intake(
        patient.id, step="a", content_version="v", start_payload="p"
    )
    old = await storage.intake(first.id)
    assert old is not None and old.status is IntakeStatus.RESTARTED
    current = await storage.open_intake(patient.id)
    assert current is not None and current.id == second.id


async def test_deleting_a_patient_cascades(storage: Storage) -> None:
    patient = await storage.ensure_patient(7, 7, "en")
    intake = await storage.start_intake(
        patient.id, step="a", content_version="v", start_payload=None
    )
    await storage.save_answer(intake.id, "notes", "x", red_flag="rf_chest_pain")
    await storage.record_consent(patient.id, True, "v1")
    await storage.delete_patient(patient.id)
    assert await storage.intake_records() == []
    assert await storage.latest_consent(patient.id) is None
    assert await storage.answers(intake.id) == {}


async def test_retention_purges_old_intakes_and_records_it(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    old = await Storage.open(path, clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    patient = await old.ensure_patient(7, 7, "en")
    await old.start_intake(patient.id, step="a", content_version="v", start_payload=None)
    await old.close()
    db = await Storage.open(path)
    recent = await db.ensure_patient(8, 8, "en")
    await db.start_intake(recent.id, step="a", content_version="v", start_payload=None)
    assert await purge_expired(db, retention_days=30) == 1
    assert [r.patient.telegram_user_id for r in await db.intake_records()] == [8]
    [entry] = await db.audit_entries()
    # Patient 7 has nothing left and first wrote long ago: the name goes too.
    assert (entry.action, entry.detail) == (
        "retention purge",
        "1 intakes, 0 appointments, 1 patients",
    )
    assert await db.patient_by_telegram_id(7) is None
    assert await db.patient_by_telegram_id(8) is not None
    await db.close()


async def test_counts_for_the_benchmark_and_the_export_caption(storage: Storage) -> None:
    patient = await storage.ensure_patient(7, 7, "en")
    first = await storage.start_intake(
        patient.id, step="a", content_version="v", start_payload=None
    )
    await storage.complete_intake(first.id)
    await storage.start_intake(patient.id, step="a", content_version="v", start_payload=None)
    assert await storage.count_intakes() == 2
    assert await storage.count_intakes(completed=True) == 1
    assert await storage.outbox_counts() == {}
    starts = datetime(2031, 1, 1, tzinfo=UTC)
    plan = [PlannedMessage("reminder", -60, starts), PlannedMessage("followup", 60, starts)]
    booked = await storage.add_appointment(starts, plan, name="Ann")
    assert booked is not None and await storage.cancel_appointment(booked.id)
    await storage.add_appointment(starts, plan[:1], name="Bo")
    assert await storage.outbox_counts() == {"cancelled": 2, "pending": 1}


async def test_an_answer_is_saved_whole_or_not_at_all(storage: Storage, tmp_path: Path) -> None:
    patient = await storage.ensure_patient(7, 7, "en")
    intake = await storage.start_intake(
        patient.id, step="x", content_version="v", start_payload=None
    )
    # Make the last statement of a red-flag answer fail, after the first ones succeeded.
    async with aiosqlite.connect(tmp_path / "ashi.sqlite3") as other:
        await other.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE OF urgent ON intakes"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        await other.commit()
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        await storage.save_answer(intake.id, "rf_chest_pain", "yes", red_flag="rf_chest_pain")
    record = await storage.intake_record(intake.id)
    assert record is not None and record.answers == () and record.red_flags == ()
    assert not record.intake.urgent
    # The connection is not left inside the failed transaction.
    await storage.save_answer(intake.id, "intensity", 4, next_step="duration")
    assert await storage.answers(intake.id) == {"intensity": 4}


async def test_a_patient_their_open_intake_and_its_answers_in_one_lookup(
    storage: Storage,
) -> None:
    assert await storage.patient_state(7) == (None, None, {})
    patient = await storage.ensure_patient(7, 70, "ko")
    assert await storage.patient_state(7) == (patient, None, {})
    done = await storage.start_intake(patient.id, step="a", content_version="v", start_payload=None)
    await storage.save_answer(done.id, "intensity", 3, next_step="b")
    await storage.complete_intake(done.id, notified=True)
    assert await storage.patient_state(7) == (patient, None, {})
    open_one = await storage.start_intake(
        patient.id, step="b", content_version="v", start_payload="apt_x"
    )
    assert await storage.patient_state(7) == (patient, open_one, {})
    await storage.save_answer(open_one.id, "areas", ["arms", "other"], next_step="c")
    await storage.save_answer(open_one.id, "notes", 'café 😀 "q"', next_step="d")
    found, intake, answers = await storage.patient_state(7)
    assert found == patient
    assert intake is not None and intake == await storage.open_intake(patient.id)
    assert (intake.step, intake.start_payload, intake.status) == ("d", "apt_x", "in_progress")
    assert answers == {"areas": ["arms", "other"], "notes": 'café 😀 "q"'}


async def test_ids_of_erased_records_are_never_given_out_again(storage: Storage) -> None:
    first = await storage.ensure_patient(7, 7, "en")
    erased = await storage.start_intake(first.id, step="a", content_version="v", start_payload=None)
    await storage.delete_patient(first.id)  # the newest patient and intake are gone
    second = await storage.ensure_patient(8, 8, "en")
    intake = await storage.start_intake(
        second.id, step="a", content_version="v", start_payload=None
    )
    # An old button or note naming the erased intake must not reach the new patient's.
    assert second.id > first.id
    assert intake.id > erased.id
    assert await storage.intake(erased.id) is None


async def test_upgrading_keeps_every_record_and_reference(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as old:
        for number, sql in migrations()[:4]:
            await old.executescript(f"{sql}\nPRAGMA user_version = {number};")
        await old.executescript(
            "INSERT INTO patients (id, telegram_user_id, chat_id, language, created_at)"
            " VALUES (1, 7, 7, 'ko', '2026-01-01T00:00:00+00:00'),"
            " (2, 8, 8, 'en', '2026-01-01T00:00:00+00:00');"
            "INSERT INTO consents (patient_id, given, text_version, recorded_at)"
            " VALUES (1, 1, 'v', '2026-01-01T00:00:00+00:00');"
            "INSERT INTO appointments (id, patient_id, starts_at, status, created_at)"
            " VALUES (5, 1, '2026-02-01T09:00:00+00:00', 'scheduled', '2026-01-01T00:00:00+00:00');"
            "INSERT INTO intakes (id, patient_id, status, step, urgent, content_version,"
            " started_at, appointment_id) VALUES (3, 1, 'in_progress', 'duration', 1, 'v',"
            " '2026-01-01T00:00:00+00:00', 5);"
            "INSERT INTO answers VALUES (3, 'intensity', '7', '2026-01-01T00:00:00+00:00');"
            "INSERT INTO red_flags VALUES (3, 'rf_chest_pain', '2026-01-01T00:00:00+00:00');"
            "INSERT INTO outbox (id, appointment_id, kind, offset_seconds, due_at, status, step)"
            " VALUES (9, 5, 'followup', 86400, '2026-02-02T09:00:00+00:00', 'sent', 'q');"
            "INSERT INTO followup_answers VALUES (9, 'fu_soreness', '3', '2026-02-02');"
        )
    storage = await Storage.open(path)
    try:
        assert await storage.schema_version() == len(migrations())
        record = await storage.intake_record(3)
        assert record is not None and record.patient.telegram_user_id == 7
        assert record.intake.urgent and record.intake.appointment_id == 5
        assert record.decoded_answers() == {"intensity": 7}
        assert [f.flag for f in record.red_flags] == ["rf_chest_pain"]
        message = await storage.scheduled_message(9)
        assert message is not None and message.appointment_id == 5
        # Foreign keys are on again: erasing the patient takes everything of theirs along.
        await storage.delete_patient(1)
        assert await storage.intake_record(3) is None
        assert await storage.scheduled_message(9) is None
        assert await storage.patient_state(8) != (None, None, {})
        # And the erased ids stay retired.
        patient = await storage.ensure_patient(9, 9, "en")
        assert patient.id > 2
    finally:
        await storage.close()


async def test_retention_covers_appointments_messages_follow_ups_and_names(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ashi.sqlite3"
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    old = await Storage.open(path, clock=lambda: long_ago)
    patient = await old.ensure_patient(7, 7, "en")
    await old.agree(patient.id, "v", "Old Name", "oldname", begin=None)
    plan = [PlannedMessage("followup", 3600, long_ago)]
    past = await old.add_appointment(long_ago, plan, patient_id=patient.id, note="knee, left")
    assert past is not None
    [message] = await old.messages_for(past.id)
    await old.finish_message(message.id, MessageStatus.SENT, first_step="fu_soreness")
    await old.save_followup_answer(message.id, "fu_note", "private words", "done")
    await old.close()
    db = await Storage.open(path)
    kept = await db.ensure_patient(9, 9, "en")
    future = await db.add_appointment(utc_now() + timedelta(days=3), [], patient_id=kept.id)
    assert future is not None
    assert await purge_expired(db, retention_days=30) == 0
    assert await db.patient_by_telegram_id(7) is None
    assert await db.appointment(past.id) is None
    assert await db.scheduled_message(message.id) is None
    assert await db.followup_records() == []
    assert await db.appointment(future.id) is not None
    [entry] = await db.audit_entries()
    assert entry.detail == "0 intakes, 1 appointments, 1 patients"
    await db.close()


async def test_retention_erases_old_conversations_and_keeps_a_patient_talking_now(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ashi.sqlite3"
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    old = await Storage.open(path, clock=lambda: long_ago)
    gone = await old.ensure_patient(7, 7, "en")
    thread = await old.open_thread(gone.id, 900)
    await old.add_thread_message(thread.id, Author.PATIENT, "private words")
    await old.close_thread(thread.id)
    talking = await old.ensure_patient(8, 8, "en")  # first wrote long ago
    await old.close()
    db = await Storage.open(path)
    now_thread = await db.open_thread(talking.id, 900)
    await db.add_thread_message(now_thread.id, Author.CLINIC, "see you soon")

    await purge_expired(db, retention_days=30)

    assert await db.patient_by_telegram_id(7) is None
    assert await db.thread(thread.id) is None
    assert await db.patient_by_telegram_id(8) is not None
    assert [m.text for m in await db.thread_messages(talking.id)] == ["see you soon"]
    [entry] = await db.audit_entries()
    assert entry.detail == "0 intakes, 0 appointments, 1 patients"
    await db.close()


async def test_refusing_consent_later_erases_the_conversations_too(tmp_path: Path) -> None:
    db = await Storage.open(tmp_path / "ashi.sqlite3")
    patient = await db.ensure_patient(7, 7, "en")
    thread = await db.open_thread(patient.id, 900)
    await db.add_thread_message(thread.id, Author.PATIENT, "my back hurts")
    assert await db.has_patient_data(patient.id)

    await db.forget_patient_data(patient.id)

    assert await db.thread_messages(patient.id) == []
    assert not await db.has_patient_data(patient.id)
    await db.close()


async def test_erased_text_leaves_the_log_even_while_a_reader_is_open(tmp_path: Path) -> None:
    path = tmp_path / "ashi.sqlite3"
    db = await Storage.open(path)
    patient = await db.ensure_patient(7, 7, "en")
    intake = await db.start_intake(patient.id, step="a", content_version="v", start_payload=None)
    secret = "my-very-private-note-" * 20
    await db.save_answer(intake.id, "notes", secret, next_step="summary")
    # Another program (an export, a backup) holds a read transaction open.
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM answers").fetchone()
    erasing = asyncio.create_task(db.delete_patient(patient.id))
    await asyncio.sleep(0.3)  # the reader stays open a while
    assert not erasing.done()  # the erasure waits for the log to be emptied
    reader.execute("COMMIT")
    await asyncio.wait_for(erasing, 10)
    reader.close()
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    for file in (path, wal):
        if file.exists():
            assert secret.encode() not in file.read_bytes()
    await db.close()
