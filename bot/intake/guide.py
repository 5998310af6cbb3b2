"""Which sections of the practitioner's guide match a patient's answers."""

from __future__ import annotations

from collections.abc import Mapping

GENERAL = "general"
NECK_SHOULDERS = "neck_shoulders"
UPPER_BACK = "upper_back"
LOWER_BACK_HIPS = "lower_back_hips"
EXERCISE = "exercise_tightness"
EXERCISE_CAUSE = "exercise"
INJURY_CAUSE = "injury"

# Areas with a section of their own. Arms and legs have none: their pain is about tightness
# after exercise only when exercise brought it on (an injury must be checked first).
_AREA_SECTIONS = {
    "neck_shoulders": NECK_SHOULDERS,
    "upper_back": UPPER_BACK,
    "lower_back_hips": LOWER_BACK_HIPS,
}


def guide_sections(answers: Mapping[str, object]) -> list[str]:
    """Section ids to send, in reading order, without repeats.

    The general section (what dry needling is) opens every guide; each chosen area with a
    section of its own follows; tightness after exercise comes with the exercise cause.
    """
    raw_areas = answers.get("areas")
    areas = [a for a in raw_areas if isinstance(a, str)] if isinstance(raw_areas, list) else []
    sections = [GENERAL]
    for area in areas:
        section = _AREA_SECTIONS.get(area)
        if section and section not in sections:
            sections.append(section)
    if answers.get("cause") == EXERCISE_CAUSE:
        sections.append(EXERCISE)
    return sections


def injury_caveat(answers: Mapping[str, object]) -> bool:
    """Whether the guide warns that an injury must be checked first (no stretching into pain)."""
    return answers.get("cause") == INJURY_CAUSE
