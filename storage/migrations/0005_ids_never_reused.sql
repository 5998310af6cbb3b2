-- Ids are never reused. SQLite hands out the largest id + 1, so after the newest patient,
-- intake, appointment or outbox row was erased, the next one got its id: an old "Mark
-- reviewed" button or a practitioner's note about the erased intake then pointed at another
-- patient's record. AUTOINCREMENT needs the tables rebuilt (SQLite's documented procedure;
-- the runner keeps foreign keys off during migrations and checks them before committing).

CREATE TABLE patients_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_user_id INTEGER NOT NULL UNIQUE,
    chat_id INTEGER NOT NULL,
    first_name TEXT,
    username TEXT,
    language TEXT NOT NULL DEFAULT 'en',
    created_at TEXT NOT NULL,
    pending_payload TEXT,
    reminders_enabled INTEGER NOT NULL DEFAULT 1,
    unreachable_at TEXT
);
INSERT INTO patients_new (id, telegram_user_id, chat_id, first_name, username, language,
    created_at, pending_payload, reminders_enabled, unreachable_at)
SELECT id, telegram_user_id, chat_id, first_name, username, language,
    created_at, pending_payload, reminders_enabled, unreachable_at FROM patients;
DROP TABLE patients;
ALTER TABLE patients_new RENAME TO patients;

CREATE TABLE intakes_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'restarted')),
    step TEXT NOT NULL,
    urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    start_payload TEXT,
    content_version TEXT NOT NULL,
    started_at TEXT NOT NULL,
    completed_at TEXT,
    paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    notified_at TEXT,
    appointment_id INTEGER REFERENCES appointments(id) ON DELETE SET NULL,
    reviewed_at TEXT,
    reviewed_by INTEGER
);
INSERT INTO intakes_new (id, patient_id, status, step, urgent, start_payload, content_version,
    started_at, completed_at, paused, notified_at, appointment_id, reviewed_at, reviewed_by)
SELECT id, patient_id, status, step, urgent, start_payload, content_version,
    started_at, completed_at, paused, notified_at, appointment_id, reviewed_at, reviewed_by
FROM intakes;
DROP TABLE intakes;
ALTER TABLE intakes_new RENAME TO intakes;
CREATE INDEX intakes_patient ON intakes(patient_id, status);
-- At most one intake in progress per patient.
CREATE UNIQUE INDEX intakes_one_open ON intakes(patient_id) WHERE status = 'in_progress';

CREATE TABLE appointments_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO appointments_new (id, patient_id, name, starts_at, note, link_token, external_id,
    status, attendance, created_at)
SELECT id, patient_id, name, starts_at, note, link_token, external_id,
    status, attendance, created_at FROM appointments;
DROP TABLE appointments;
ALTER TABLE appointments_new RENAME TO appointments;
CREATE INDEX appointments_start ON appointments(starts_at);
CREATE INDEX appointments_patient ON appointments(patient_id);

CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO outbox_new (id, appointment_id, kind, offset_seconds, due_at, status, attempts,
    claimed_at, sent_at, message_id, outcome, step)
SELECT id, appointment_id, kind, offset_seconds, due_at, status, attempts,
    claimed_at, sent_at, message_id, outcome, step FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, due_at);
