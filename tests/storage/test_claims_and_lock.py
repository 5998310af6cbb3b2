"""One bot per database (the lock beside it), and claims that only their owner, an ended
run or an expired lease can release."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import DatabaseLock, PlannedMessage, Storage, StorageError
from storage.lock import lock_path

NOW = datetime(2031, 5, 1, 9, 0, tzinfo=UTC)


def test_a_second_holder_is_refused_with_the_first_named(tmp_path: Path) -> None:
    db = tmp_path / "ashi.sqlite3"
    first = DatabaseLock.acquire(db, "run")
    with pytest.raises(StorageError, match=r"in use by ashi run \(pid \d+ on .+, since 20"):
        DatabaseLock.acquire(db, "demo")
    assert lock_path(db).stat().st_mode & 0o777 == 0o600
    first.release()
    second = DatabaseLock.acquire(db, "run")
    assert second.previous_run_id == first.run_id  # it has ended: its claims are void
    second.release()
    migrate = DatabaseLock.acquire(db, "migrate", sends=False)
    migrate.release()
    third = DatabaseLock.acquire(db, "run")
    assert third.previous_run_id == second.run_id  # migrate sent nothing, passed it on
    third.release()


async def claimed_by(storage: Storage, owner: str) -> int:
    """An appointment whose one message `owner` has claimed; returns the appointment id."""
    patient = await storage.ensure_patient(len(owner) * 1000 + ord(owner[0]), 1, "en")
    starts = NOW - timedelta(hours=1)
    plan = [PlannedMessage("reminder", -60, starts - timedelta(minutes=1))]
    appointment = await storage.add_appointment(starts, plan, patient_id=patient.id)
    assert appointment is not None
    claimed = await storage.claim_due(NOW, 100, owner=owner, lease_until=NOW + timedelta(minutes=1))
    assert [due.appointment.id for due in claimed] == [appointment.id]
    return appointment.id


async def statuses(storage: Storage, appointments: list[int]) -> list[str]:
    return [(await storage.messages_for(a))[0].status for a in appointments]


async def test_only_void_claims_are_released(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "ashi.sqlite3")
    try:
        mine = [await claimed_by(storage, "me")]
        ended = [await claimed_by(storage, "crashed")]
        live = [await claimed_by(storage, "other")]
        released = await storage.release_interrupted(NOW, owner="me", ended=("crashed",))
        assert released == 2
        assert await statuses(storage, mine + ended + live) == ["pending", "pending", "sending"]
        # A renewed lease holds; once it runs out, the claim is void too.
        await storage.renew_claims("other", NOW + timedelta(minutes=5))
        later = NOW + timedelta(minutes=2)
        assert await storage.release_interrupted(later, owner="me") == 0
        expired = NOW + timedelta(minutes=5, seconds=1)
        assert await storage.release_interrupted(expired, owner="me") == 1
        assert await statuses(storage, live) == ["pending"]
    finally:
        await storage.close()
