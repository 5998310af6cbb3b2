"""Appointments: booking, personal links, attendance and cancellation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.base import StoreBase, appointment_row, like_escaped, ts
from storage.records import Appointment, Attendance, PlannedMessage, Visit


class AppointmentStore(StoreBase):
    """Appointments and what belongs to them: links, attendance, cancellation."""

    async def add_appointment(
        self,
        starts_at: datetime,
        plan: Sequence[PlannedMessage],
        *,
        patient_id: int | None = None,
        name: str | None = None,
        note: str | None = None,
        link_token: str | None = None,
        external_id: str | None = None,
    ) -> Appointment | None:
        """Store an appointment and schedule its messages in one transaction.

        Returns None when an appointment with this external id exists (a re-import).
        """
        async with self._transaction() as db:
            if external_id is not None and await self._one(
                "SELECT 1 FROM appointments WHERE external_id = ?", (external_id,)
            ):
                return None
            cursor = await db.execute(
                "INSERT INTO appointments (patient_id, name, starts_at, note, link_token,"
                " external_id, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'scheduled', ?)",
                (patient_id, name, ts(starts_at), note, link_token, external_id, self._now()),
            )
            appointment_id = int(cursor.lastrowid or 0)
            await db.executemany(
                "INSERT INTO outbox (appointment_id, kind, offset_seconds, due_at, status)"
                " VALUES (?, ?, ?, ?, 'pending')",
                [(appointment_id, m.kind, m.offset_seconds, ts(m.due_at)) for m in plan],
            )
        return await self.appointment(appointment_id)

    async def appointment(self, appointment_id: int) -> Appointment | None:
        """The appointment with this id, if any."""
        row = await self._one("SELECT * FROM appointments WHERE id = ?", (appointment_id,))
        return appointment_row(row) if row else None

    async def patient_appointments(self, patient_id: int) -> list[Appointment]:
        """A patient's appointments, oldest first."""
        rows = await self._all(
            "SELECT * FROM appointments WHERE patient_id = ? ORDER BY starts_at", (patient_id,)
        )
        return [appointment_row(row) for row in rows]

    async def appointment_by_token(self, token: str) -> Appointment | None:
        """The appointment whose deep-link token this is, if any."""
        row = await self._one("SELECT * FROM appointments WHERE link_token = ?", (token,))
        return appointment_row(row) if row else None

    async def appointment_by_external_id(self, external_id: str) -> Appointment | None:
        """The appointment imported under this id (from a file or a calendar), if any."""
        row = await self._one("SELECT * FROM appointments WHERE external_id = ?", (external_id,))
        return appointment_row(row) if row else None

    async def imported_after(self, prefix: str, after: datetime) -> list[Appointment]:
        """Scheduled appointments starting after `after` whose external id starts with
        `prefix` (those a calendar feed booked)."""
        pattern = like_escaped(prefix) + "%"
        rows = await self._all(
            "SELECT * FROM appointments WHERE external_id LIKE ? ESCAPE '\\'"
            " AND status = 'scheduled' AND starts_at > ? ORDER BY starts_at",
            (pattern, ts(after)),
        )
        return [appointment_row(row) for row in rows]

    async def appointments_between(
        self, start: datetime | None, end: datetime | None
    ) -> list[tuple[Appointment, str | None]]:
        """Appointments starting in [start, end), with the linked patient's first name."""
        rows = await self._all(
            "SELECT a.*, p.first_name AS patient_name FROM appointments a"
            " LEFT JOIN patients p ON p.id = a.patient_id"
            " WHERE (? IS NULL OR a.starts_at >= ?) AND (? IS NULL OR a.starts_at < ?)"
            " ORDER BY a.starts_at, a.id",
            (
                *((ts(start),) * 2 if start else (None, None)),
                *((ts(end),) * 2 if end else (None, None)),
            ),
        )
        return [(appointment_row(row), row["patient_name"]) for row in rows]

    async def cancel_appointment(self, appointment_id: int) -> bool:
        """Cancel an appointment and its pending messages; False if there was nothing to do."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE appointments SET status = 'cancelled'"
                " WHERE id = ? AND status = 'scheduled'",
                (appointment_id,),
            )
            if cursor.rowcount == 0:
                return False
            await db.execute(
                "UPDATE outbox SET status = 'cancelled', outcome = 'appointment cancelled'"
                " WHERE appointment_id = ? AND status = 'pending'",
                (appointment_id,),
            )
        return True

    async def move_appointment(
        self, appointment_id: int, starts_at: datetime, plan: Sequence[PlannedMessage]
    ) -> Appointment | None:
        """Move a scheduled appointment to `starts_at` in one transaction: its messages are
        planned again for the new time (except one going out now, and an invitation or a
        check-in already sent), the patient's answer to the old reminder and the recorded
        visit are cleared, and a linked patient is told (a 'moved' message due now).
        None if there is no such scheduled appointment."""
        now = self._now()
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE appointments SET starts_at = ?, attendance = NULL, visit = NULL"
                " WHERE id = ? AND status = 'scheduled'",
                (ts(starts_at), appointment_id),
            )
            if cursor.rowcount == 0:
                return None
            await db.executemany(
                "INSERT INTO outbox (appointment_id, kind, offset_seconds, due_at, status)"
                " VALUES (?, ?, ?, ?, 'pending')"
                " ON CONFLICT (appointment_id, kind, offset_seconds) DO UPDATE SET"
                " due_at = excluded.due_at, status = 'pending', attempts = 0, outcome = NULL,"
                " claimed_at = NULL, claimed_by = NULL, lease_until = NULL, sent_at = NULL,"
                " message_id = NULL, step = NULL"
                " WHERE outbox.status != 'sending'"
                " AND NOT (outbox.status = 'sent' AND outbox.kind IN ('intake', 'followup'))",
                [(appointment_id, m.kind, m.offset_seconds, ts(m.due_at)) for m in plan],
            )
            await db.execute(
                "INSERT INTO outbox (appointment_id, kind, offset_seconds, due_at, status)"
                " SELECT id, 'moved', 0, ?, 'pending' FROM appointments"
                " WHERE id = ? AND patient_id IS NOT NULL"
                " ON CONFLICT (appointment_id, kind, offset_seconds) DO UPDATE SET"
                " due_at = excluded.due_at, status = 'pending', attempts = 0, outcome = NULL,"
                " sent_at = NULL, message_id = NULL WHERE outbox.status != 'sending'",
                (now, appointment_id),
            )
        return await self.appointment(appointment_id)

    async def set_visit(self, appointment_id: int, visit: Visit) -> bool:
        """Record whether the patient came; False if there is no such scheduled appointment."""
        cursor = await self._db.execute(
            "UPDATE appointments SET visit = ? WHERE id = ? AND status = 'scheduled'",
            (visit, appointment_id),
        )
        return cursor.rowcount > 0

    async def claim_link(self, token: str, patient_id: int) -> Appointment | None:
        """Attach the patient to the appointment of a personal link, in one statement: the
        appointment if it is now theirs, None if the link is unknown or someone else's
        (two accounts opening one link at once: only one can win)."""
        cursor = await self._db.execute(
            "UPDATE appointments SET patient_id = ? WHERE link_token = ?"
            " AND (patient_id IS NULL OR patient_id = ?)",
            (patient_id, token, patient_id),
        )
        if cursor.rowcount == 0:
            return None
        return await self.appointment_by_token(token)

    async def update_booking(
        self, appointment_id: int, *, name: str | None, note: str | None, patient_id: int | None
    ) -> None:
        """A calendar's new words for a booking: the name and note, and the patient once
        known (an appointment already linked keeps its patient)."""
        await self._db.execute(
            "UPDATE appointments SET name = ?, note = ?, patient_id = COALESCE(patient_id, ?)"
            " WHERE id = ?",
            (name, note, patient_id, appointment_id),
        )

    async def set_attendance(self, appointment_id: int, attendance: Attendance) -> None:
        """Record the patient's answer to a reminder: confirmed or reschedule."""
        await self._db.execute(
            "UPDATE appointments SET attendance = ? WHERE id = ?", (attendance, appointment_id)
        )

    async def has_completed_intake_for(self, appointment: Appointment, since: datetime) -> bool:
        """Whether the patient completed an intake for this appointment, or any intake
        since `since` (a recent one serves the next appointment too)."""
        if appointment.patient_id is None:
            return False
        row = await self._one(
            "SELECT 1 FROM intakes WHERE patient_id = ? AND status = 'completed'"
            " AND (appointment_id = ? OR completed_at >= ?) LIMIT 1",
            (appointment.patient_id, appointment.id, ts(since)),
        )
        return row is not None
