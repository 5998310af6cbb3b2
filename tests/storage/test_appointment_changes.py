"""Moving an appointment and recording a visit (issue 14): what is planned again, what is
kept, and who is told."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from storage import Attendance, MessageStatus, PlannedMessage, Storage, Visit
from storage.migrate import migrations

OLD = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
NEW = datetime(2031, 3, 10, 14, 0, tzinfo=UTC)
OFFSETS = {"intake": -172800, "reminder": -86400, "followup": 86400}


def plan(starts: datetime) -> list[PlannedMessage]:
    return [
        PlannedMessage(kind, offset, starts + timedelta(seconds=offset))
        for kind, offset in OFFSETS.items()
    ]


async def by_kind(storage: Storage, appointment_id: int) -> dict[str, tuple[str, datetime]]:
    return {m.kind: (m.status, m.due_at) for m in await storage.messages_for(appointment_id)}


async def test_a_move_plans_again_what_is_still_useful_and_tells_a_linked_patient(
    storage: Storage,
) -> None:
    patient = await storage.ensure_patient(7, 7, "en")
    booked = await storage.add_appointment(OLD, plan(OLD), patient_id=patient.id)
    assert booked is not None
    sent = {m.kind: m for m in await storage.messages_for(booked.id)}
    # The invitation and the reminder for the old time went out; the patient asked to move.
    for kind in ("intake", "reminder"):
        await storage.finish_message(sent[kind].id, MessageStatus.SENT)
    await storage.set_attendance(booked.id, Attendance.RESCHEDULE)
    await storage.set_visit(booked.id, Visit.NO_SHOW)

    moved = await storage.move_appointment(booked.id, NEW, plan(NEW))
    assert moved is not None and moved.starts_at == NEW
    assert moved.attendance is None and moved.visit is None
    messages = await by_kind(storage, booked.id)
    assert messages["intake"] == ("sent", OLD - timedelta(days=2))  # not asked twice
    assert messages["reminder"] == ("pending", NEW - timedelta(days=1))  # for the new time
    assert messages["followup"] == ("pending", NEW + timedelta(days=1))
    assert messages["moved"][0] == "pending"

    # Moved again before the notice went out: still one notice, with the latest time.
    again = await storage.move_appointment(booked.id, NEW + timedelta(hours=1), plan(NEW))
    assert again is not None
    notices = [m for m in await storage.messages_for(booked.id) if m.kind == "moved"]
    assert len(notices) == 1 and notices[0].status == "pending"


async def test_nobody_is_told_of_a_move_before_the_link_is_opened(storage: Storage) -> None:
    booked = await storage.add_appointment(OLD, plan(OLD), name="Ann", link_token="apt_x")
    assert booked is not None
    assert await storage.move_appointment(booked.id, NEW, plan(NEW)) is not None
    assert "moved" not in await by_kind(storage, booked.id)


async def test_a_sent_check_in_is_kept_and_cancelled_appointments_do_not_move(
    storage: Storage,
) -> None:
    patient = await storage.ensure_patient(8, 8, "en")
    booked = await storage.add_appointment(OLD, plan(OLD), patient_id=patient.id)
    assert booked is not None
    followup = next(m for m in await storage.messages_for(booked.id) if m.kind == "followup")
    await storage.finish_message(followup.id, MessageStatus.SENT, first_step="fu_soreness")
    await storage.move_appointment(booked.id, NEW, plan(NEW))
    kept = await storage.scheduled_message(followup.id)
    assert kept is not None and kept.status == "sent" and kept.step == "fu_soreness"

    assert await storage.cancel_appointment(booked.id)
    assert await storage.move_appointment(booked.id, OLD, plan(OLD)) is None
    assert not await storage.set_visit(booked.id, Visit.ATTENDED)
    assert await storage.move_appointment(9999, OLD, plan(OLD)) is None


async def test_the_rebuilt_outbox_keeps_its_rows_answers_and_never_reuses_an_id(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as old:
        for number, sql in migrations()[:11]:
            await old.executescript(f"{sql}\nPRAGMA user_version = {number};")
        await old.executescript(
            "INSERT INTO patients (id, telegram_user_id, chat_id, language, created_at)"
            " VALUES (1, 7, 7, 'en', '2031-01-01T00:00:00+00:00');"
            "INSERT INTO appointments (id, patient_id, starts_at, status, created_at)"
            " VALUES (5, 1, '2031-02-01T09:00:00+00:00', 'scheduled', '2031-01-01T00:00:00+00:00');"
            "INSERT INTO outbox (id, appointment_id, kind, offset_seconds, due_at, status,"
            " sent_at, step, claimed_by) VALUES"
            " (9, 5, 'followup', 86400, '2031-02-02T09:00:00+00:00', 'sent',"
            " '2031-02-02T09:00:01+00:00', 'fu_note', 'run-1'),"
            " (10, 5, 'reminder', -86400, '2031-01-31T09:00:00+00:00', 'pending',"
            " NULL, NULL, NULL);"
            "INSERT INTO followup_answers VALUES (9, 'fu_soreness', '3', '2031-02-02');"
            # The newest row was erased: its id must not come back.
            "DELETE FROM outbox WHERE id = 10;"
        )
        await old.commit()
    storage = await Storage.open(path)
    try:
        kept = await storage.scheduled_message(9)
        assert kept is not None and kept.step == "fu_note" and kept.status == "sent"
        assert await storage.followup_answers(9) == {"fu_soreness": 3}
        moved = await storage.move_appointment(5, NEW, plan(NEW))
        assert moved is not None and moved.visit is None
        assert min(m.id for m in await storage.messages_for(5) if m.id != 9) > 10
    finally:
        await storage.close()
