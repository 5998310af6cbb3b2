"""The PSFS answer: up to three activities named in the patient's words, rated by button,
carried over to be rated again, with bad input refused."""

from __future__ import annotations

from bot.scores.activities import (
    DONE,
    MAX_NAME,
    SKIP,
    Activities,
    Refusal,
    carried_over,
    parse,
    press,
)


def named(*names: str) -> Activities:
    answer = Activities()
    for name in names:
        added = answer.add(name)
        assert isinstance(added, Activities)
        answer = added
    return answer


def test_activities_are_named_then_rated_and_the_third_rating_finishes() -> None:
    answer = named("Carry shopping")
    assert answer.waiting == 0
    pressed = press(answer, "0_4")
    assert pressed is not None and not pressed.finished and pressed.answer is not None
    answer = named("Carry shopping").rate(0, 4)
    for n, name in enumerate(["Sit through a film", "Lift my child"], start=1):
        added = answer.add(name)
        assert isinstance(added, Activities)
        step = press(added, f"{n}_{n + 5}")
        assert step is not None and step.answer is not None
        answer = step.answer
    assert step is not None and step.finished  # three rated: nothing more to ask
    assert answer.score == round((4 + 6 + 7) / 3, 1)
    assert parse(answer.to_value()) == answer


def test_bad_activities_are_refused_kindly() -> None:
    answer = named("Carry shopping").rate(0, 4)
    assert answer.add("x" * (MAX_NAME + 1)) is Refusal.TOO_LONG
    assert isinstance(answer.add("x" * MAX_NAME), Activities)
    assert answer.add("  carry   SHOPPING ") is Refusal.DUPLICATE
    full = named("a", "b", "c")
    assert full.add("d") is Refusal.FULL


def test_a_button_of_another_step_does_nothing() -> None:
    answer = named("Run", "Lift").rate(0, 5)
    assert press(answer, "0_7") is None  # Run was rated already: a second tap
    assert press(answer, "1_11") is None
    assert press(answer, DONE) is None  # Lift still waits for its rating
    assert press(answer, "1_drop") is None  # only an activity from before can be dropped
    assert press(Activities(), "0_5") is None


def test_skipping_at_the_start_is_not_given_and_done_keeps_what_was_rated() -> None:
    skipped = press(Activities(), SKIP)
    assert skipped is not None and skipped.finished and skipped.answer is None
    two = named("Run").rate(0, 3)
    done = press(two, DONE)
    assert done is not None and done.finished and done.answer == two


def test_the_next_visit_rates_the_same_activities_quoted_and_may_drop_one() -> None:
    before = named("Run", "Lift").rate(0, 3).rate(1, 6)
    again = carried_over(before)
    assert [(a.name, a.rating, a.before) for a in again.items] == [
        ("Run", None, 3),
        ("Lift", None, 6),
    ]
    dropped = press(again, "0_drop")
    assert dropped is not None and dropped.answer is not None and not dropped.finished
    assert dropped.answer.dropped == ("Run",)
    rated = press(dropped.answer, "0_8")
    assert rated is not None and rated.answer is not None
    assert rated.answer.score == 8.0
    assert carried_over(None) == Activities()
