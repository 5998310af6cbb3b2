-- Whether the patient came (recorded by the clinic: attended or no_show), apart from what
-- the patient answered to a reminder (attendance: confirmed or reschedule).
ALTER TABLE appointments ADD COLUMN visit TEXT CHECK (visit IN ('attended', 'no_show'));

-- A new kind of scheduled message: telling a linked patient that their appointment moved.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same
-- ids (foreign keys are off during migrations; followup_answers keeps pointing at it).
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    appointment_id INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('intake', 'reminder', 'followup', 'moved')),
    offset_seconds INTEGER NOT NULL,
    due_at TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'sending', 'sent', 'skipped', 'dropped', 'cancelled', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_at TEXT,
    sent_at TEXT,
    message_id INTEGER,
    -- Why it ended as it did (e.g. stale, opted_out, blocked) or what the last error was.
    outcome TEXT,
    -- Position in a follow-up conversation once the message is sent.
    step TEXT,
    claimed_by TEXT,
    lease_until TEXT,
    UNIQUE (appointment_id, kind, offset_seconds)
);
INSERT INTO outbox_new (id, appointment_id, kind, offset_seconds, due_at, status, attempts,
    claimed_at, sent_at, message_id, outcome, step, claimed_by, lease_until)
SELECT id, appointment_id, kind, offset_seconds, due_at, status, attempts,
    claimed_at, sent_at, message_id, outcome, step, claimed_by, lease_until FROM outbox;
-- Ids are never reused (migration 5): the new table goes on from where the old one was,
-- even when its newest rows were erased.
UPDATE sqlite_sequence
SET seq = (SELECT MAX(seq) FROM sqlite_sequence WHERE name IN ('outbox', 'outbox_new'))
WHERE name = 'outbox_new';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'outbox_new', seq FROM sqlite_sequence WHERE name = 'outbox'
AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox_new');
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, due_at);
