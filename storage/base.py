"""The connection wrapper every store builds on: transactions, queries, row mapping."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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
    Visit,
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


def like_escaped(text: str) -> str:
    """`text` for a LIKE pattern with ESCAPE '\\': its %, _ and \\ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
        returning_from=row["returning_from"],
        checks=json.loads(row["checks"]) if row["checks"] is not None else None,
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
        visit=Visit(row["visit"]) if row["visit"] else None,
    )


def message_row(row: aiosqlite.Row, id_column: str = "id") -> ScheduledMessage:
    """An outbox row (possibly joined, with its id under another name) as a record."""
    return ScheduledMessage(
        id=row[id_column],
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


Statement = tuple[str, Sequence[Any]]


class SerialConnection:
    """The one connection every task shares, with transactions kept whole.

    aiosqlite runs statements in the order they are queued, whichever task queued them. A
    statement of another task (the dispatcher, another patient's update) queued while a
    transaction is open would run inside it: "cannot start a transaction within a
    transaction", or a write that a ROLLBACK takes back. So a transaction holds the lock
    from BEGIN to COMMIT, and any other task's statement waits until it ends. Built on
    aiosqlite's public API only.
    """

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    @classmethod
    async def open(cls, database: str) -> SerialConnection:
        """Connect (autocommit: transactions are explicit), rows readable by column name."""
        db = await aiosqlite.connect(database, isolation_level=None, iter_chunk_size=64)
        db.row_factory = aiosqlite.Row
        return cls(db)

    async def _turn(self) -> None:
        # Returns without a pause once the lock is free or ours, so the statement that
        # follows is queued before any other task runs.
        while self._lock.locked() and self._owner is not asyncio.current_task():
            async with self._lock:
                pass

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Run the block with no other task's statements in between."""
        async with self._lock:
            self._owner = asyncio.current_task()
            try:
                yield
            finally:
                self._owner = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SerialConnection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back whole if the block fails."""
        async with self.exclusive():
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self
                await self._db.execute("COMMIT")
            except BaseException:
                # After some errors (a full disk, for one) SQLite has rolled back already; a
                # failed COMMIT (busy) leaves the transaction open, and it must not stay open.
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise

    async def apply(self, statements: Sequence[Statement]) -> None:
        """Run write statements as one transaction."""
        if len(statements) == 1:  # one statement is a transaction of its own
            await self.execute(*statements[0])
            return
        async with self.transaction():
            for sql, params in statements:
                await self._db.execute(sql, params)

    async def apply_returning(self, statements: Sequence[Statement], last: Statement) -> list[Any]:
        """Run write statements and then `last` (a statement with RETURNING) as one
        transaction; returns the rows of `last`."""
        if not statements:
            return await self.execute_fetchall(*last)
        async with self.transaction():
            for sql, params in statements:
                await self._db.execute(sql, params)
            return list(await self._db.execute_fetchall(*last))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Cursor:
        """Run one statement; its cursor gives rowcount and lastrowid."""
        await self._turn()
        return await self._db.execute(sql, params)

    async def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter set."""
        await self._turn()
        await self._db.executemany(sql, params)

    async def executescript(self, script: str) -> None:
        """Run a script of statements without parameters (a migration)."""
        await self._turn()
        await self._db.executescript(script)

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """Run a query and return all its rows, in one trip to the database thread (a
        cursor's execute, fetch and close are three)."""
        await self._turn()
        return list(await self._db.execute_fetchall(sql, params))

    async def backup(self, target: sqlite3.Connection) -> None:
        """Copy the whole database into `target` in one step."""
        await self._turn()
        await self._db.backup(target, pages=0)

    async def trace(self, callback: Callable[[str], None]) -> None:
        """Call `callback` with every statement SQLite runs (tests count them)."""
        await self._db.set_trace_callback(callback)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return self._db.in_transaction

    async def close(self) -> None:
        """Close the connection and stop its thread."""
        await self._db.close()


class StoreBase:
    """Holds the connection and the clock; subclasses add the queries."""

    def __init__(self, db: SerialConnection, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def _now(self) -> str:
        return ts(self._clock())

    def _transaction(self) -> AbstractAsyncContextManager[SerialConnection]:
        return self._db.transaction()

    async def _one(self, sql: str, params: Sequence[Any]) -> aiosqlite.Row | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return await self._db.execute_fetchall(sql, params)
