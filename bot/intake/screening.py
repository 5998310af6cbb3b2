"""Safety screening: red flags that need a doctor, and cautions for the practitioner."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

from bot.vocabulary.questionnaire import YES, Group, questions_in


class Urgency(IntEnum):
    """How soon a red flag needs a doctor; higher is more urgent."""

    SOON = 1  # book an appointment with a doctor soon
    TODAY = 2  # see a doctor or urgent care today
    EMERGENCY = 3  # emergency department or the emergency number now


# The advice for each flag (content/<language>/messages.toml [safety.red_flags]) says the
# same; the heading over it (safety.heading_<urgency>) is chosen from here.
RED_FLAG_URGENCY: dict[str, Urgency] = {
    "rf_numbness_weakness": Urgency.TODAY,
    "rf_bladder_bowel": Urgency.EMERGENCY,
    "rf_fever_back_pain": Urgency.TODAY,
    "rf_fall_accident": Urgency.TODAY,
    "rf_weight_loss": Urgency.SOON,
    "rf_chest_pain": Urgency.EMERGENCY,
}
# Screening answers that get a word at once (safety.notices.<id>), not only at the summary.
NOTICES = frozenset({"under_18"})


def is_red_flag(question_id: str, value: object) -> bool:
    """Whether this answer is a red flag that needs urgent medical advice."""
    return value == YES and any(q.id == question_id for q in questions_in(Group.RED_FLAG))


def red_flags(answers: Mapping[str, object]) -> list[str]:
    """Red-flag question ids answered yes, in asking order."""
    return [q.id for q in questions_in(Group.RED_FLAG) if answers.get(q.id) == YES]


def most_urgent_first(flags: list[str]) -> list[str]:
    """The flags ordered by urgency, the most urgent first (asking order within a level)."""
    return sorted(flags, key=lambda flag: -RED_FLAG_URGENCY[flag])


def cautions(answers: Mapping[str, object]) -> list[str]:
    """Screening question ids answered yes: the practitioner must review these before needling."""
    return [q.id for q in questions_in(Group.SCREENING) if answers.get(q.id) == YES]


def notice(question_id: str, value: object) -> bool:
    """Whether this screening answer is told something at once."""
    return value == YES and question_id in NOTICES
