"""The audit trail, its pseudonyms for erased patients, and practitioners' review marks."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from datetime import datetime
from pathlib import Path

from storage.base import Clock, SerialConnection, StoreBase, ts, utc_now
from storage.errors import StorageError, describe
from storage.records import AuditEntry

KEY_BYTES = 32
PSEUDONYM_CHARS = 16  # 64 bits: no two patients of a clinic share one
# The service's entries that record an erasure (older databases name the patient in them).
ERASURES = "erased (%"


def key_path(db_path: Path) -> Path:
    """The audit key of a database: `<database>.auditkey` in the same folder."""
    return db_path.with_name(db_path.name + ".auditkey")


class PseudonymKey:
    """The secret behind erased patients' pseudonyms.

    Kept in a file beside the database, never in it: with a copy of the database alone,
    the few billion possible Telegram ids could be hashed until one matches. Made on first
    need; with no file (an in-memory database) the key lives as long as the process.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._key = secrets.token_bytes(KEY_BYTES) if path is None else None

    def pseudonym(self, telegram_id: int) -> str:
        """The pseudonym of a Telegram id: the same for the same id under the same key."""
        digest = hmac.new(self._secret(), str(telegram_id).encode(), hashlib.sha256)
        return digest.hexdigest()[:PSEUDONYM_CHARS]

    def _secret(self) -> bytes:
        if self._key is None:
            assert self._path is not None
            try:
                self._key = _load_key(self._path)
            except OSError as exc:
                raise StorageError(
                    f"the audit key {self._path} cannot be used: {describe(exc)}"
                ) from exc
        return self._key


def _load_key(path: Path) -> bytes:
    """The key in `path`, made first if there is none."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        _create_key(path)
        return _read_key(path)


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)  # copied in by hand with a wider mode
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise StorageError(
            f"the audit key {path} is damaged ({len(key)} bytes, not {KEY_BYTES}): move it"
            " away and a new one is made (patients erased later then get new pseudonyms)"
        )
    return key


def _create_key(path: Path) -> None:
    # Written whole under another name (mkstemp: mode 0600), then linked into place: a
    # process making it at the same moment keeps the first key, and none reads half a key.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    # The pseudonyms committed next are useless to group by if the key is lost in a crash.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def scrub(detail: str | None, telegram_id: int, pseudonym: str) -> str | None:
    """`detail` with the Telegram id, as a whole number, replaced by the pseudonym (an
    export's filters name the patient)."""
    if detail is None:
        return None
    return re.sub(rf"(?<![0-9]){telegram_id}(?![0-9])", pseudonym, detail)


class AuditStore(StoreBase):
    """Records who looked at, exported, reviewed or erased which record."""

    def __init__(
        self,
        db: SerialConnection,
        clock: Clock = utc_now,
        *,
        pseudonyms: PseudonymKey | None = None,
    ) -> None:
        super().__init__(db, clock)
        self._pseudonyms = pseudonyms or PseudonymKey(None)

    async def audit(
        self, actor: int | None, action: str, subject: int | None = None, detail: str | None = None
    ) -> None:
        """Append one entry (never patient data: `subject` is a Telegram id).

        An erased patient is named by pseudonym as the subject, and as the actor of their
        own record's entry (the one recording the erasure, written after it).
        """
        key = await self._erased_pseudonym(subject)
        own = key is not None and actor == subject
        if key is not None and subject is not None:
            detail = scrub(detail, subject, key)
        await self._db.execute(
            "INSERT INTO audit (at, actor, actor_key, action, subject, subject_key, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self._now(),
                None if own else actor,
                key if own else None,
                action,
                None if key else subject,
                key,
                detail,
            ),
        )

    async def _erased_pseudonym(self, telegram_id: int | None) -> str | None:
        """The pseudonym of an erased patient who has not come back since; else None."""
        if telegram_id is None:
            return None
        row = await self._one(
            "SELECT EXISTS (SELECT 1 FROM erased)"
            " AND NOT EXISTS (SELECT 1 FROM patients WHERE telegram_user_id = ?) AS maybe",
            (telegram_id,),
        )
        if not (row and row["maybe"]):
            return None  # no key is needed (nor made) for anyone else
        pseudonym = self._pseudonyms.pseudonym(telegram_id)
        row = await self._one("SELECT 1 FROM erased WHERE pseudonym = ?", (pseudonym,))
        return pseudonym if row else None

    async def _pseudonymise(self, telegram_id: int, up_to: int | None = None) -> None:
        """Name this person by pseudonym in every audit entry (up to entry `up_to`) and
        remember them as erased. Run inside the erasing transaction."""
        pseudonym = self._pseudonyms.pseudonym(telegram_id)
        last = (up_to, up_to)
        await self._db.execute("INSERT OR IGNORE INTO erased (pseudonym) VALUES (?)", (pseudonym,))
        await self._db.execute(
            "UPDATE audit SET actor = NULL, actor_key = ?"
            " WHERE actor = ? AND (? IS NULL OR id <= ?)",
            (pseudonym, telegram_id, *last),
        )
        await self._db.execute(
            "UPDATE audit SET subject = NULL, subject_key = ?"
            " WHERE subject = ? AND (? IS NULL OR id <= ?)",
            (pseudonym, telegram_id, *last),
        )
        for row in await self._all(
            "SELECT id, detail FROM audit WHERE instr(detail, ?) AND (? IS NULL OR id <= ?)",
            (str(telegram_id), *last),
        ):
            scrubbed = scrub(row["detail"], telegram_id, pseudonym)
            if scrubbed != row["detail"]:
                await self._db.execute(
                    "UPDATE audit SET detail = ? WHERE id = ?", (scrubbed, row["id"])
                )

    async def _pseudonymise_older_erasures(self) -> None:
        """Pseudonymise the patients whose erasure entry still names them: erased by a
        version before pseudonyms, or back as a patient before the entry was written."""
        rows = await self._all(
            "SELECT subject, MAX(id) AS last FROM audit"
            " WHERE action LIKE ? AND subject IS NOT NULL GROUP BY subject",
            (ERASURES,),
        )
        if not rows:
            return
        async with self._transaction():
            for row in rows:
                # Up to their last erasure only: one who came back is a patient again.
                await self._pseudonymise(int(row["subject"]), up_to=int(row["last"]))

    async def audit_entries(self, since: datetime | None = None) -> list[AuditEntry]:
        """The trail, oldest first, optionally from `since`."""
        rows = await self._all(
            "SELECT at, actor, actor_key, action, subject, subject_key, detail FROM audit"
            " WHERE (? IS NULL OR at >= ?) ORDER BY id",
            (ts(since) if since else None, ts(since) if since else None),
        )
        return [
            AuditEntry(
                at=datetime.fromisoformat(row["at"]),
                actor=row["actor"],
                action=row["action"],
                subject=row["subject"],
                detail=row["detail"],
                actor_key=row["actor_key"],
                subject_key=row["subject_key"],
            )
            for row in rows
        ]
