-- An answer the patient changed from the summary: the value it replaced, kept for the
-- record (the summary and the practitioner's messages show the new one), erased with the
-- intake.
CREATE TABLE answer_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    intake_id INTEGER NOT NULL REFERENCES intakes(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    value TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX answer_changes_intake ON answer_changes(intake_id);
