"""Appointments and the outbox of scheduled messages (the durable part of reminders)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from storage.base import StoreBase, appointment_row, message_row, patient_row, ts
from storage.records import (
    Appointment,
    Attendance,
    DueMessage,
    FollowupRecord,
    MessageStatus,
    PlannedMessage,
    ScheduledMessage,
)

_DUE_JOIN = (
    " FROM outbox o JOIN appointments a ON a.id = o.appointment_id"
    " JOIN patients p ON p.id = a.patient_id"
    " WHERE o.status = 'pending' AND a.status = 'scheduled'"
)


class AppointmentStore(StoreBase):
    """Appointments, their outbox rows and follow-up answers."""

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

    # Patients' reminder preferences ----------------------------------------------------

    async def set_reminders(self, patient_id: int, enabled: bool) -> None:
        """Turn a patient's scheduled messages on or off."""
        await self._db.execute(
            "UPDATE patients SET reminders_enabled = ? WHERE id = ?", (int(enabled), patient_id)
        )

    async def mark_unreachable(self, patient_id: int) -> None:
        """Record that Telegram refuses messages to this patient (they blocked the bot)."""
        await self._db.execute(
            "UPDATE patients SET unreachable_at = ? WHERE id = ? AND unreachable_at IS NULL",
            (self._now(), patient_id),
        )

    async def mark_reachable(self, patient_id: int) -> None:
        """The patient wrote to the bot again: messages can reach them."""
        await self._db.execute(
            "UPDATE patients SET unreachable_at = NULL WHERE id = ?", (patient_id,)
        )

    # The outbox ------------------------------------------------------------------------

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending message for a linked patient falls due."""
        row = await self._one(f"SELECT MIN(o.due_at) AS due {_DUE_JOIN}", ())
        return datetime.fromisoformat(row["due"]) if row and row["due"] else None

    async def claim_due(
        self, now: datetime, limit: int, *, owner: str, lease_until: datetime
    ) -> list[DueMessage]:
        """Mark up to `limit` due messages as being sent by `owner` until `lease_until` and
        return them, earliest first.

        Claimed rows are committed as 'sending' before anything is sent, so a crash
        leaves a trace that `release_interrupted` turns back into pending.
        """
        async with self._transaction() as db:
            rows = await self._all(
                "SELECT o.*, a.id AS a_id, a.patient_id, a.name, a.starts_at, a.note,"
                " a.link_token, a.external_id, a.status AS a_status, a.attendance,"
                " p.id AS p_id, p.telegram_user_id, p.chat_id, p.first_name, p.username,"
                " p.language, p.created_at, p.pending_payload, p.reminders_enabled,"
                f" p.unreachable_at {_DUE_JOIN} AND o.due_at <= ? ORDER BY o.due_at, o.id"
                " LIMIT ?",
                (ts(now), limit),
            )
            await db.executemany(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_at = ?,"
                " claimed_by = ?, lease_until = ? WHERE id = ?",
                [(ts(now), owner, ts(lease_until), row["id"]) for row in rows],
            )
        return [
            DueMessage(
                message=message_row(row),
                appointment=appointment_row(row, id_column="a_id", status_column="a_status"),
                patient=patient_row(row, id_column="p_id"),
            )
            for row in rows
        ]

    async def renew_claims(self, owner: str, lease_until: datetime) -> None:
        """Extend the lease of every message `owner` is still sending."""
        await self._db.execute(
            "UPDATE outbox SET lease_until = ? WHERE status = 'sending' AND claimed_by = ?",
            (ts(lease_until), owner),
        )

    async def release_interrupted(
        self, now: datetime, *, owner: str, ended: Sequence[str] = ()
    ) -> int:
        """Put messages left 'sending' by an interrupted run back to pending; returns how
        many. Only claims that are `owner`'s, belong to a run that has `ended`, or whose
        lease ran out: another live process may be sending the rest.

        Telegram offers no way to ask whether such a message arrived, so it is sent again:
        a duplicate is better than a lost reminder.
        """
        marks = ", ".join("?" for _ in ended) or "NULL"
        cursor = await self._db.execute(
            "UPDATE outbox SET status = 'pending', outcome = 'resent after interruption'"
            " WHERE status = 'sending' AND (claimed_by IS NULL OR claimed_by = ?"
            f" OR claimed_by IN ({marks}) OR lease_until <= ?)",
            (owner, *ended, ts(now)),
        )
        return cursor.rowcount

    async def finish_message(
        self,
        message_id: int,
        status: MessageStatus,
        outcome: str | None = None,
        *,
        telegram_message_id: int | None = None,
        first_step: str | None = None,
    ) -> None:
        """Record how a claimed message ended: sent, skipped, dropped or failed. A sent
        follow-up waits for the answer to `first_step`."""
        sent_at = self._now() if status is MessageStatus.SENT else None
        step = first_step if status is MessageStatus.SENT else None
        await self._db.execute(
            "UPDATE outbox SET status = ?, outcome = ?, sent_at = ?, message_id = ?,"
            " step = CASE WHEN kind = 'followup' THEN ? ELSE step END WHERE id = ?",
            (status, outcome, sent_at, telegram_message_id, step, message_id),
        )

    async def retry_message(self, message_id: int, due_at: datetime, outcome: str) -> None:
        """Put a claimed message back to pending, due again at `due_at`."""
        await self._db.execute(
            "UPDATE outbox SET status = 'pending', due_at = ?, outcome = ? WHERE id = ?",
            (ts(due_at), outcome, message_id),
        )

    async def skip_pending_for_patient(self, patient_id: int, outcome: str) -> None:
        """End every pending message of a patient (blocked the bot)."""
        await self._db.execute(
            "UPDATE outbox SET status = 'skipped', outcome = ? WHERE status = 'pending'"
            " AND appointment_id IN (SELECT id FROM appointments WHERE patient_id = ?)",
            (outcome, patient_id),
        )

    async def outbox_counts(self) -> dict[str, int]:
        """How many outbox rows are in each status."""
        rows = await self._all("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {row["status"]: int(row["n"]) for row in rows}

    async def messages_for(self, appointment_id: int) -> list[ScheduledMessage]:
        """An appointment's scheduled messages, in plan order."""
        rows = await self._all(
            "SELECT * FROM outbox WHERE appointment_id = ? ORDER BY offset_seconds, id",
            (appointment_id,),
        )
        return [message_row(row) for row in rows]

    async def scheduled_message(self, message_id: int) -> ScheduledMessage | None:
        """One outbox row."""
        row = await self._one("SELECT * FROM outbox WHERE id = ?", (message_id,))
        return message_row(row) if row else None

    # Follow-ups --------------------------------------------------------------------------

    async def open_followup(self, patient_id: int) -> ScheduledMessage | None:
        """The patient's most recent sent follow-up that is still being answered."""
        row = await self._one(
            "SELECT o.* FROM outbox o JOIN appointments a ON a.id = o.appointment_id"
            " WHERE a.patient_id = ? AND o.kind = 'followup' AND o.status = 'sent'"
            " AND o.step IS NOT NULL AND o.step != 'done' ORDER BY o.sent_at DESC, o.id DESC"
            " LIMIT 1",
            (patient_id,),
        )
        return message_row(row) if row else None

    async def save_followup_answer(
        self, message_id: int, question_id: str, value: object, next_step: str
    ) -> None:
        """Store one follow-up answer at once and move the follow-up to `next_step`."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO followup_answers (outbox_id, question_id, value, answered_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (outbox_id, question_id)"
                " DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at",
                (message_id, question_id, json.dumps(value, ensure_ascii=False), self._now()),
            )
            await db.execute("UPDATE outbox SET step = ? WHERE id = ?", (next_step, message_id))

    async def followup_answers(self, message_id: int) -> dict[str, object]:
        """A follow-up's answers, decoded, by question id."""
        rows = await self._all(
            "SELECT question_id, value FROM followup_answers WHERE outbox_id = ?", (message_id,)
        )
        return {row["question_id"]: json.loads(row["value"]) for row in rows}

    async def followup_records(self, telegram_user_id: int | None = None) -> list[FollowupRecord]:
        """Sent follow-ups (of one patient, or all) with appointment, patient and answers,
        oldest first."""
        rows = await self._all(
            "SELECT o.*, a.id AS a_id, a.patient_id, a.name, a.starts_at, a.note, a.link_token,"
            " a.external_id, a.status AS a_status, a.attendance, p.id AS p_id,"
            " p.telegram_user_id, p.chat_id, p.first_name, p.username, p.language,"
            " p.created_at, p.pending_payload, p.reminders_enabled, p.unreachable_at"
            " FROM outbox o JOIN appointments a ON a.id = o.appointment_id"
            " JOIN patients p ON p.id = a.patient_id"
            " WHERE o.kind = 'followup' AND o.status = 'sent'"
            " AND (? IS NULL OR p.telegram_user_id = ?) ORDER BY o.sent_at, o.id",
            (telegram_user_id, telegram_user_id),
        )
        return [
            FollowupRecord(
                appointment=appointment_row(row, id_column="a_id", status_column="a_status"),
                patient=patient_row(row, id_column="p_id"),
                message=message_row(row),
                answers=await self.followup_answers(row["id"]),
            )
            for row in rows
        ]
