"""Scores read from intakes and follow-ups together, as a patient's course: oldest first,
started-over intakes left out, up to an intake only what was given before it ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import MessageStatus, PlannedMessage, Storage

DAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock moved by hand, so that each write has its own time."""

    def __init__(self) -> None:
        self.now = DAY

    def __call__(self) -> datetime:
        return self.now

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def test_a_course_reads_intakes_and_follow_ups_in_time_order(tmp_path: Path) -> None:
    clock = Clock()
    storage = await Storage.open(tmp_path / "db.sqlite3", clock=clock)
    try:
        patient = await storage.ensure_patient(7, 7, "en")
        other = await storage.ensure_patient(8, 8, "en")
        first = await storage.start_intake(
            patient.id, step="intensity", content_version="v", start_payload=None
        )
        await storage.save_answer(first.id, "intensity", 7)
        await storage.complete_intake(first.id)
        theirs = await storage.start_intake(
            other.id, step="intensity", content_version="v", start_payload=None
        )
        await storage.save_answer(theirs.id, "intensity", 2)

        clock.later(days=7)
        appointment = await storage.add_appointment(
            DAY, [PlannedMessage("followup", 7 * 86400, clock.now)], patient_id=patient.id
        )
        assert appointment is not None
        [message] = await storage.messages_for(appointment.id)
        await storage.finish_message(message.id, MessageStatus.SENT, first_step="fu_pain")
        await storage.save_followup_answer(message.id, "fu_pain", 5, "done")

        clock.later(days=1)
        dropped = await storage.start_intake(
            patient.id, step="intensity", content_version="v", start_payload=None
        )
        await storage.save_answer(dropped.id, "intensity", 9)  # then started over
        second = await storage.start_intake(
            patient.id, step="intensity", content_version="v", start_payload=None
        )
        clock.later(minutes=5)
        await storage.save_answer(second.id, "intensity", 4)
        await storage.complete_intake(second.id)

        mine = await storage.scores(["intensity", "fu_pain"], telegram_user_id=7)
        assert [(s.value, s.intake_id, s.followup_id) for s in mine] == [
            (7, first.id, None),
            (5, None, message.id),
            (4, second.id, None),
        ]
        # As of the first intake: what was given before it ended, of that patient only.
        assert [
            s.value for s in await storage.scores(["intensity", "fu_pain"], up_to_intake=first.id)
        ] == [7]
        assert len(await storage.scores(["intensity"])) == 3  # every patient's
        assert await storage.scores([]) == []

        await storage.delete_patient(patient.id)  # /delete
        assert await storage.scores(["intensity", "fu_pain"], telegram_user_id=7) == []
    finally:
        await storage.close()
