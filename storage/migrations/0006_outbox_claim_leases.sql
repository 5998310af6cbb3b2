-- A claimed ('sending') message names the run that claimed it and until when the claim
-- holds; a starting bot releases only its own claims, those of a run known to have ended,
-- and expired ones.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
