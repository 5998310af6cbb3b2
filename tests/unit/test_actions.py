import pytest

from bot.vocabulary.actions import Action, Verb


def test_actions_round_trip_through_callback_data() -> None:
    action = Action(Verb.ANSWER, 123456789, "rf_numbness_weakness", "yes")
    assert Action.decode(action.encode()) == action


@pytest.mark.parametrize(
    "data", ["", "hello", "a:x:q:c", "z:1:q:c", "a:1:q", "a:1:q:c:extra", "a:²:q:c", "a:\u0661:q:c"]
)
def test_foreign_or_forged_data_is_not_an_action(data: str) -> None:
    assert Action.decode(data) is None


def test_over_long_callback_data_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Action(Verb.ANSWER, 1, "q" * 60, "c").encode()
