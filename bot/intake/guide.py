"""Which sections of the practitioner's guide match a patient's answers."""

from __future__ import annotations

from collections.abc import Mapping

NECK_SHOULDERS = "neck_shoulders"
LOWER_BACK_HIPS = "lower_back_hips"
EXERCISE = "exercise_tightness"
GENERAL = "general"

# Areas with a section of their own; the others are covered by the general section.
_AREA_SECTIONS = {
    "neck_shoulders": NECK_SHOULDERS,
    "lower_back_hips": LOWER_BACK_HIPS,
    "arms": EXERCISE,
    "legs_calves": EXERCISE,
}


def guide_sections(answers: Mapping[str, object]) -> list[str]:
    """Section ids to send, in reading order, without repeats.

    Each chosen area brings its own section; tightness after exercise comes with the
    exercise cause or with arms and calves; the general section covers any other area
    and stands alone when nothing specific matched.
    """
    raw_areas = answers.get("areas")
    areas = [a for a in raw_areas if isinstance(a, str)] if isinstance(raw_areas, list) else []
    sections: list[str] = []
    for area in areas:
        section = _AREA_SECTIONS.get(area)
        if section and section not in sections:
            sections.append(section)
    if answers.get("cause") == "exercise" and EXERCISE not in sections:
        sections.append(EXERCISE)
    if not sections or any(area not in _AREA_SECTIONS for area in areas):
        sections.append(GENERAL)
    return sections
