"""Safety screening: red flags that need a doctor, and cautions for the practitioner."""

from __future__ import annotations

from collections.abc import Mapping

from bot.intake.questionnaire import YES, Group, questions_in


def is_red_flag(question_id: str, value: object) -> bool:
    """Whether this answer is a red flag that needs urgent medical advice."""
    return value == YES and any(q.id == question_id for q in questions_in(Group.RED_FLAG))


def red_flags(answers: Mapping[str, object]) -> list[str]:
    """Red-flag question ids answered yes, in asking order."""
    return [q.id for q in questions_in(Group.RED_FLAG) if answers.get(q.id) == YES]


def cautions(answers: Mapping[str, object]) -> list[str]:
    """Screening question ids answered yes: the practitioner must review these before needling."""
    return [q.id for q in questions_in(Group.SCREENING) if answers.get(q.id) == YES]
