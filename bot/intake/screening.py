"""Safety screening: red flags that need a doctor, and cautions for the practitioner.

Which questions are red flags, how urgent each is and which screening answers get a word
at once are declared in content/questionnaire.toml.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.questionnaire import YES, Group, Questionnaire


def is_red_flag(questionnaire: Questionnaire, question_id: str, value: object) -> bool:
    """Whether this answer is a red flag that needs urgent medical advice."""
    return value == YES and questionnaire.question(question_id).group is Group.RED_FLAG


def red_flags(questionnaire: Questionnaire, answers: Mapping[str, object]) -> list[str]:
    """Red-flag question ids answered yes, in asking order."""
    return [q.id for q in questionnaire.in_group(Group.RED_FLAG) if answers.get(q.id) == YES]


def most_urgent_first(questionnaire: Questionnaire, flags: list[str]) -> list[str]:
    """The flags ordered by urgency, the most urgent first (asking order within a level)."""
    return sorted(flags, key=lambda flag: -(questionnaire.question(flag).urgency or 0))


def cautions(questionnaire: Questionnaire, answers: Mapping[str, object]) -> list[str]:
    """Screening question ids answered yes: the practitioner must review these before needling."""
    return [q.id for q in questionnaire.in_group(Group.SCREENING) if answers.get(q.id) == YES]


def notice(questionnaire: Questionnaire, question_id: str, value: object) -> bool:
    """Whether this screening answer is told something at once."""
    return value == YES and questionnaire.question(question_id).notice
