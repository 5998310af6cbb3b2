"""Threads: conversations between a practitioner and a patient through the bot."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.base import StoreBase, dt, patient_row
from storage.records import Author, Delivery, Thread, ThreadMessage

_THREAD_COLUMNS = (
    "t.id AS t_id, t.practitioner_id, t.opened_at, t.last_message_at, t.closed_at, p.*"
)


def _required(value: str) -> datetime:
    moment = dt(value)
    assert moment is not None
    return moment


def _thread_row(row: aiosqlite.Row) -> Thread:
    return Thread(
        id=int(row["t_id"]),
        patient=patient_row(row),
        practitioner_id=int(row["practitioner_id"]),
        opened_at=_required(row["opened_at"]),
        last_message_at=_required(row["last_message_at"]),
        closed_at=dt(row["closed_at"]),
    )


class ThreadStore(StoreBase):
    """Threads and their messages; at most one open thread per practitioner and per
    patient."""

    async def open_thread(self, patient_id: int, practitioner_id: int) -> Thread:
        """A new open thread; this practitioner's and this patient's open ones close."""
        now = self._now()
        async with self._transaction() as db:
            await db.execute(
                "UPDATE threads SET closed_at = ? WHERE closed_at IS NULL"
                " AND (practitioner_id = ? OR patient_id = ?)",
                (now, practitioner_id, patient_id),
            )
            cursor = await db.execute(
                "INSERT INTO threads (patient_id, practitioner_id, opened_at, last_message_at)"
                " VALUES (?, ?, ?, ?)",
                (patient_id, practitioner_id, now, now),
            )
            thread_id = int(cursor.lastrowid or 0)
        thread = await self.thread(thread_id)
        assert thread is not None
        return thread

    async def thread(self, thread_id: int) -> Thread | None:
        """The thread with this id, open or closed."""
        row = await self._one(
            f"SELECT {_THREAD_COLUMNS} FROM threads t JOIN patients p ON p.id = t.patient_id"
            " WHERE t.id = ?",
            (thread_id,),
        )
        return _thread_row(row) if row else None

    async def open_thread_of(self, telegram_user_id: int) -> Thread | None:
        """The thread that is not closed of this practitioner, else of the patient with this
        Telegram user id, if any (however long ago its last message was: the caller decides
        when it has lapsed). One read."""
        row = await self._one(
            f"SELECT {_THREAD_COLUMNS} FROM threads t JOIN patients p ON p.id = t.patient_id"
            " WHERE t.closed_at IS NULL AND (t.practitioner_id = ? OR p.telegram_user_id = ?)"
            " ORDER BY t.practitioner_id = ? DESC LIMIT 1",
            (telegram_user_id, telegram_user_id, telegram_user_id),
        )
        return _thread_row(row) if row else None

    async def close_thread(self, thread_id: int) -> bool:
        """Close a thread; False when it was closed already (or is gone)."""
        cursor = await self._db.execute(
            "UPDATE threads SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (self._now(), thread_id),
        )
        return cursor.rowcount > 0

    async def add_thread_message(self, thread_id: int, author: Author, text: str) -> int:
        """Store what one side wrote, before it is sent on; returns its id."""
        now = self._now()
        async with self._transaction() as db:
            await db.execute(
                "UPDATE threads SET last_message_at = ? WHERE id = ?", (now, thread_id)
            )
            cursor = await db.execute(
                "INSERT INTO thread_messages (thread_id, author, text, written_at)"
                " VALUES (?, ?, ?, ?)",
                (thread_id, author, text, now),
            )
            return int(cursor.lastrowid or 0)

    async def set_delivery(self, message_id: int, delivery: Delivery) -> None:
        """Record whether a thread message reached the other side."""
        await self._db.execute(
            "UPDATE thread_messages SET delivery = ? WHERE id = ?", (delivery, message_id)
        )

    async def thread_messages(
        self, patient_id: int, limit: int | None = None
    ) -> list[ThreadMessage]:
        """The messages of all the patient's threads, oldest first (the newest `limit`)."""
        rows = await self._all(
            "SELECT * FROM (SELECT m.*, t.practitioner_id FROM thread_messages m"
            " JOIN threads t ON t.id = m.thread_id WHERE t.patient_id = ?"
            " ORDER BY m.id DESC LIMIT ?) ORDER BY id",
            (patient_id, -1 if limit is None else limit),
        )
        return [
            ThreadMessage(
                id=int(row["id"]),
                thread_id=int(row["thread_id"]),
                practitioner_id=int(row["practitioner_id"]),
                author=Author(row["author"]),
                text=str(row["text"]),
                written_at=_required(row["written_at"]),
                delivery=Delivery(row["delivery"]),
            )
            for row in rows
        ]
