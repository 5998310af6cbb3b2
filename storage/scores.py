"""Scores: the answers to measured questions (pain now, the PSFS) of intakes and follow-ups,
read together as a patient's course."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

from storage.base import StoreBase
from storage.records import IntakeStatus, Score


class ScoreStore(StoreBase):
    async def scores(
        self,
        question_ids: Collection[str],
        *,
        telegram_user_id: int | None = None,
        up_to_intake: int | None = None,
    ) -> list[Score]:
        """Every answer to these questions, oldest first, in intakes that were not started
        over and in follow-ups: of all patients, of one (`telegram_user_id`), or of the
        patient of `up_to_intake` up to that intake (follow-ups answered before it ended)."""
        if not question_ids:
            return []
        marks = ", ".join("?" for _ in question_ids)
        intake_where = f"a.question_id IN ({marks}) AND i.status != ?"
        followup_where = f"fa.question_id IN ({marks})"
        intake_params: list[object] = [*question_ids, IntakeStatus.RESTARTED.value]
        followup_params: list[object] = list(question_ids)
        if telegram_user_id is not None:
            intake_where += " AND p.telegram_user_id = ?"
            followup_where += " AND p.telegram_user_id = ?"
            intake_params.append(telegram_user_id)
            followup_params.append(telegram_user_id)
        if up_to_intake is not None:
            intake_where += (
                " AND i.id <= ? AND i.patient_id = (SELECT patient_id FROM intakes WHERE id = ?)"
            )
            intake_params += [up_to_intake, up_to_intake]
            followup_where += (
                " AND ap.patient_id = (SELECT patient_id FROM intakes WHERE id = ?)"
                " AND fa.answered_at <= (SELECT COALESCE(completed_at, ?) FROM intakes"
                " WHERE id = ?)"
            )
            followup_params += [up_to_intake, self._now(), up_to_intake]
        rows = await self._all(
            "SELECT a.question_id, a.intake_id, NULL AS followup_id, a.value,"
            " a.answered_at, p.telegram_user_id, i.started_at AS began, 0 AS source FROM answers a"
            " JOIN intakes i ON i.id = a.intake_id JOIN patients p ON p.id = i.patient_id"
            f" WHERE {intake_where}"
            " UNION ALL"
            " SELECT fa.question_id, NULL, fa.outbox_id, fa.value, fa.answered_at,"
            " p.telegram_user_id, o.sent_at, 1 FROM followup_answers fa"
            " JOIN outbox o ON o.id = fa.outbox_id"
            " JOIN appointments ap ON ap.id = o.appointment_id"
            " JOIN patients p ON p.id = ap.patient_id"
            f" WHERE {followup_where}"
            # Stored to the second: within one, the visit begun first comes first.
            " ORDER BY answered_at, began, source, intake_id, followup_id",
            [*intake_params, *followup_params],
        )
        return [
            Score(
                question_id=row["question_id"],
                telegram_user_id=int(row["telegram_user_id"]),
                at=datetime.fromisoformat(row["answered_at"]),
                value=json.loads(row["value"]),
                intake_id=row["intake_id"],
                followup_id=row["followup_id"],
            )
            for row in rows
        ]
