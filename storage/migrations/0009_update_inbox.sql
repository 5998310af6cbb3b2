-- Every update from Telegram is written here before the next getUpdates confirms it, and
-- handled from here: a crash between the two loses nothing. `body` (the update as Telegram
-- sent it: it may hold answers) is cleared once the update is handled; the row stays a
-- while longer so that an update Telegram sends again is recognised and not handled twice.
CREATE TABLE inbox (
    update_id INTEGER PRIMARY KEY,
    body TEXT,
    received_at TEXT NOT NULL,
    handled_at TEXT,
    outcome TEXT
);
CREATE INDEX inbox_pending ON inbox(update_id) WHERE handled_at IS NULL;
CREATE INDEX inbox_handled_at ON inbox(handled_at);

-- When the completion replies (thank-you and guide) reached the patient: a Confirm handled
-- again after a crash sends them if they never went out.
ALTER TABLE intakes ADD COLUMN guide_sent_at TEXT;
UPDATE intakes SET guide_sent_at = completed_at WHERE completed_at IS NOT NULL;
