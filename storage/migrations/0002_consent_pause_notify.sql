-- A deep-link payload waits on the patient row until consent, so no intake exists before it.
ALTER TABLE patients ADD COLUMN pending_payload TEXT;
-- /cancel pauses an intake: text is not taken as an answer until the patient continues.
ALTER TABLE intakes ADD COLUMN paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1));
-- When the practitioners were told of the completed intake (NULL: not yet, retried at start).
ALTER TABLE intakes ADD COLUMN notified_at TEXT;
