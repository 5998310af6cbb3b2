import pytest

from bot.intake.guide import guide_sections
from bot.intake.screening import cautions, is_red_flag, red_flags
from tests.support.questionnaire import SHIPPED


def test_red_flags_are_yes_answers_to_red_flag_questions_only() -> None:
    answers = {"rf_chest_pain": "yes", "rf_weight_loss": "no", "pregnancy": "yes"}
    assert red_flags(SHIPPED, answers) == ["rf_chest_pain"]
    assert cautions(SHIPPED, answers) == ["pregnancy"]
    assert is_red_flag(SHIPPED, "rf_bladder_bowel", "yes")
    assert not is_red_flag(SHIPPED, "rf_bladder_bowel", "no")
    assert not is_red_flag(SHIPPED, "pregnancy", "yes")


@pytest.mark.parametrize(
    ("areas", "cause", "expected"),
    [
        # What dry needling is opens every guide; arms and legs are about tightness after
        # exercise only when exercise brought the pain on.
        (["neck_shoulders"], "desk", ["general", "neck_shoulders"]),
        (["lower_back_hips"], "not_sure", ["general", "lower_back_hips"]),
        (["neck_shoulders"], "exercise", ["general", "neck_shoulders", "exercise_tightness"]),
        (["legs_calves"], "desk", ["general"]),
        (["legs_calves"], "exercise", ["general", "exercise_tightness"]),
        (["arms", "legs_calves"], "injury", ["general"]),
        (["upper_back"], "desk", ["general", "upper_back"]),
        (["other"], "not_sure", ["general"]),
        (["neck_shoulders", "upper_back"], "desk", ["general", "neck_shoulders", "upper_back"]),
        (
            ["neck_shoulders", "lower_back_hips", "arms"],
            "desk",
            ["general", "neck_shoulders", "lower_back_hips"],
        ),
    ],
)
def test_guide_sections_match_areas_and_cause(
    areas: list[str], cause: str, expected: list[str]
) -> None:
    assert guide_sections({"areas": areas, "cause": cause}) == expected


def test_no_areas_still_gets_the_general_section() -> None:
    assert guide_sections({}) == ["general"]
