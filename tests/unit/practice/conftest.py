"""The practitioner's service as the bot builds it, over the patients' side."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.content import Content
from bot.practice.service import PracticeService
from storage import Storage
from tests.conftest import CLINIC_TZ, PRACTITIONER
from tests.support.conversation import Conversation


@dataclass
class Exports:
    """The injected csv_export: what it returns, and how often it was asked."""

    text: str = "intake_id,patient\n1,Mina\n2,Omar\n"
    count: int = 2
    calls: list[None] = field(default_factory=list)

    async def __call__(self) -> tuple[str, int]:
        self.calls.append(None)
        return self.text, self.count


@pytest.fixture
def exports() -> Exports:
    return Exports()


@pytest.fixture
def practice(
    storage: Storage, content: Content, exports: Exports, service: Conversation
) -> PracticeService:
    return PracticeService(
        storage,
        content,
        practitioner_ids=[PRACTITIONER],
        timezone=CLINIC_TZ,
        csv_export=exports,
        messaging=service.messaging,
    )
