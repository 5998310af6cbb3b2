"""The one place with SQL: an async API over the Ashi SQLite database."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage.appointments import AppointmentStore
from storage.audit import AuditStore, PseudonymKey, key_path
from storage.base import Clock, SerialConnection, intake_row, patient_row, ts, utc_now
from storage.errors import StorageError, describe
from storage.inbox import InboxStore
from storage.migrate import apply_migrations, latest_version, schema_version
from storage.records import (
    Answer,
    Consent,
    Intake,
    IntakeRecord,
    IntakeStatus,
    Patient,
    RedFlag,
)


def _create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only: it holds health data."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


log = logging.getLogger(__name__)
CHECKPOINT_TRIES = 20  # about a minute of growing pauses
CHECKPOINT_PAUSE = 0.05


def _make_private(path: Path) -> None:
    """The database and its -wal and -shm files readable by their owner only, also when
    they were made by hand or by an older version with a wider mode."""
    for suffix in ("", "-wal", "-shm"):
        file = path.with_name(path.name + suffix)
        if file.exists() and file.stat().st_mode & 0o077:
            os.chmod(file, 0o600)


def _seal_backup(copy: sqlite3.Connection) -> int:
    """Make the copy one self-contained file, check it, count its completed intakes."""
    copy.execute("PRAGMA journal_mode = DELETE")
    verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        raise StorageError(f"the copy failed SQLite's integrity check: {verdict}")
    row = copy.execute(
        "SELECT COUNT(*) FROM intakes WHERE status = ?", (IntakeStatus.COMPLETED,)
    ).fetchone()
    return int(row[0])


async def _check_is_ours(db: aiosqlite.Connection, path: str | Path) -> None:
    """Refuse another program's SQLite file, and one made by a newer Ashi (whose schema this
    version does not know: writing to it could lose data)."""
    version = await schema_version(db)
    if version > latest_version():
        raise StorageError(
            f"database {path} was made by a newer version of Ashi (schema {version}; this"
            f" version knows up to {latest_version()}): install that version or newer"
        )
    if version == 0:
        tables = await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        if list(tables):
            raise StorageError(
                f"database {path} is an SQLite database of another program, not Ashi's:"
                " check ASHI_DB_PATH"
            )


class Storage(AppointmentStore, AuditStore, InboxStore):
    """Async access to patients, consents, intakes, answers, red flags, appointments, the
    outbox and the update inbox.

    Every write is committed before the method returns, so an answer survives a crash
    the moment it has been acknowledged.
    """

    @classmethod
    async def open(
        cls, path: str | Path, *, clock: Clock = utc_now, create: bool = True, migrate: bool = True
    ) -> Storage:
        """Open the database at `path` and apply pending migrations.

        `create`: make the file if it does not exist (only `ashi run` and `ashi migrate` do:
        for any other verb a mistyped path must not become an empty database). Every reason
        it cannot be used is a StorageError with one line that says what to do.
        """
        memory = str(path) == ":memory:"
        if not memory:
            path = Path(path)
            if not path.exists() and not create:
                raise StorageError(
                    f"there is no database at {path}: check ASHI_DB_PATH"
                    " (`ashi migrate` creates a new one)"
                )
            try:
                _create_private_file(path)
            except OSError as exc:
                raise StorageError(f"database {path} cannot be used: {describe(exc)}") from exc
        db = SerialConnection(str(path), isolation_level=None)
        try:
            await db
        except sqlite3.Error as exc:
            raise StorageError(f"database {path} cannot be used: {describe(exc)}") from exc
        storage = cls(db, clock, pseudonyms=PseudonymKey(None if memory else key_path(Path(path))))
        try:
            db.row_factory = aiosqlite.Row
            await _check_is_ours(db, path)
            await db.execute("PRAGMA journal_mode = WAL")
            if not memory:
                _make_private(Path(path))
            # FULL: a committed answer survives power loss too, not only a process crash.
            await db.execute("PRAGMA synchronous = FULL")
            # Erased health data is overwritten, not left in free pages.
            await db.execute("PRAGMA secure_delete = ON")
            await db.execute("PRAGMA busy_timeout = 5000")
            if migrate:
                await apply_migrations(db)  # with foreign keys off, as SQLite's rebuilds need
            await db.execute("PRAGMA foreign_keys = ON")
            if migrate:
                # At every open, not only with migration 8: a query when nothing is left.
                await storage._pseudonymise_older_erasures()
        except sqlite3.Error as exc:
            await db.close()
            raise StorageError(f"database {path} cannot be used: {describe(exc)}") from exc
        except BaseException:
            await db.close()
            raise
        return storage

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()

    async def backup_to(self, target: Path) -> int:
        """Write a consistent copy of the whole database to `target`, a new file (mode 0600;
        an existing file is never overwritten), while the bot may be writing. The copy is
        checked with SQLite's integrity check; returns its number of completed intakes."""
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise StorageError(
                f"{target} exists already: a backup never overwrites, choose a new name"
            ) from None
        except OSError as exc:
            raise StorageError(f"backup {target} cannot be created: {describe(exc)}") from exc
        os.close(fd)
        try:
            copy = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
            try:
                # One step: the copy is a single snapshot of the database (WAL readers do
                # not block the bot's writers).
                await self._db.backup(copy, pages=0)
                return await asyncio.to_thread(_seal_backup, copy)
            finally:
                copy.close()
        except BaseException:
            await asyncio.to_thread(target.unlink, missing_ok=True)
            raise

    async def schema_version(self) -> int:
        """The number of the last migration applied."""
        return await schema_version(self._db)

    # Patients -------------------------------------------------------------------------

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
            " i.notified_at, i.appointment_id, i.reviewed_at,"
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
        intake or an appointment (with its messages and follow-up answers)."""
        row = await self._one(
            "SELECT first_name IS NOT NULL OR username IS NOT NULL"
            " OR EXISTS (SELECT 1 FROM intakes WHERE patient_id = ?)"
            " OR EXISTS (SELECT 1 FROM appointments WHERE patient_id = ?) AS has"
            " FROM patients WHERE id = ?",
            (patient_id, patient_id, patient_id),
        )
        return bool(row and row["has"])

    async def delete_patient(self, patient_id: int) -> None:
        """Erase the patient and everything stored about them; the audit trail names them
        by pseudonym from now on (also in the entry recording the erasure)."""
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                "DELETE FROM patients WHERE id = ? RETURNING telegram_user_id", (patient_id,)
            )
            for row in rows:
                await self._pseudonymise(int(row[0]))
        await self._purge_log()

    async def forget_patient_data(self, patient_id: int) -> None:
        """Erase everything but the bare patient row and consents (consent refused).

        The audit trail keeps their Telegram id: the row that records the refusal holds it
        anyway; it becomes a pseudonym when the row goes (erasure, retention)."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM intakes WHERE patient_id = ?", (patient_id,))
            await db.execute(
                "UPDATE patients SET first_name = NULL, username = NULL, pending_payload = NULL"
                " WHERE id = ?",
                (patient_id,),
            )
        await self._purge_log()

    async def _purge_log(self) -> None:
        """Copy the write-ahead log into the database and empty it: erased rows would
        otherwise live on in the log. A reader that is still open (an export, a backup)
        keeps the checkpoint from finishing, so it is tried again until it does."""
        pause = CHECKPOINT_PAUSE
        for attempt in range(CHECKPOINT_TRIES):
            rows = await self._db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = next(iter(rows))[0] if rows else 0
            if not busy:
                if attempt:
                    log.info("erased data left the write-ahead log after %d tries", attempt + 1)
                return
            if attempt == 0:
                log.warning("a reader keeps erased data in the write-ahead log; trying again")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
        log.error(
            "erased data is still in the write-ahead log: a reader kept it open for over a"
            " minute; it goes at the next checkpoint"
        )

    # Consent --------------------------------------------------------------------------

    async def agree(
        self,
        patient_id: int,
        text_version: str,
        first_name: str | None,
        username: str | None,
        *,
        begin: tuple[str, str, str | None, int | None] | None,
    ) -> Intake | None:
        """In one transaction: record consent and the patient's Telegram name, and, with
        `begin` = (first step, content version, payload, appointment id), open their new
        intake (any in progress is marked restarted) and clear the pending payload."""
        now = self._now()
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "INSERT INTO consents (patient_id, given, text_version, recorded_at)"
                " VALUES (?, 1, ?, ?)",
                (patient_id, text_version, now),
            ),
            (
                "UPDATE patients SET first_name = ?, username = ? WHERE id = ?",
                (first_name, username, patient_id),
            ),
        ]
        if begin is None:
            await self._db.apply(statements)
            return None
        step, content_version, payload, appointment_id = begin
        statements += [
            (
                "UPDATE intakes SET status = ? WHERE patient_id = ? AND status = ?",
                (IntakeStatus.RESTARTED, patient_id, IntakeStatus.IN_PROGRESS),
            ),
            # Cleared in the same transaction that stores it with the intake: never lost.
            ("UPDATE patients SET pending_payload = NULL WHERE id = ?", (patient_id,)),
        ]
        rows = await self._db.apply_returning(
            statements,
            (
                "INSERT INTO intakes (patient_id, status, step, start_payload, content_version,"
                " started_at, appointment_id) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    patient_id,
                    IntakeStatus.IN_PROGRESS,
                    step,
                    payload,
                    content_version,
                    now,
                    appointment_id,
                ),
            ),
        )
        return intake_row(rows[0])

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

    async def count_intakes(self, *, completed: bool = False) -> int:
        """How many intakes are stored (only completed ones, if asked)."""
        row = await self._one(
            "SELECT COUNT(*) AS n FROM intakes WHERE (? = 0 OR status = 'completed')",
            (int(completed),),
        )
        return int(row["n"]) if row else 0

    async def purge_before(self, cutoff: datetime) -> tuple[int, int, int]:
        """Erase what is older than the retention period: intakes started before `cutoff`
        (with their answers), appointments that started before it (with their notes,
        scheduled messages and follow-up answers), and patients with nothing left who first
        wrote before it (with their name and consents; the audit trail names them by
        pseudonym from now on). Returns the three counts."""
        cut = ts(cutoff)
        counts: list[int] = []
        async with self._transaction() as db:
            for sql in (
                "DELETE FROM intakes WHERE started_at < ?",
                "DELETE FROM appointments WHERE starts_at < ?",
            ):
                cursor = await db.execute(sql, (cut,))
                counts.append(cursor.rowcount)
            counts.append(await self._erase_patients_with_nothing_left(cut))
        if any(counts):
            await self._purge_log()
        return counts[0], counts[1], counts[2]

    async def _erase_patients_with_nothing_left(self, cut: str) -> int:
        """In the purge's transaction: erase the patients with nothing left who first wrote
        before `cut`, named by pseudonym in the audit trail from now on; how many went."""
        rows = list(
            await self._db.execute_fetchall(
                "DELETE FROM patients WHERE created_at < ?"
                " AND NOT EXISTS (SELECT 1 FROM intakes i WHERE i.patient_id = patients.id)"
                " AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = patients.id)"
                " RETURNING telegram_user_id",
                (cut,),
            )
        )
        for row in rows:
            await self._pseudonymise(int(row[0]))
        return len(rows)

    async def latest_consent(self, patient_id: int) -> Consent | None:
        """The patient's most recent consent decision, if any."""
        consents = await self.consents(patient_id)
        return consents[-1] if consents else None

    # Intakes --------------------------------------------------------------------------

    async def start_intake(
        self,
        patient_id: int,
        *,
        step: str,
        content_version: str,
        start_payload: str | None,
        appointment_id: int | None = None,
    ) -> Intake:
        """Open a new intake at `step`; any intake still in progress is marked restarted."""
        now = self._now()
        async with self._transaction() as db:
            await db.execute(
                "UPDATE intakes SET status = ? WHERE patient_id = ? AND status = ?",
                (IntakeStatus.RESTARTED, patient_id, IntakeStatus.IN_PROGRESS),
            )
            cursor = await db.execute(
                "INSERT INTO intakes (patient_id, status, step, start_payload, content_version,"
                " started_at, appointment_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    patient_id,
                    IntakeStatus.IN_PROGRESS,
                    step,
                    start_payload,
                    content_version,
                    now,
                    appointment_id,
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
        raising a red flag, all in one transaction."""
        now = self._now()
        statements: list[tuple[str, tuple[object, ...]]] = [
            (
                "INSERT INTO answers (intake_id, question_id, value, answered_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (intake_id, question_id)"
                " DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at",
                (intake_id, question_id, json.dumps(value, ensure_ascii=False), now),
            )
        ]
        if next_step is not None:
            statements.append(("UPDATE intakes SET step = ? WHERE id = ?", (next_step, intake_id)))
        if red_flag is not None:
            statements.append(
                (
                    "INSERT OR IGNORE INTO red_flags (intake_id, flag, raised_at) VALUES (?, ?, ?)",
                    (intake_id, red_flag, now),
                )
            )
            statements.append(("UPDATE intakes SET urgent = 1 WHERE id = ?", (intake_id,)))
        # The hottest write: one trip to the database thread instead of one per statement.
        await self._db.apply(statements)

    async def delete_answer(self, intake_id: int, question_id: str) -> None:
        """Remove one answer (a follow-up question that no longer applies)."""
        await self._db.execute(
            "DELETE FROM answers WHERE intake_id = ? AND question_id = ?",
            (intake_id, question_id),
        )

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

    # Reading for the practitioner -----------------------------------------------------

    async def intake_record(self, intake_id: int) -> IntakeRecord | None:
        """One intake with its patient, answers and red flags."""
        intake = await self.intake(intake_id)
        if intake is None:
            return None
        patient = await self.patient(intake.patient_id)
        if patient is None:
            return None
        for record in await self.intake_records(telegram_user_id=patient.telegram_user_id):
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

        Filters: started in [since, until), one patient, or `flagged` (urgent, or completed
        and not yet reviewed); `limit`/`offset` page through them.
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
            conditions.append(
                "(i.urgent = 1 OR (i.status = 'completed' AND i.reviewed_at IS NULL))"
            )
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
            "SELECT intake_id, question_id, value, answered_at FROM answers"
            f" WHERE intake_id IN ({marks}) ORDER BY answered_at, rowid",
            ids,
        ):
            answers[row["intake_id"]].append(
                Answer(
                    question_id=row["question_id"],
                    value=row["value"],
                    answered_at=datetime.fromisoformat(row["answered_at"]),
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
