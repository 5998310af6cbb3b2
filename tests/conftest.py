from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content import Content
from bot.intake.service import IntakeService
from storage import Storage

PRACTITIONER = 900


@pytest.fixture(scope="session")
def content() -> Content:
    return Content.load()


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    db = await Storage.open(tmp_path / "ashi.sqlite3")
    yield db
    await db.close()


@pytest.fixture
def service(storage: Storage, content: Content) -> IntakeService:
    return IntakeService(
        storage,
        content,
        clinic_name="Test Clinic",
        practitioner_ids=[PRACTITIONER],
        timezone=ZoneInfo("Europe/London"),
    )
