-- Appointments, the outbox of scheduled messages, and follow-up answers.
CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    -- NULL until the patient is known (added by Telegram id, or opened their deep link).
    patient_id INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    name TEXT,
    starts_at TEXT NOT NULL,
    note TEXT,
    link_token TEXT UNIQUE,
    external_id TEXT UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    attendance TEXT CHECK (attendance IN ('confirmed', 'reschedule')),
    created_at TEXT NOT NULL
);
CREATE INDEX appointments_start ON appointments(starts_at);
CREATE INDEX appointments_patient ON appointments(patient_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    appointment_id INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('intake', 'reminder', 'followup')),
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
    UNIQUE (appointment_id, kind, offset_seconds)
);
CREATE INDEX outbox_due ON outbox(status, due_at);

CREATE TABLE followup_answers (
    outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    value TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (outbox_id, question_id)
);

ALTER TABLE patients ADD COLUMN reminders_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE patients ADD COLUMN unreachable_at TEXT;
ALTER TABLE intakes ADD COLUMN appointment_id INTEGER REFERENCES appointments(id) ON DELETE SET NULL;
