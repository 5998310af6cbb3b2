"""Database round trips per patient action (issue 13): one read of the patient's whole
conversation state, one transaction per answer. A change that adds a query to a press
shows up here, not only in the benchmark."""

from __future__ import annotations

import pytest

from bot.scheduling.checkins import CheckIns
from storage import Storage
from tests.support.conversation import Conversation
from tests.support.followups import sent_followup, tap
from tests.support.patient_flow import PAT, answer_all, data_for, last_keyboard, press
from tests.support.round_trips import RoundTrips


async def test_a_press_reads_the_state_once_and_writes_once(
    service: Conversation, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = RoundTrips(storage, monkeypatch)
    welcome = await service.start(PAT)
    consent, outcome = await trips.of(lambda: press(service, welcome, "I agree"))
    # Once per consent text: the state, the last completed intake (a returning patient's
    # intake is the short one), the consent before, the consent and intake in one.
    assert consent <= 5
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
    note, summary = await trips.of(lambda: service.text(PAT, "Worse in the mornings"))
    # A follow-up note waiting? (no); a conversation with the clinic open? (no); the state;
    # the answer.
    assert note == 4
    confirm, outcome = await trips.of(
        lambda: service.button(PAT, data_for(last_keyboard(summary), "Confirm"))
    )
    assert confirm <= 4
    assert "Thank you" in "\n".join(r.html for r in outcome.replies)  # it did complete


async def test_a_follow_up_answer_reads_once_and_writes_once(
    service: Conversation,
    checkins: CheckIns,
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, outcome = await sent_followup(checkins, storage, PAT)
    trips = RoundTrips(storage, monkeypatch)
    soreness, outcome = await trips.of(lambda: tap(service, PAT, outcome, "2"))
    assert soreness == 2
    for label in ["Better", "No", "No", "No", "No"]:
        outcome = await tap(service, PAT, outcome, label)
    assert outcome.replies[-1].keyboard[0][0].label == "Skip"  # the note comes next
    note, outcome = await trips.of(lambda: service.text(PAT, "Stiff for a day"))
    assert note == 2  # the follow-up state (the note is its own); the answer
    assert "Thank you" in "\n".join(r.html for r in outcome.replies)
