"""A patient's course on a measure (pain now, 0-10, at every intake) and whether its change
is clinically important: plain data, no Telegram, no storage.

Pain: a change of at least 2 points, or of at least 30 % of the first value (and at least
one point), counts as clinically important (Farrar et al. 2001; content/SOURCES.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The intake's question for pain now, 0-10 (content/questionnaire.toml).
PAIN = "intensity"
PAIN_POINTS = 2
PAIN_FRACTION = 0.3


class Judgement(StrEnum):
    """How a measure changed since the first reading."""

    IMPROVED = "improved"
    NO_CLEAR_CHANGE = "no_change"
    WORSE = "worse"


@dataclass(frozen=True, slots=True)
class Reading:
    at: datetime
    value: int


@dataclass(frozen=True, slots=True)
class Course:
    """Two or more readings of pain, oldest first."""

    readings: tuple[Reading, ...]

    @property
    def first(self) -> Reading:
        return self.readings[0]

    @property
    def previous(self) -> Reading | None:
        """The reading before the latest, when it is not the first."""
        return self.readings[-2] if len(self.readings) > 2 else None

    @property
    def latest(self) -> Reading:
        return self.readings[-1]

    @property
    def change(self) -> int:
        """Latest minus first: negative when pain went down."""
        return self.latest.value - self.first.value

    @property
    def percent(self) -> int | None:
        """The change as a whole percentage of the first value (None from a first 0)."""
        if self.first.value == 0:
            return None
        return round(100 * self.change / self.first.value)

    @property
    def judgement(self) -> Judgement:
        """Improved, worse, or no clear change, first against latest."""
        return judge_pain(self.first.value, self.latest.value)


def judge_pain(first: int, latest: int) -> Judgement:
    """Whether pain going from `first` to `latest` (0-10) is a clinically important change."""
    change = latest - first
    size = abs(change)
    share = size / first if first else 0.0  # no share of nothing: the points decide
    important = size >= PAIN_POINTS or (size >= 1 and share >= PAIN_FRACTION)
    if not important:
        return Judgement.NO_CLEAR_CHANGE
    return Judgement.IMPROVED if change < 0 else Judgement.WORSE


def pain_course(readings: Iterable[tuple[datetime, object]]) -> Course | None:
    """The course of the pain scores among (when, answer) pairs, oldest first; None with
    fewer than two (an answer that is not a 0-10 score is left out)."""
    scores = tuple(
        Reading(at, value)
        for at, value in readings
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10
    )
    return Course(scores) if len(scores) >= 2 else None
