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


@pytest.mark.parametrize(
    ("verb", "field"),
    [
        (Verb.ANSWER, "intake_id"),
        (Verb.REVIEW, "intake_id"),
        (Verb.ATTEND, "appointment_id"),
        (Verb.APPOINTMENT_INTAKE, "appointment_id"),
        (Verb.FOLLOWUP_ANSWER, "outbox_id"),
        (Verb.OPEN, "telegram_user_id"),
        (Verb.PAGE, "page"),
    ],
)
def test_each_verb_reads_its_number_only_as_what_it_refers_to(verb: Verb, field: str) -> None:
    action = Action.decode(Action(verb, 42, "q", "c").encode())
    assert action is not None and getattr(action, field) == 42
    others = {"intake_id", "appointment_id", "outbox_id", "telegram_user_id", "page"} - {field}
    for other in others:
        with pytest.raises(ValueError, match="carries no"):
            getattr(action, other)


@pytest.mark.parametrize("verb", [Verb.CONSENT, Verb.NEW, Verb.DELETE, Verb.LANGUAGE])
def test_verbs_without_a_subject_carry_no_number(verb: Verb) -> None:
    assert Action.decode(Action(verb, 0, "", "yes").encode()) == Action(verb, code="yes")
    assert Action.decode(f"{verb.value}:7::yes") is None
    with pytest.raises(ValueError, match="carries no number"):
        Action(verb, 7)
