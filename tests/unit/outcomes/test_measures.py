"""Whether a change in pain is clinically important (2 points or 30 %, Farrar 2001), and a
patient's course from their answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.outcomes.measures import Judgement, judge_pain, pain_course

DAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


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
    assert judge_pain(first, latest) is judgement


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
    course = pain_course([(DAY, 7), (DAY, None), (DAY, True), (DAY, "5"), (DAY, 11), (DAY, 3)])
    assert course is not None
    assert [r.value for r in course.readings] == [7, 3]
    assert pain_course([(DAY, 0), (DAY, 0)]) is not None
    zero = pain_course([(DAY, 0), (DAY, 2)])
    assert zero is not None and zero.percent is None
