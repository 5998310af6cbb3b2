"""Intakes and their answers, red flags, notices and review marks."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from storage.base import StoreBase, intake_row, patient_row, ts
from storage.records import Answer, Carried, Intake, IntakeRecord, IntakeStatus, RedFlag

# One answer stored, or replacing the one given before.
_UPSERT_ANSWER = (
    "INSERT INTO answers (intake_id, question_id, value, answered_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (intake_id, question_id)"
    " DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at"
)
# The answer about to be replaced, kept for the record (changed_at, intake, question).
_KEEP_REPLACED = (
    "INSERT INTO answer_changes (intake_id, question_id, value, answered_at, changed_at)"
    " SELECT intake_id, question_id, value, answered_at, ? FROM answers"
    " WHERE intake_id = ? AND question_id = ?"
)


class IntakeStore(StoreBase):
    """Intakes and their answers, red flags, notices and review marks."""

    async def start_intake(
        self,
        patient_id: int,
        *,
        step: str,
        content_version: str,
        start_payload: str | None,
        appointment_id: int | None = None,
        returning_from: int | None = None,
    ) -> Intake:
        """Open a new intake at `step` (a returning patient's, starting from the completed
        intake `returning_from`); any intake still in progress is marked restarted."""
        now = self._now()
        async with self._transaction() as db:
            await db.execute(
                "UPDATE intakes SET status = ? WHERE patient_id = ? AND status = ?",
                (IntakeStatus.RESTARTED, patient_id, IntakeStatus.IN_PROGRESS),
            )
            cursor = await db.execute(
                "INSERT INTO intakes (patient_id, status, step, start_payload, content_version,"
                " started_at, appointment_id, returning_from, checks)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    patient_id,
                    IntakeStatus.IN_PROGRESS,
                    step,
                    start_payload,
                    content_version,
                    now,
                    appointment_id,
                    returning_from,
                    None if returning_from is None else "{}",
                ),
            )
            intake_id = cursor.lastrowid
        intake = await self.intake(int(intake_id or 0))
        assert intake is not None
        return intake

    async def intake(self, intake_id: int) -> Intake | None:
        """The intake with this id, if any."""
        row = await self._one("SELECT * FROM intakes WHERE id = ?", (intake_id,))
        return intake_row(row) if row else None

    async def open_intake(self, patient_id: int) -> Intake | None:
        """The patient's intake in progress, if any."""
        row = await self._one(
            "SELECT * FROM intakes WHERE patient_id = ? AND status = ?",
            (patient_id, IntakeStatus.IN_PROGRESS),
        )
        return intake_row(row) if row else None

    async def unreviewed_red_flags(self, patient_id: int) -> list[str]:
        """Red flags raised in this patient's intakes that no practitioner has reviewed yet,
        first raised first, each once."""
        rows = await self._all(
            "SELECT r.flag FROM red_flags r JOIN intakes i ON i.id = r.intake_id"
            " WHERE i.patient_id = ? AND i.reviewed_at IS NULL"
            " GROUP BY r.flag ORDER BY MIN(r.raised_at), MIN(r.rowid)",
            (patient_id,),
        )
        return [row["flag"] for row in rows]

    async def earlier_red_flags(self, intake_id: int) -> list[tuple[int, RedFlag]]:
        """Each red flag raised in the same patient's earlier intakes, once, with the latest
        intake that raised it: (intake id, flag), in the order first raised."""
        rows = await self._all(
            "SELECT r.flag, MAX(r.intake_id) AS intake_id, MAX(r.raised_at) AS raised_at"
            " FROM red_flags r JOIN intakes i ON i.id = r.intake_id"
            " JOIN intakes this ON this.id = ?"
            " WHERE i.patient_id = this.patient_id AND i.id < this.id"
            " GROUP BY r.flag ORDER BY MIN(r.raised_at), MIN(r.rowid)",
            (intake_id,),
        )
        return [
            (row["intake_id"], RedFlag(row["flag"], datetime.fromisoformat(row["raised_at"])))
            for row in rows
        ]

    async def latest_completed_intake(self, patient_id: int) -> Intake | None:
        """The patient's most recently completed intake, if any."""
        row = await self._one(
            "SELECT * FROM intakes WHERE patient_id = ? AND status = ?"
            " ORDER BY completed_at DESC, id DESC LIMIT 1",
            (patient_id, IntakeStatus.COMPLETED),
        )
        return intake_row(row) if row else None

    async def set_step(self, intake_id: int, step: str) -> None:
        """Move the intake's conversation position to `step` (which also ends a pause)."""
        await self._db.execute(
            "UPDATE intakes SET step = ?, paused = 0 WHERE id = ?", (step, intake_id)
        )

    async def set_paused(self, intake_id: int, paused: bool) -> None:
        """Pause or continue an intake."""
        await self._db.execute(
            "UPDATE intakes SET paused = ? WHERE id = ?", (int(paused), intake_id)
        )

    async def save_answer(
        self,
        intake_id: int,
        question_id: str,
        value: object,
        *,
        next_step: str | None = None,
        red_flag: str | None = None,
    ) -> None:
        """Store one answer (JSON-encoded) at once, optionally moving to `next_step` and
        raising a red flag, all in one statement (migration 0011's answer_writes)."""
        await self._db.execute(
            "INSERT INTO answer_writes"
            " (intake_id, question_id, value, answered_at, next_step, red_flag)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                intake_id,
                question_id,
                json.dumps(value, ensure_ascii=False),
                self._now(),
                next_step,
                red_flag,
            ),
        )

    async def change_answer(self, intake_id: int, question_id: str, *, clear: bool) -> None:
        """Go back to one answered question from the summary: its answer so far is kept in
        answer_changes, removed when `clear` (asked afresh), and the intake waits at it."""
        async with self._transaction() as db:
            await db.execute(
                _KEEP_REPLACED,
                (self._now(), intake_id, question_id),
            )
            await db.execute(
                "DELETE FROM carried_answers WHERE intake_id = ? AND question_id = ?",
                (intake_id, question_id),
            )
            if clear:
                await db.execute(
                    "DELETE FROM answers WHERE intake_id = ? AND question_id = ?",
                    (intake_id, question_id),
                )
            await db.execute(
                "UPDATE intakes SET step = ?, paused = 0 WHERE id = ?", (question_id, intake_id)
            )

    async def answer_changes(self, intake_id: int) -> list[tuple[str, object]]:
        """The answers an intake replaced from its summary, oldest first: (question, value)."""
        rows = await self._all(
            "SELECT question_id, value FROM answer_changes WHERE intake_id = ? ORDER BY id",
            (intake_id,),
        )
        return [(row["question_id"], json.loads(row["value"])) for row in rows]

    async def delete_answer(self, intake_id: int, question_id: str) -> None:
        """Remove one answer (a follow-up question that no longer applies)."""
        async with self._transaction() as db:
            for table in ("answers", "carried_answers"):
                await db.execute(
                    f"DELETE FROM {table} WHERE intake_id = ? AND question_id = ?",
                    (intake_id, question_id),
                )

    async def decide(
        self,
        intake_id: int,
        block: str,
        decision: str,
        *,
        next_step: str,
        carried: Mapping[str, object] | None = None,
        from_intake: int | None = None,
        answer: Mapping[str, object] | None = None,
    ) -> None:
        """Record a returning intake's decision on one block of questions and move to
        `next_step`, in one transaction: the `carried` answers (as read from the intake
        `from_intake`) stored and marked confirmed unchanged now, `answer` stored as given
        now."""
        now = self._now()
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                "SELECT checks FROM intakes WHERE id = ?", (intake_id,)
            )
            checks = json.loads(rows[0]["checks"] or "{}")
            for question_id in carried or {}:
                await db.execute(
                    "INSERT INTO carried_answers (intake_id, question_id, from_intake_id,"
                    " confirmed_at) VALUES (?, ?, (SELECT id FROM intakes WHERE id = ?), ?)"
                    " ON CONFLICT (intake_id, question_id) DO UPDATE SET"
                    " from_intake_id = excluded.from_intake_id,"
                    " confirmed_at = excluded.confirmed_at",
                    (intake_id, question_id, from_intake, now),
                )
            for question_id, value in {**(carried or {}), **(answer or {})}.items():
                await db.execute(
                    _UPSERT_ANSWER,
                    (intake_id, question_id, json.dumps(value, ensure_ascii=False), now),
                )
            checks[block] = decision
            await db.execute(
                "UPDATE intakes SET checks = ?, step = ?, paused = 0 WHERE id = ?",
                (json.dumps(checks), next_step, intake_id),
            )

    async def revise_answer(
        self, intake_id: int, question_id: str, value: object, *, next_step: str
    ) -> None:
        """Replace one answer, the one it replaces kept in answer_changes, and move to
        `next_step`, in one transaction."""
        now = self._now()
        async with self._transaction() as db:
            await db.execute(
                _KEEP_REPLACED,
                (now, intake_id, question_id),
            )
            await db.execute(
                "DELETE FROM carried_answers WHERE intake_id = ? AND question_id = ?",
                (intake_id, question_id),
            )
            await db.execute(
                _UPSERT_ANSWER,
                (intake_id, question_id, json.dumps(value, ensure_ascii=False), now),
            )
            await db.execute(
                "UPDATE intakes SET step = ?, paused = 0 WHERE id = ?", (next_step, intake_id)
            )

    async def carried(self, intake_id: int) -> dict[str, Carried]:
        """The intake's answers carried forward unchanged, by question id."""
        rows = await self._all(
            "SELECT question_id, from_intake_id, confirmed_at FROM carried_answers"
            " WHERE intake_id = ?",
            (intake_id,),
        )
        return {
            row["question_id"]: Carried(
                row["from_intake_id"], datetime.fromisoformat(row["confirmed_at"])
            )
            for row in rows
        }

    async def answers(self, intake_id: int) -> dict[str, object]:
        """The intake's answers, decoded, by question id."""
        rows = await self._all(
            "SELECT question_id, value FROM answers WHERE intake_id = ?", (intake_id,)
        )
        return {row["question_id"]: json.loads(row["value"]) for row in rows}

    async def complete_intake(self, intake_id: int, *, notified: bool = False) -> Intake:
        """Mark the intake completed now (`notified` when nobody needs to be told);
        returns it as completed."""
        now = self._now()
        rows = await self._all(
            "UPDATE intakes SET status = ?, step = 'done', paused = 0, completed_at = ?,"
            " notified_at = ? WHERE id = ? RETURNING *",
            (IntakeStatus.COMPLETED, now, now if notified else None, intake_id),
        )
        return intake_row(rows[0])

    async def mark_guide_sent(self, intake_id: int) -> None:
        """Record that the patient received the thank-you and guide of a completed intake."""
        await self._db.execute(
            "UPDATE intakes SET guide_sent_at = ? WHERE id = ?", (self._now(), intake_id)
        )

    async def guide_unsent(self, intake_id: int, patient_id: int) -> bool:
        """Whether this patient's intake is completed and its guide never reached them."""
        row = await self._one(
            "SELECT 1 FROM intakes WHERE id = ? AND patient_id = ? AND status = ?"
            " AND guide_sent_at IS NULL",
            (intake_id, patient_id, IntakeStatus.COMPLETED),
        )
        return row is not None

    async def mark_notified(
        self, intake_id: int, chat_ids: Collection[int], practitioners: Collection[int]
    ) -> None:
        """Record that these practitioners received the completed intake's summary; once
        every one of `practitioners` has, the intake counts as notified."""
        now = self._now()
        async with self._transaction() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO intake_notices (intake_id, chat_id, sent_at)"
                " VALUES (?, ?, ?)",
                [(intake_id, chat_id, now) for chat_id in chat_ids],
            )
            rows = await db.execute_fetchall(
                "SELECT chat_id FROM intake_notices WHERE intake_id = ?", (intake_id,)
            )
            if set(practitioners) <= {row[0] for row in rows}:
                await db.execute(
                    "UPDATE intakes SET notified_at = ? WHERE id = ?", (now, intake_id)
                )

    async def notified_practitioners(self, intake_id: int) -> set[int]:
        """The practitioners who have received this intake's summary."""
        rows = await self._all(
            "SELECT chat_id FROM intake_notices WHERE intake_id = ?", (intake_id,)
        )
        return {row[0] for row in rows}

    async def unnotified_intakes(self, completed_before: datetime | None = None) -> list[int]:
        """Completed intakes whose practitioner notification has not gone out yet (only
        those completed before `completed_before`, when given)."""
        rows = await self._all(
            "SELECT id FROM intakes WHERE status = ? AND notified_at IS NULL"
            " AND (? IS NULL OR completed_at < ?) ORDER BY id",
            (IntakeStatus.COMPLETED, *(2 * [ts(completed_before) if completed_before else None])),
        )
        return [int(row["id"]) for row in rows]

    async def intake_record(self, intake_id: int) -> IntakeRecord | None:
        """One intake with its patient, answers and red flags."""
        intake = await self.intake(intake_id)
        if intake is None:
            return None
        owner = await self._one(
            "SELECT telegram_user_id FROM patients WHERE id = ?", (intake.patient_id,)
        )
        if owner is None:
            return None
        for record in await self.intake_records(telegram_user_id=owner["telegram_user_id"]):
            if record.intake.id == intake_id:
                return record
        return None

    async def intake_records(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        telegram_user_id: int | None = None,
        flagged: bool = False,
        newest_first: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[IntakeRecord]:
        """Intakes with their patients, answers and red flags, oldest first by default.

        Filters: started in [since, until), one patient, or `flagged` (urgent, completed and
        not yet reviewed, or in progress after a "yes" to the red flags listed together);
        `limit`/`offset` page through them.
        """
        conditions: list[str] = []
        params: list[Any] = []
        if since is not None:
            conditions.append("i.started_at >= ?")
            params.append(ts(since))
        if until is not None:
            conditions.append("i.started_at < ?")
            params.append(ts(until))
        if telegram_user_id is not None:
            conditions.append("p.telegram_user_id = ?")
            params.append(telegram_user_id)
        if flagged:
            # A returning patient's "yes" to the red flags listed together counts while
            # they are being asked which (json.dumps writes the checks this way).
            conditions.append(
                "(i.urgent = 1 OR (i.status = 'completed' AND i.reviewed_at IS NULL)"
                " OR (i.status = 'in_progress' AND i.checks LIKE ?))"
            )
            params.append('%"red_flags": "some"%')
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        direction = "DESC" if newest_first else "ASC"
        page = " LIMIT ? OFFSET ?" if limit is not None else ""
        if limit is not None:
            # Past the last row either way; SQLite integers end at 2**63 - 1.
            params += [limit, min(offset, 2**63 - 1)]
        rows = await self._all(
            "SELECT i.*, p.id AS p_id, p.telegram_user_id, p.chat_id, p.first_name,"
            " p.username, p.language, p.created_at, p.pending_payload, p.reminders_enabled,"
            " p.unreachable_at FROM intakes i JOIN patients p ON p.id = i.patient_id"
            f" {where} ORDER BY i.started_at {direction}, i.id {direction}{page}",
            params,
        )
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        marks = ",".join("?" * len(ids))
        answers: dict[int, list[Answer]] = {i: [] for i in ids}
        for row in await self._all(
            "SELECT a.intake_id, a.question_id, a.value, a.answered_at, c.from_intake_id,"
            " c.confirmed_at FROM answers a LEFT JOIN carried_answers c"
            " ON c.intake_id = a.intake_id AND c.question_id = a.question_id"
            f" WHERE a.intake_id IN ({marks}) ORDER BY a.answered_at, a.rowid",
            ids,
        ):
            carried = None
            if row["confirmed_at"] is not None:
                confirmed = datetime.fromisoformat(row["confirmed_at"])
                carried = Carried(row["from_intake_id"], confirmed)
            answers[row["intake_id"]].append(
                Answer(
                    question_id=row["question_id"],
                    value=row["value"],
                    answered_at=datetime.fromisoformat(row["answered_at"]),
                    carried=carried,
                )
            )
        flags: dict[int, list[RedFlag]] = {i: [] for i in ids}
        for row in await self._all(
            f"SELECT intake_id, flag, raised_at FROM red_flags WHERE intake_id IN ({marks})"
            " ORDER BY raised_at, rowid",
            ids,
        ):
            flags[row["intake_id"]].append(
                RedFlag(flag=row["flag"], raised_at=datetime.fromisoformat(row["raised_at"]))
            )
        records = []
        for row in rows:
            records.append(
                IntakeRecord(
                    intake=intake_row(row),
                    patient=patient_row(row, id_column="p_id"),
                    answers=tuple(answers[row["id"]]),
                    red_flags=tuple(flags[row["id"]]),
                )
            )
        return records

    async def count_intakes(self, *, completed: bool = False) -> int:
        """How many intakes are stored (only completed ones, if asked)."""
        row = await self._one(
            "SELECT COUNT(*) AS n FROM intakes WHERE (? = 0 OR status = 'completed')",
            (int(completed),),
        )
        return int(row["n"]) if row else 0

    async def mark_reviewed(self, intake_id: int, practitioner_id: int) -> bool:
        """Mark a completed intake reviewed; False if it was already (or is not completed)."""
        cursor = await self._db.execute(
            "UPDATE intakes SET reviewed_at = ?, reviewed_by = ?"
            " WHERE id = ? AND status = 'completed' AND reviewed_at IS NULL",
            (self._now(), practitioner_id, intake_id),
        )
        return cursor.rowcount > 0
