"""Whether a change is clinically important (pain 2 points or 30 %, Farrar 2001; function
on the PSFS 2 points, Abbott & Schmitt 2014), and a patient's course from their answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.questionnaire import Measure
from bot.scores.measures import Judgement, course, judge, readings

DAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PAIN = Measure.PAIN
FUNCTION = Measure.FUNCTION


def pain_course(pairs: list[tuple[datetime, object]]):  # type: ignore[no-untyped-def]
    return course(PAIN, readings(PAIN, pairs))


@pytest.mark.parametrize(
    ("first", "latest", "judgement"),
    [
        (7, 4, Judgement.IMPROVED),  # 3 points
        (7, 5, Judgement.IMPROVED),  # 2 points (29 %): the points suffice
        (7, 6, Judgement.NO_CLEAR_CHANGE),  # 1 point, 14 %
        (3, 2, Judgement.IMPROVED),  # 1 point but 33 %: from a low start, the share counts
        (6, 5, Judgement.NO_CLEAR_CHANGE),  # 17 %
        (5, 5, Judgement.NO_CLEAR_CHANGE),
        (4, 6, Judgement.WORSE),
        (8, 9, Judgement.NO_CLEAR_CHANGE),  # 13 % more
        (0, 1, Judgement.NO_CLEAR_CHANGE),  # no share of nothing: the points decide
        (0, 2, Judgement.WORSE),
        (10, 0, Judgement.IMPROVED),
    ],
)
def test_change_in_pain_is_judged_against_the_smallest_important_one(
    first: int, latest: int, judgement: Judgement
) -> None:
    assert judge(PAIN, first, latest) is judgement


@pytest.mark.parametrize(
    ("first", "latest", "judgement"),
    [
        (3.0, 5.0, Judgement.IMPROVED),  # function going up is better
        (3.0, 4.7, Judgement.NO_CLEAR_CHANGE),  # 1.7 points: under 2
        (6.3, 4.3, Judgement.WORSE),  # exactly 2 points down
        (2.0, 2.5, Judgement.NO_CLEAR_CHANGE),  # no percentage rule for function
        (0.0, 2.0, Judgement.IMPROVED),
    ],
)
def test_change_in_function_is_judged_in_points_higher_being_better(
    first: float, latest: float, judgement: Judgement
) -> None:
    assert judge(FUNCTION, first, latest) is judgement


def test_a_course_needs_two_readings_and_names_first_previous_and_latest() -> None:
    assert pain_course([(DAY, 7)]) is None
    two = pain_course([(DAY, 7), (DAY + timedelta(days=7), 4)])
    assert two is not None
    assert (two.first.value, two.previous, two.latest.value) == (7, None, 4)
    assert (two.change, two.percent, two.judgement) == (-3, -43, Judgement.IMPROVED)

    three = pain_course([(DAY, 7), (DAY + timedelta(days=7), 4), (DAY + timedelta(days=14), 6)])
    assert three is not None and three.previous is not None
    assert (three.previous.value, three.latest.value) == (4, 6)
    assert three.judgement is Judgement.NO_CLEAR_CHANGE  # judged against the first: 7 -> 6


def test_answers_that_are_not_scores_leave_gaps_never_zeros() -> None:
    found = readings(PAIN, [(DAY, 7), (DAY, None), (DAY, True), (DAY, "5"), (DAY, 11), (DAY, 3)])
    assert [r.value for r in found] == [7, None, None, None, None, 3]
    given = course(PAIN, found)
    assert given is not None
    assert [r.value for r in given.readings] == [7, 3]
    assert pain_course([(DAY, 0), (DAY, 0)]) is not None
    zero = pain_course([(DAY, 0), (DAY, 2)])
    assert zero is not None and zero.percent is None


def test_the_function_score_is_the_mean_of_the_ratings_and_a_skip_is_a_gap() -> None:
    first = {"activities": [{"name": "Run", "rating": 2}, {"name": "Lift", "rating": 5}]}
    partial = {"activities": [{"name": "Run", "rating": 6}, {"name": "Lift", "rating": None}]}
    done = {"activities": [{"name": "Run", "rating": 6}, {"name": "Lift", "rating": 7}]}
    days = [DAY + timedelta(days=n) for n in range(4)]
    found = readings(
        FUNCTION, [(days[0], first), (days[1], None), (days[2], partial), (days[3], done)]
    )
    # Skipped, or left with an activity to rate: not given, a gap.
    assert [r.value for r in found] == [3.5, None, None, 6.5]
    given = course(FUNCTION, found)
    assert given is not None
    assert (given.change, given.percent, given.judgement) == (3.0, None, Judgement.IMPROVED)
