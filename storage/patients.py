"""Patients: who they are, their choices and their consent decisions."""

from __future__ import annotations

import json
from datetime import datetime

from storage.base import StoreBase, intake_row, like_escaped, patient_row
from storage.records import Consent, Intake, IntakeStatus, Patient


class PatientStore(StoreBase):
    """Patients: who they are, their choices and their consent decisions."""

    async def ensure_patient(self, telegram_user_id: int, chat_id: int, language: str) -> Patient:
        """The patient for this Telegram user, created with no personal details if new."""
        await self._db.execute(
            "INSERT INTO patients (telegram_user_id, chat_id, language, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (telegram_user_id) DO UPDATE SET chat_id = ?",
            (telegram_user_id, chat_id, language, self._now(), chat_id),
        )
        patient = await self.patient_by_telegram_id(telegram_user_id)
        assert patient is not None
        return patient

    async def patient_by_telegram_id(self, telegram_user_id: int) -> Patient | None:
        """The patient with this Telegram user id, if any."""
        row = await self._one(
            "SELECT * FROM patients WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        return patient_row(row) if row else None

    async def patient_state(
        self, telegram_user_id: int
    ) -> tuple[Patient | None, Intake | None, dict[str, object]]:
        """In one read: the patient with this Telegram user id, their intake in progress
        and its answers (decoded, by question id)."""
        row = await self._one(
            "SELECT p.*, i.id AS i_id, i.patient_id, i.status, i.step, i.urgent,"
            " i.start_payload, i.content_version, i.started_at, i.completed_at, i.paused,"
            " i.notified_at, i.appointment_id, i.reviewed_at, i.returning_from, i.checks,"
            " (SELECT json_group_object(a.question_id, json(a.value)) FROM answers a"
            "  WHERE a.intake_id = i.id) AS answers_json"
            " FROM patients p LEFT JOIN intakes i ON i.patient_id = p.id AND i.status = ?"
            " WHERE p.telegram_user_id = ?",
            (IntakeStatus.IN_PROGRESS, telegram_user_id),
        )
        if row is None:
            return None, None, {}
        if row["i_id"] is None:
            return patient_row(row), None, {}
        answers: dict[str, object] = json.loads(row["answers_json"] or "{}")
        return patient_row(row), intake_row(row, id_column="i_id"), answers

    async def find_patients(self, text: str, limit: int) -> list[Patient]:
        """Patients whose Telegram first name or username, or the name an appointment of
        theirs was booked under, contains `text` (SQLite's LIKE: case ignored for A-Z), by
        first name."""
        pattern = "%" + like_escaped(text) + "%"
        rows = await self._all(
            "SELECT DISTINCT p.* FROM patients p LEFT JOIN appointments a ON a.patient_id = p.id"
            " WHERE p.first_name LIKE ? ESCAPE '\\' OR p.username LIKE ? ESCAPE '\\'"
            " OR a.name LIKE ? ESCAPE '\\'"
            " ORDER BY p.first_name, p.id LIMIT ?",
            (pattern, pattern, pattern, limit),
        )
        return [patient_row(row) for row in rows]

    async def patient(self, patient_id: int) -> Patient | None:
        """The patient with this id, if any."""
        row = await self._one("SELECT * FROM patients WHERE id = ?", (patient_id,))
        return patient_row(row) if row else None

    async def set_language(self, patient_id: int, language: str) -> None:
        """Remember the language the patient chose."""
        await self._db.execute(
            "UPDATE patients SET language = ? WHERE id = ?", (language, patient_id)
        )

    async def set_pending_payload(self, patient_id: int, payload: str | None) -> None:
        """Keep a deep-link payload until the patient answers the consent question."""
        await self._db.execute(
            "UPDATE patients SET pending_payload = ? WHERE id = ?", (payload, patient_id)
        )

    async def has_patient_data(self, patient_id: int) -> bool:
        """Whether anything but the bare patient row and consents is stored: a name, an
        intake, an appointment (with its messages and follow-up answers) or a conversation
        with the clinic."""
        row = await self._one(
            "SELECT first_name IS NOT NULL OR username IS NOT NULL"
            " OR EXISTS (SELECT 1 FROM intakes WHERE patient_id = ?)"
            " OR EXISTS (SELECT 1 FROM appointments WHERE patient_id = ?)"
            " OR EXISTS (SELECT 1 FROM threads WHERE patient_id = ?) AS has"
            " FROM patients WHERE id = ?",
            (patient_id, patient_id, patient_id, patient_id),
        )
        return bool(row and row["has"])

    async def record_consent(self, patient_id: int, given: bool, text_version: str) -> None:
        """Record the patient's answer to the consent question."""
        await self._db.execute(
            "INSERT INTO consents (patient_id, given, text_version, recorded_at)"
            " VALUES (?, ?, ?, ?)",
            (patient_id, int(given), text_version, self._now()),
        )

    async def consents(self, patient_id: int) -> list[Consent]:
        """Every consent decision of the patient, oldest first."""
        rows = await self._all(
            "SELECT given, text_version, recorded_at FROM consents WHERE patient_id = ?"
            " ORDER BY id",
            (patient_id,),
        )
        return [
            Consent(
                given=bool(row["given"]),
                text_version=row["text_version"],
                recorded_at=datetime.fromisoformat(row["recorded_at"]),
            )
            for row in rows
        ]

    async def latest_consent(self, patient_id: int) -> Consent | None:
        """The patient's most recent consent decision, if any."""
        consents = await self.consents(patient_id)
        return consents[-1] if consents else None

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
