"""A patient going through the intake without Telegram, for the unit and storage tests."""

import re

from bot.vocabulary.outgoing import Outcome, Reply
from bot.vocabulary.people import Who
from tests.support.conversation import Conversation

PAT = Who(user_id=42, chat_id=42, first_name="Mina", username="mina", language_code="en")


def last_keyboard(outcome: Outcome) -> Reply:
    for reply in reversed(outcome.replies):
        if reply.keyboard:
            return reply
    if outcome.edit and outcome.edit.keyboard:
        return outcome.edit
    raise AssertionError(f"no buttons in {outcome}")


def data_for(reply: Reply, label: str) -> str:
    for row in reply.keyboard:
        for button in row:
            if button.label.removeprefix("✅ ") == label:
                return button.data
    labels = [b.label for row in reply.keyboard for b in row]
    raise AssertionError(f"no button {label!r} in {labels}")


async def press(service: Conversation, outcome: Outcome, label: str) -> Outcome:
    return await service.button(PAT, data_for(last_keyboard(outcome), label))


def texts(outcome: Outcome) -> str:
    return "\n".join(r.html for r in outcome.replies)


async def answer_all(service: Conversation, outcome: Outcome, **overrides: str) -> Outcome:
    """Answer screening and red-flag questions with No unless overridden, and skip the
    activities (PSFS), until the notes."""
    while "Anything else the practitioner should know" not in texts(outcome):
        question = re.search(r"Question \d+ of \d+", texts(outcome))
        assert question, texts(outcome)
        label = "Skip" if "What does the pain make hard" in texts(outcome) else "No"
        for key, value in overrides.items():
            if key in texts(outcome):
                label = value
        outcome = await press(service, outcome, label)
    return outcome


async def agreed(service: Conversation) -> Outcome:
    """Start and consent: the outcome holds the first question."""
    return await press(service, await service.start(PAT), "I agree")


async def through_pain_questions(service: Conversation) -> Outcome:
    outcome = await service.start(PAT, "clinic_ref-1")
    outcome = await press(service, outcome, "I agree")
    outcome = await press(service, outcome, "Neck & shoulders")
    assert "✅ Neck & shoulders" in [b.label for row in outcome.edit.keyboard for b in row]  # type: ignore[union-attr]
    outcome = await press(service, outcome, "Lower back & hips")
    outcome = await press(service, outcome, "Done")
    outcome = await press(service, outcome, "Long sitting or desk work")
    outcome = await press(service, outcome, "6")
    outcome = await press(service, outcome, "More than 12 weeks")
    return await press(service, outcome, "Yes")


async def completed_intake(service: Conversation) -> Outcome:
    """A whole intake with every safety answer No and no notes, confirmed."""
    outcome = await through_pain_questions(service)
    outcome = await answer_all(service, outcome)
    outcome = await press(service, outcome, "Skip")
    return await press(service, outcome, "Confirm")


async def unchanged_since(
    service: Conversation, outcome: Outcome, pain: int, who: Who = PAT
) -> Outcome:
    """A returning patient's short intake from its first step: nothing changed, pain now
    `pain`, none of the red flags, the screening unchanged. The outcome holds what comes
    next: the activities, or the summary."""
    for label in ("Nothing changed", str(pain), "None of these", "No changes"):
        outcome = await service.button(who, data_for(last_keyboard(outcome), label))
    return outcome
