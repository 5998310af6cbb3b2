"""Database round trips per patient action (issue 13): one read of the patient's whole
conversation state, one transaction per answer. A change that adds a query to a press
shows up here, not only in the benchmark."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.vocabulary.outgoing import Outcome
from storage import Storage
from tests.support.conversation import Conversation
from tests.support.patient_flow import PAT, answer_all, data_for, last_keyboard, press


class RoundTrips:
    """Counts the trips to the database thread (every statement, fetch or transaction)."""

    def __init__(self, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        connection = storage._db
        forward = connection._execute

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await forward(fn, *args, **kwargs)

        monkeypatch.setattr(connection, "_execute", counted)

    async def of(self, action: Callable[[], Awaitable[Outcome]]) -> tuple[int, Outcome]:
        before = self.count
        outcome = await action()
        return self.count - before, outcome


async def test_a_press_reads_the_state_once_and_writes_once(
    service: Conversation, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = RoundTrips(storage, monkeypatch)
    welcome = await service.start(PAT)
    consent, outcome = await trips.of(lambda: press(service, welcome, "I agree"))
    assert consent <= 4
    toggle, outcome = await trips.of(lambda: press(service, outcome, "Upper back"))
    assert toggle == 2
    done, outcome = await trips.of(lambda: press(service, outcome, "Done"))
    assert done == 2
    one_tap, outcome = await trips.of(lambda: press(service, outcome, "Long sitting or desk work"))
    assert one_tap == 2
    scale, outcome = await trips.of(lambda: press(service, outcome, "7"))
    assert scale == 2
    outcome = await press(service, outcome, "More than 12 weeks")
    outcome = await press(service, outcome, "Yes")
    outcome = await answer_all(service, outcome)
    summary = await press(service, outcome, "Skip")
    confirm, outcome = await trips.of(
        lambda: service.button(PAT, data_for(last_keyboard(summary), "Confirm"))
    )
    assert confirm <= 4
    assert "Thank you" in "\n".join(r.html for r in outcome.replies)  # it did complete
