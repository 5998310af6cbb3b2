"""A patient's course on a measure (pain now, and function on the PSFS, both 0-10, at every
visit) and whether its change is clinically important: plain data, no Telegram, no storage.

Pain: a change of at least 2 points, or of at least 30 % of the first value (and at least
one point), counts as clinically important (Farrar et al. 2001). Function: a change of the
PSFS score of at least 2 points (Abbott & Schmitt 2014). Sources: content/SOURCES.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.questionnaire import Measure
from bot.scores.activities import score_of

PAIN_POINTS = 2
PAIN_FRACTION = 0.3
FUNCTION_POINTS = 2.0


class Judgement(StrEnum):
    """How a measure changed since the first reading."""

    IMPROVED = "improved"
    NO_CLEAR_CHANGE = "no_change"
    WORSE = "worse"


@dataclass(frozen=True, slots=True)
class Reading:
    """One visit's value of a measure; None when it was asked and not given (a gap)."""

    at: datetime
    value: float | None


@dataclass(frozen=True, slots=True)
class Course:
    """Two or more given readings of one measure, oldest first."""

    measure: Measure
    readings: tuple[Reading, ...]  # given ones only

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
    def change(self) -> float:
        """Latest minus first (pain going down, function going up: both negative, positive)."""
        return round(given(self.latest) - given(self.first), 1)

    @property
    def percent(self) -> int | None:
        """A pain change as a whole percentage of the first value (None from a first 0, and
        for function, judged in points only)."""
        first = given(self.first)
        if self.measure is not Measure.PAIN or first == 0:
            return None
        return round(100 * self.change / first)

    @property
    def judgement(self) -> Judgement:
        """Improved, worse, or no clear change, first against latest."""
        return judge(self.measure, given(self.first), given(self.latest))


def given(reading: Reading) -> float:
    """The value of a reading known to be given (those of a Course)."""
    assert reading.value is not None  # a Course holds given readings only
    return reading.value


def judge(measure: Measure, first: float, latest: float) -> Judgement:
    """Whether going from `first` to `latest` (0-10) is a clinically important change."""
    change = round(latest - first, 1)
    size = abs(change)
    if measure is Measure.PAIN:
        share = size / first if first else 0.0  # no share of nothing: the points decide
        important = size >= PAIN_POINTS or (size >= 1 and share >= PAIN_FRACTION)
        better = change < 0
    else:
        important = size >= FUNCTION_POINTS
        better = change > 0
    if not important:
        return Judgement.NO_CLEAR_CHANGE
    return Judgement.IMPROVED if better else Judgement.WORSE


def value_of(measure: Measure, answer: object) -> float | None:
    """A stored answer's value on its measure: a 0-10 pain score, or the PSFS score; None
    when not given."""
    if measure is Measure.FUNCTION:
        return score_of(answer)
    if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer <= 10:
        return float(answer)
    return None


def readings(measure: Measure, answers: Iterable[tuple[datetime, object]]) -> list[Reading]:
    """Each (when, stored answer) pair as a reading, oldest first, gaps kept."""
    found = [Reading(at, value_of(measure, answer)) for at, answer in answers]
    return sorted(found, key=lambda reading: reading.at)


def course(measure: Measure, found: Iterable[Reading]) -> Course | None:
    """The course of the given readings; None with fewer than two."""
    given = tuple(r for r in found if r.value is not None)
    return Course(measure, given) if len(given) >= 2 else None


def shown(value: float) -> str:
    """A value as people read it: 7, 5.3, +2, -1.5 without a trailing .0."""
    return f"{round(value, 1):g}"
