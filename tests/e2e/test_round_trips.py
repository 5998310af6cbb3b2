"""What one update costs the database in the running bot: storing it in the inbox, the
patient's state, the answer, and marking it handled (issue 13)."""

from __future__ import annotations

import pytest

from bot.emulator.server import BotApiEmulator
from storage import Storage
from tests.e2e.conftest import Person, Runner, consent
from tests.support.round_trips import RoundTrips

# Work the bot does on its own schedule (scheduled messages, notices to resend, forgetting
# old updates): not part of any update.
BACKGROUND = ("outbox", "notified_at IS NULL", "DELETE FROM inbox")


async def test_a_one_tap_answer_costs_four_trips_from_inbox_to_handled(
    bot: Runner,
    emulator: BotApiEmulator,
    opened: list[Storage],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with bot():
        patient = Person(emulator, 5301, "Tae")
        await consent(patient)
        await patient.toggles("Neck & shoulders")
        await patient.tap("Done", then="What brought the pain on?")
        trips = RoundTrips(opened[0], monkeypatch)

        def handled() -> bool:
            return any(sql.startswith("UPDATE inbox SET body = NULL") for sql in trips.trips)

        await patient.tap("Long sitting or desk work", then="How strong is the pain")
        await emulator.wait_for(handled)
        ours = [s for s in trips.trips if not any(b in s for b in BACKGROUND)]
        # accept the update; the state; the answer; handled
        assert len(ours) == 4, ours
