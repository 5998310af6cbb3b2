"""The update inbox: stored before confirmation, handled once, forgotten after."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storage import Storage, utc_now


async def test_updates_are_kept_until_handled_and_never_taken_twice(tmp_path: Path) -> None:
    db = tmp_path / "ashi.sqlite3"
    storage = await Storage.open(db)
    try:
        assert await storage.accept_updates([(5, '{"a": 1}'), (6, '{"b": 2}')]) == [5, 6]
        await storage.finish_update(5, "handled")
    finally:
        await storage.close()
    # After a crash: what was not handled is still there, in order; the handled one is
    # known, so Telegram sending both again (never confirmed) brings back neither.
    storage = await Storage.open(db)
    try:
        assert await storage.pending_updates() == [(6, '{"b": 2}')]
        assert await storage.accept_updates([(5, "{}"), (6, "{}"), (7, "{}")]) == [7]
        await storage.finish_update(6, "dropped")
        assert await storage.pending_updates() == [(7, "{}")]
        # What a handled update said is gone at once; the row itself after two days.
        rows = await storage._all("SELECT update_id, body FROM inbox WHERE handled_at IS NOT NULL")
        assert [(r[0], r[1]) for r in rows] == [(5, None), (6, None)]
        assert await storage.forget_handled_updates(utc_now() - timedelta(days=2)) == 0
        assert await storage.forget_handled_updates(utc_now() + timedelta(seconds=1)) == 2
        assert await storage.pending_updates() == [(7, "{}")]
    finally:
        await storage.close()
