-- Conversations between a practitioner and a patient through the bot ("Message patient"):
-- what each wrote is the patient's data (in /mydata, erased with them by /delete).
CREATE TABLE threads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    -- The practitioner's Telegram user id (practitioners are settings, not rows).
    practitioner_id INTEGER NOT NULL,
    opened_at TEXT NOT NULL,
    last_message_at TEXT NOT NULL,
    closed_at TEXT
);
-- One open thread per practitioner and one per patient: opening another closes the old.
CREATE UNIQUE INDEX threads_open_practitioner ON threads(practitioner_id)
    WHERE closed_at IS NULL;
CREATE UNIQUE INDEX threads_open_patient ON threads(patient_id) WHERE closed_at IS NULL;
CREATE INDEX threads_patient ON threads(patient_id);

CREATE TABLE thread_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    author TEXT NOT NULL CHECK (author IN ('clinic', 'patient')),
    text TEXT NOT NULL,
    written_at TEXT NOT NULL,
    -- Whether Telegram took it for the other side: sending until it is known.
    delivery TEXT NOT NULL DEFAULT 'sending'
        CHECK (delivery IN ('sending', 'delivered', 'unreachable', 'failed'))
);
CREATE INDEX thread_messages_thread ON thread_messages(thread_id);
