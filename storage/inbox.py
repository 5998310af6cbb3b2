"""The update inbox: Telegram's updates, stored before they are confirmed, until handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.base import StoreBase, ts


class InboxStore(StoreBase):
    """Updates as Telegram sent them (JSON), keyed by update_id."""

    async def accept_updates(self, updates: Sequence[tuple[int, str]]) -> list[int]:
        """Store (update_id, body) pairs in one transaction; returns the ids that were new
        (an update Telegram sends again, stored or handled already, is left out)."""
        if not updates:
            return []
        now = self._now()
        values = ", ".join("(?, ?, ?)" for _ in updates)
        params = [v for update_id, body in updates for v in (update_id, body, now)]
        # One statement, one trip: RETURNING names only the rows actually inserted.
        rows = await self._db.apply_returning(
            [],
            (
                f"INSERT OR IGNORE INTO inbox (update_id, body, received_at) VALUES {values}"
                " RETURNING update_id",
                params,
            ),
        )
        return sorted(row[0] for row in rows)

    async def pending_updates(self) -> list[tuple[int, str]]:
        """Stored updates not yet handled, oldest first."""
        rows = await self._all(
            "SELECT update_id, body FROM inbox WHERE handled_at IS NULL ORDER BY update_id"
        )
        return [(row["update_id"], row["body"]) for row in rows]

    async def finish_update(self, update_id: int, outcome: str) -> None:
        """Mark an update handled (or dropped) and forget what it said."""
        await self._db.execute(
            "UPDATE inbox SET body = NULL, handled_at = ?, outcome = ? WHERE update_id = ?",
            (self._now(), outcome, update_id),
        )

    async def forget_handled_updates(self, before: datetime) -> int:
        """Remove handled updates older than `before` (Telegram resends an unconfirmed one
        for at most a day); returns how many."""
        cursor = await self._db.execute(
            "DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < ?", (ts(before),)
        )
        return cursor.rowcount
