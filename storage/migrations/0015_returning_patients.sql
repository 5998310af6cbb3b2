-- Returning patients (issue 16): an intake may start from the patient's last completed one.
-- checks: NULL for an intake that asks everything; for a returning one its decisions so far,
-- a JSON object by block ("history", "red_flags", "screening"), e.g. {"history": "same"}
-- (it stays returning when retention erases the intake it started from).
-- returning_from: that earlier intake, while it is kept.
ALTER TABLE intakes ADD COLUMN returning_from INTEGER REFERENCES intakes(id) ON DELETE SET NULL;
ALTER TABLE intakes ADD COLUMN checks TEXT;

-- An answer carried forward from an earlier intake and confirmed unchanged by the patient.
-- The row goes when the answer is changed or removed: what remains was confirmed as it is.
CREATE TABLE carried_answers (
    intake_id INTEGER NOT NULL REFERENCES intakes(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    from_intake_id INTEGER REFERENCES intakes(id) ON DELETE SET NULL,
    confirmed_at TEXT NOT NULL,
    PRIMARY KEY (intake_id, question_id)
);
CREATE INDEX carried_answers_from ON carried_answers(from_intake_id);
