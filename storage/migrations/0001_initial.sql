-- Patients, consents, intakes, answers and red flags.
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL UNIQUE,
    chat_id INTEGER NOT NULL,
    first_name TEXT,
    username TEXT,
    language TEXT NOT NULL DEFAULT 'en',
    created_at TEXT NOT NULL
);

CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    given INTEGER NOT NULL CHECK (given IN (0, 1)),
    text_version TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX consents_patient ON consents(patient_id, id);

CREATE TABLE intakes (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'restarted')),
    step TEXT NOT NULL,
    urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    start_payload TEXT,
    content_version TEXT NOT NULL,
    started_at TEXT NOT NULL,
    completed_at TEXT
);
CREATE INDEX intakes_patient ON intakes(patient_id, status);
-- At most one intake in progress per patient.
CREATE UNIQUE INDEX intakes_one_open ON intakes(patient_id) WHERE status = 'in_progress';

CREATE TABLE answers (
    intake_id INTEGER NOT NULL REFERENCES intakes(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    value TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (intake_id, question_id)
);

CREATE TABLE red_flags (
    intake_id INTEGER NOT NULL REFERENCES intakes(id) ON DELETE CASCADE,
    flag TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    PRIMARY KEY (intake_id, flag)
);
