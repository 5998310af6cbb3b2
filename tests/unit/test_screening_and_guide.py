import pytest

from bot.intake.guide import guide_sections
from bot.intake.screening import cautions, is_red_flag, red_flags


def test_red_flags_are_yes_answers_to_red_flag_questions_only() -> None:
    answers = {"rf_chest_pain": "yes", "rf_weight_loss": "no", "pregnancy": "yes"}
    assert red_flags(answers) == ["rf_chest_pain"]
    assert cautions(answers) == ["pregnancy"]
    assert is_red_flag("rf_bladder_bowel", "yes")
    assert not is_red_flag("rf_bladder_bowel", "no")
    assert not is_red_flag("pregnancy", "yes")


@pytest.mark.parametrize(
    ("areas", "cause", "expected"),
    [
        (["neck_shoulders"], "desk", ["neck_shoulders"]),
        (["lower_back_hips"], "not_sure", ["lower_back_hips"]),
        (["neck_shoulders"], "exercise", ["neck_shoulders", "exercise_tightness"]),
        (["legs_calves"], "desk", ["exercise_tightness"]),
        (["arms", "legs_calves"], "injury", ["exercise_tightness"]),
        (["upper_back"], "desk", ["general"]),
        (["other"], "not_sure", ["general"]),
        (["neck_shoulders", "upper_back"], "desk", ["neck_shoulders", "general"]),
        (
            ["neck_shoulders", "lower_back_hips", "arms"],
            "desk",
            ["neck_shoulders", "lower_back_hips", "exercise_tightness"],
        ),
    ],
)
def test_guide_sections_match_areas_and_cause(
    areas: list[str], cause: str, expected: list[str]
) -> None:
    assert guide_sections({"areas": areas, "cause": cause}) == expected


def test_no_areas_still_gets_the_general_section() -> None:
    assert guide_sections({}) == ["general"]
