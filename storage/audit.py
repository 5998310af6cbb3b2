"""The audit trail and practitioners' review marks."""

from __future__ import annotations

from datetime import datetime

from storage.base import StoreBase, ts
from storage.records import AuditEntry


class AuditStore(StoreBase):
    """Records who looked at, exported, reviewed or erased which record."""

    async def audit(
        self, actor: int | None, action: str, subject: int | None = None, detail: str | None = None
    ) -> None:
        """Append one entry (never patient data: `subject` is a Telegram id)."""
        await self._db.execute(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            (self._now(), actor, action, subject, detail),
        )

    async def audit_entries(self, since: datetime | None = None) -> list[AuditEntry]:
        """The trail, oldest first, optionally from `since`."""
        rows = await self._all(
            "SELECT at, actor, action, subject, detail FROM audit"
            " WHERE (? IS NULL OR at >= ?) ORDER BY id",
            (ts(since) if since else None, ts(since) if since else None),
        )
        return [
            AuditEntry(
                at=datetime.fromisoformat(row["at"]),
                actor=row["actor"],
                action=row["action"],
                subject=row["subject"],
                detail=row["detail"],
            )
            for row in rows
        ]

    async def mark_reviewed(self, intake_id: int, practitioner_id: int) -> bool:
        """Mark a completed intake reviewed; False if it was already (or is not completed)."""
        cursor = await self._db.execute(
            "UPDATE intakes SET reviewed_at = ?, reviewed_by = ?"
            " WHERE id = ? AND status = 'completed' AND reviewed_at IS NULL",
            (self._now(), practitioner_id, intake_id),
        )
        return cursor.rowcount > 0
