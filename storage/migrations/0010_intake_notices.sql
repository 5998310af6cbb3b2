-- Which practitioner has received the summary of which completed intake: a notice Telegram
-- refused for one practitioner is sent again to that one only.
CREATE TABLE intake_notices (
    intake_id INTEGER NOT NULL REFERENCES intakes(id) ON DELETE CASCADE,
    chat_id INTEGER NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (intake_id, chat_id)
) WITHOUT ROWID;
