-- An answer, the intake's next step and a red flag it raises, written by one INSERT into
-- this view: one statement is atomic by itself, so the hottest write needs neither an
-- explicit transaction nor more than one trip to the database thread.
CREATE VIEW answer_writes (intake_id, question_id, value, answered_at, next_step, red_flag) AS
    SELECT NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER answer_writes_insert INSTEAD OF INSERT ON answer_writes
BEGIN
    INSERT INTO answers (intake_id, question_id, value, answered_at)
        VALUES (NEW.intake_id, NEW.question_id, NEW.value, NEW.answered_at)
        ON CONFLICT (intake_id, question_id)
        DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at;
    UPDATE intakes SET step = NEW.next_step
        WHERE id = NEW.intake_id AND NEW.next_step IS NOT NULL;
    INSERT OR IGNORE INTO red_flags (intake_id, flag, raised_at)
        SELECT NEW.intake_id, NEW.red_flag, NEW.answered_at WHERE NEW.red_flag IS NOT NULL;
    UPDATE intakes SET urgent = 1 WHERE id = NEW.intake_id AND NEW.red_flag IS NOT NULL;
END;
