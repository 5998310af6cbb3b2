-- Issue 12: once a patient is erased, the audit trail names them by a pseudonym (a keyed
-- hash of their Telegram id; the key lives beside the database, not in it), never by the
-- id itself. The id columns of such an entry are NULL.
ALTER TABLE audit ADD COLUMN actor_key TEXT;
ALTER TABLE audit ADD COLUMN subject_key TEXT;

-- The pseudonyms of everyone erased: the entry recording an erasure is written after it,
-- and must name the patient by pseudonym too.
CREATE TABLE erased (
    pseudonym TEXT PRIMARY KEY
) WITHOUT ROWID;
