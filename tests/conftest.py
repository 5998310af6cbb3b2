from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content import Content
from bot.intake.returning import DEFAULT_RETURNING_DAYS
from bot.scheduling.checkins import CheckIns
from storage import Storage
from tests.support.conversation import Conversation

PRACTITIONER = 900


@pytest.fixture(scope="session")
def content() -> Content:
    return Content.load()


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    db = await Storage.open(tmp_path / "ashi.sqlite3")
    yield db
    await db.close()


CLINIC_TZ = ZoneInfo("Europe/London")


@pytest.fixture
def checkins(storage: Storage, content: Content) -> CheckIns:
    return CheckIns(
        storage,
        content,
        clinic_name="Test Clinic",
        clinic_address="1 Needle Lane",
        practitioner_ids=[PRACTITIONER],
        timezone=CLINIC_TZ,
    )


def conversation(
    storage: Storage,
    content: Content,
    checkins: CheckIns,
    returning_days: int = DEFAULT_RETURNING_DAYS,
) -> Conversation:
    """The patients' side of the test clinic."""
    return Conversation(
        storage,
        content,
        checkins,
        clinic_name="Test Clinic",
        practitioner_ids=[PRACTITIONER],
        timezone=CLINIC_TZ,
        returning_days=returning_days,
    )


@pytest.fixture
def service(storage: Storage, content: Content, checkins: CheckIns) -> Conversation:
    return conversation(storage, content, checkins)
