"""The database object: opening, backup and erasure across aggregates, composed of the
per-aggregate stores (patients, intakes, appointments, outbox, audit, inbox)."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.appointments import AppointmentStore
from storage.audit import AuditStore, PseudonymKey, key_path
from storage.base import Clock, SerialConnection, intake_row, ts, utc_now
from storage.errors import DATABASE_ERRORS, StorageError, describe
from storage.inbox import InboxStore
from storage.intakes import IntakeStore
from storage.migrate import apply_migrations, latest_version, schema_version
from storage.outbox import OutboxStore
from storage.patients import PatientStore
from storage.records import Intake, IntakeStatus
from storage.scores import ScoreStore
from storage.threads import ThreadStore


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


async def _check_is_ours(db: SerialConnection, path: str | Path) -> None:
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


class Storage(
    PatientStore,
    IntakeStore,
    AppointmentStore,
    OutboxStore,
    AuditStore,
    InboxStore,
    ThreadStore,
    ScoreStore,
):
    """Async access to patients, consents, intakes, answers, red flags, appointments, the
    outbox, the audit trail and the update inbox: one store per aggregate, one object.

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
        try:
            db = await SerialConnection.open(str(path))
        except sqlite3.Error as exc:
            raise StorageError(f"database {path} cannot be used: {describe(exc)}") from exc
        storage = cls(db, clock, pseudonyms=PseudonymKey(None if memory else key_path(Path(path))))
        try:
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

    async def reachable(self) -> bool:
        """Whether the database takes a write now (for the health endpoint): an empty
        write transaction, waiting at most the busy timeout for a lock."""
        try:
            async with self._transaction():
                pass
        except DATABASE_ERRORS:
            return False
        return True

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
                await self._db.backup(copy)
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
            await db.execute("DELETE FROM threads WHERE patient_id = ?", (patient_id,))
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
        begin: tuple[str, str, str | None, int | None, int | None] | None,
    ) -> Intake | None:
        """In one transaction: record consent and the patient's Telegram name, and, with
        `begin` = (first step, content version, payload, appointment id, the intake it
        returns from), open their new intake (any in progress is marked restarted) and clear
        the pending payload."""
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
        step, content_version, payload, appointment_id, returning_from = begin
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
                " started_at, appointment_id, returning_from, checks)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    patient_id,
                    IntakeStatus.IN_PROGRESS,
                    step,
                    payload,
                    content_version,
                    now,
                    appointment_id,
                    returning_from,
                    None if returning_from is None else "{}",
                ),
            ),
        )
        return intake_row(rows[0])

    async def purge_before(self, cutoff: datetime) -> tuple[int, int, int]:
        """Erase what is older than the retention period: intakes started before `cutoff`
        (with their answers), appointments that started before it (with their notes,
        scheduled messages and follow-up answers), conversations with the clinic whose last
        message is older, and patients with nothing left who first wrote before it (with
        their name and consents; the audit trail names them by pseudonym from now on).
        Returns the counts of intakes, appointments and patients."""
        cut = ts(cutoff)
        counts: list[int] = []
        async with self._transaction() as db:
            for sql in (
                "DELETE FROM intakes WHERE started_at < ?",
                "DELETE FROM appointments WHERE starts_at < ?",
                "DELETE FROM threads WHERE last_message_at < ?",
            ):
                cursor = await db.execute(sql, (cut,))
                counts.append(cursor.rowcount)
            counts.append(await self._erase_patients_with_nothing_left(cut))
        if any(counts):
            await self._purge_log()
        return counts[0], counts[1], counts[3]

    async def _erase_patients_with_nothing_left(self, cut: str) -> int:
        """In the purge's transaction: erase the patients with nothing left who first wrote
        before `cut`, named by pseudonym in the audit trail from now on; how many went."""
        rows = list(
            await self._db.execute_fetchall(
                "DELETE FROM patients WHERE created_at < ?"
                " AND NOT EXISTS (SELECT 1 FROM intakes i WHERE i.patient_id = patients.id)"
                " AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = patients.id)"
                " AND NOT EXISTS (SELECT 1 FROM threads t WHERE t.patient_id = patients.id)"
                " RETURNING telegram_user_id",
                (cut,),
            )
        )
        for row in rows:
            await self._pseudonymise(int(row[0]))
        return len(rows)

    # Intakes --------------------------------------------------------------------------

    # Reading for the practitioner -----------------------------------------------------
