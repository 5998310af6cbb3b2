-- Practitioners mark completed intakes reviewed; every access to patient data is audited.
ALTER TABLE intakes ADD COLUMN reviewed_at TEXT;
ALTER TABLE intakes ADD COLUMN reviewed_by INTEGER;

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    -- A practitioner's Telegram id, a patient's for their own data, or NULL for the CLI.
    actor INTEGER,
    action TEXT NOT NULL,
    -- Which record: a patient's Telegram id, never their data.
    subject INTEGER,
    detail TEXT
);
CREATE INDEX audit_at ON audit(at);
