"""Scheduled messages: claiming, recording outcomes, and follow-up answers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from storage.base import StoreBase, appointment_row, message_row, patient_row, ts
from storage.records import (
    DueMessage,
    FollowupRecord,
    MessageStatus,
    Patient,
    ScheduledMessage,
)

_DUE_JOIN = (
    " FROM outbox o JOIN appointments a ON a.id = o.appointment_id"
    " JOIN patients p ON p.id = a.patient_id"
    " WHERE o.status = 'pending' AND a.status = 'scheduled'"
)


def _open_followup_id(patient: str) -> str:
    """A subquery: the id of the most recent sent follow-up of `patient` (a placeholder or a
    column, never a value) that is still being answered."""
    return (
        "SELECT f.id FROM outbox f JOIN appointments a ON a.id = f.appointment_id"
        f" WHERE a.patient_id = {patient} AND f.kind = 'followup' AND f.status = 'sent'"
        " AND f.step IS NOT NULL AND f.step != 'done' ORDER BY f.sent_at DESC, f.id DESC LIMIT 1"
    )


class OutboxStore(StoreBase):
    """Scheduled messages: claiming, recording outcomes, and follow-up answers."""

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
                " a.link_token, a.external_id, a.status AS a_status, a.attendance, a.visit,"
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

    async def open_followup(self, patient_id: int) -> ScheduledMessage | None:
        """The patient's most recent sent follow-up that is still being answered."""
        row = await self._one(
            f"SELECT * FROM outbox WHERE id = ({_open_followup_id('?')})", (patient_id,)
        )
        return message_row(row) if row else None

    async def followup_state(
        self, telegram_user_id: int
    ) -> tuple[Patient, ScheduledMessage | None, dict[str, object], bool] | None:
        """In one read: the patient with this Telegram user id, their open follow-up (as
        open_followup) with its answers so far, and whether their latest word on consent
        is yes."""
        row = await self._one(
            "SELECT p.*, o.id AS o_id, o.appointment_id, o.kind, o.offset_seconds, o.due_at,"
            " o.status, o.attempts, o.sent_at, o.outcome, o.step,"
            " (SELECT c.given FROM consents c WHERE c.patient_id = p.id"
            "  ORDER BY c.id DESC LIMIT 1) AS consent_given,"
            " (SELECT json_group_object(fa.question_id, json(fa.value)) FROM followup_answers fa"
            "  WHERE fa.outbox_id = o.id) AS answers_json"
            f" FROM patients p LEFT JOIN outbox o ON o.id = ({_open_followup_id('p.id')})"
            " WHERE p.telegram_user_id = ?",
            (telegram_user_id,),
        )
        if row is None:
            return None
        if row["o_id"] is None:
            return patient_row(row), None, {}, bool(row["consent_given"])
        answers: dict[str, object] = json.loads(row["answers_json"] or "{}")
        followup = message_row(row, id_column="o_id")
        return patient_row(row), followup, answers, bool(row["consent_given"])

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
            # In the order they were first given: the order they were asked.
            "SELECT question_id, value FROM followup_answers WHERE outbox_id = ? ORDER BY rowid",
            (message_id,),
        )
        return {row["question_id"]: json.loads(row["value"]) for row in rows}

    async def followup_records(self, telegram_user_id: int | None = None) -> list[FollowupRecord]:
        """Sent follow-ups (of one patient, or all) with appointment, patient and answers,
        oldest first."""
        rows = await self._all(
            "SELECT o.*, a.id AS a_id, a.patient_id, a.name, a.starts_at, a.note, a.link_token,"
            " a.external_id, a.status AS a_status, a.attendance, a.visit, p.id AS p_id,"
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
