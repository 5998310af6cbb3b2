"""The connection wrapper every store builds on: transactions, queries, row mapping."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from storage.records import (
    Appointment,
    AppointmentStatus,
    Attendance,
    Intake,
    IntakeStatus,
    MessageStatus,
    Patient,
    ScheduledMessage,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def ts(value: datetime) -> str:
    """A datetime as stored: ISO 8601 in UTC."""
    return value.astimezone(UTC).isoformat()


def dt(value: str | None) -> datetime | None:
    """A stored timestamp back as an aware datetime."""
    return datetime.fromisoformat(value) if value is not None else None


def patient_row(row: aiosqlite.Row, id_column: str = "id") -> Patient:
    """A patients row (possibly joined, with its id under another name) as a record."""
    return Patient(
        id=row[id_column],
        telegram_user_id=row["telegram_user_id"],
        chat_id=row["chat_id"],
        first_name=row["first_name"],
        username=row["username"],
        language=row["language"],
        created_at=datetime.fromisoformat(row["created_at"]),
        pending_payload=row["pending_payload"],
        reminders_enabled=bool(row["reminders_enabled"]),
        unreachable_at=dt(row["unreachable_at"]),
    )


def intake_row(row: aiosqlite.Row, id_column: str = "id") -> Intake:
    """An intakes row (possibly joined, with its id under another name) as a record."""
    return Intake(
        id=row[id_column],
        patient_id=row["patient_id"],
        status=IntakeStatus(row["status"]),
        step=row["step"],
        urgent=bool(row["urgent"]),
        start_payload=row["start_payload"],
        content_version=row["content_version"],
        started_at=datetime.fromisoformat(row["started_at"]),
        completed_at=dt(row["completed_at"]),
        paused=bool(row["paused"]),
        notified_at=dt(row["notified_at"]),
        appointment_id=row["appointment_id"],
        reviewed_at=dt(row["reviewed_at"]),
    )


def appointment_row(
    row: aiosqlite.Row, id_column: str = "id", status_column: str = "status"
) -> Appointment:
    """An appointments row (possibly joined, with columns renamed) as a record."""
    return Appointment(
        id=row[id_column],
        patient_id=row["patient_id"],
        name=row["name"],
        starts_at=datetime.fromisoformat(row["starts_at"]),
        note=row["note"],
        link_token=row["link_token"],
        external_id=row["external_id"],
        status=AppointmentStatus(row[status_column]),
        attendance=Attendance(row["attendance"]) if row["attendance"] else None,
    )


def message_row(row: aiosqlite.Row) -> ScheduledMessage:
    """An outbox row as a record."""
    return ScheduledMessage(
        id=row["id"],
        appointment_id=row["appointment_id"],
        kind=row["kind"],
        offset_seconds=row["offset_seconds"],
        due_at=datetime.fromisoformat(row["due_at"]),
        status=MessageStatus(row["status"]),
        attempts=row["attempts"],
        sent_at=dt(row["sent_at"]),
        outcome=row["outcome"],
        step=row["step"],
    )


class SerialConnection(aiosqlite.Connection):
    """The one connection every task shares, with transactions kept whole.

    aiosqlite runs statements in the order they are queued, whichever task queued them. A
    statement of another task (the dispatcher, another patient's update) queued while a
    transaction is open would run inside it: "cannot start a transaction within a
    transaction", or a write that a ROLLBACK takes back. So a transaction holds the lock
    from BEGIN to COMMIT, and any other task's statement waits until it ends.
    """

    def __init__(self, database: str, **kwargs: Any) -> None:
        super().__init__(lambda: sqlite3.connect(database, **kwargs), iter_chunk_size=64)
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Run the block (a transaction) with no other task's statements in between."""
        async with self._lock:
            self._owner = asyncio.current_task()
            try:
                yield
            finally:
                self._owner = None

    async def apply(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run write statements as one transaction, in one trip to the database thread."""
        async with self.exclusive():
            await self._execute(self._apply, statements)

    async def apply_returning(
        self, statements: Sequence[tuple[str, Sequence[Any]]], last: tuple[str, Sequence[Any]]
    ) -> list[Any]:
        """Run write statements and then `last` (a statement with RETURNING) as one
        transaction, in one trip to the database thread; returns the rows of `last`."""
        async with self.exclusive():
            rows: list[Any] = await self._execute(self._apply, statements, last)
            return rows

    def _apply(
        self,
        statements: Sequence[tuple[str, Sequence[Any]]],
        last: tuple[str, Sequence[Any]] | None = None,
    ) -> list[Any]:
        # In the database thread; rolled back whole if any statement fails.
        connection = self._conn
        connection.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                connection.execute(sql, params)
            rows = connection.execute(*last).fetchall() if last is not None else []
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return rows

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        # Every statement and fetch goes through here. Queued without a pause once the
        # lock is free, so a transaction waiting for the lock starts after it.
        while self._lock.locked() and self._owner is not asyncio.current_task():
            async with self._lock:
                pass
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]


class StoreBase:
    """Holds the connection and the clock; subclasses add the queries."""

    def __init__(self, db: SerialConnection, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def _now(self) -> str:
        return ts(self._clock())

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._db.exclusive():
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                await self._db.execute("COMMIT")
            except BaseException:
                # After some errors (a full disk, for one) SQLite has rolled back already; a
                # failed COMMIT (busy) leaves the transaction open, and it must not stay open.
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise

    async def _one(self, sql: str, params: Sequence[Any]) -> aiosqlite.Row | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        # One trip to the database thread (a cursor's execute, fetch and close are three).
        return list(await self._db.execute_fetchall(sql, params))
