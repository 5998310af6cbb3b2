"""Migration 7: a check-in waiting for the old fu_warning_signs question goes on after an
upgrade with the first of the questions that replaced it."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from storage import Storage
from storage.migrate import migrations


async def test_an_open_check_in_at_the_old_warning_question_moves_to_breathing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as old:
        for number, sql in migrations()[:6]:
            await old.executescript(f"{sql}\nPRAGMA user_version = {number};")
        await old.executescript(
            "INSERT INTO patients (id, telegram_user_id, chat_id, language, created_at)"
            " VALUES (1, 7, 7, 'en', '2026-01-01T00:00:00+00:00');"
            "INSERT INTO appointments (id, patient_id, starts_at, status, created_at)"
            " VALUES (5, 1, '2026-02-01T09:00:00+00:00', 'scheduled', '2026-01-01T00:00:00+00:00');"
            "INSERT INTO outbox (id, appointment_id, kind, offset_seconds, due_at, status,"
            " sent_at, step) VALUES"
            # Waiting for the old question: the one to move.
            " (9, 5, 'followup', 86400, '2026-02-02T09:00:00+00:00', 'sent',"
            " '2026-02-02T09:00:01+00:00', 'fu_warning_signs'),"
            # Answered it already, now at the note; and a finished one: both stay.
            " (10, 5, 'followup', 604800, '2026-02-08T09:00:00+00:00', 'sent',"
            " '2026-02-08T09:00:01+00:00', 'fu_note'),"
            " (11, 5, 'followup', 3600, '2026-02-01T10:00:00+00:00', 'sent',"
            " '2026-02-01T10:00:01+00:00', 'done'),"
            " (12, 5, 'reminder', -86400, '2026-01-31T09:00:00+00:00', 'sent',"
            " '2026-01-31T09:00:01+00:00', NULL);"
            "INSERT INTO followup_answers VALUES (9, 'fu_soreness', '3', '2026-02-02'),"
            " (9, 'fu_compared', '\"better\"', '2026-02-02'),"
            " (10, 'fu_warning_signs', '\"no\"', '2026-02-08');"
        )
    storage = await Storage.open(path)
    try:
        assert await storage.schema_version() == len(migrations())
        steps = {}
        for message_id in (9, 10, 11, 12):
            message = await storage.scheduled_message(message_id)
            assert message is not None
            steps[message_id] = message.step
        assert steps == {9: "fu_breathing", 10: "fu_note", 11: "done", 12: None}
        # No answer was touched.
        assert await storage.followup_answers(9) == {"fu_soreness": 3, "fu_compared": "better"}
        assert await storage.followup_answers(10) == {"fu_warning_signs": "no"}
    finally:
        await storage.close()
