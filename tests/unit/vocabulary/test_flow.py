from bot.questionnaire import Group, Kind
from bot.vocabulary import flow
from tests.support.questionnaire import ORDER, QUESTIONS, SHIPPED, questions_in


def test_questions_follow_consent_in_order_and_end_at_summary() -> None:
    answers: dict[str, object] = {}
    steps = [flow.next_step(SHIPPED, flow.CONSENT, answers)]
    while steps[-1] != flow.SUMMARY:
        # Each question answered as it comes: areas without "somewhere else".
        answers[steps[-1]] = ["neck_shoulders"] if steps[-1] == "areas" else "no"
        steps.append(flow.next_step(SHIPPED, steps[-1], answers))
    assert steps[0] == "areas"
    assert "areas_other" not in steps
    assert steps[-2] == "notes"
    assert flow.next_step(SHIPPED, flow.SUMMARY, answers) == flow.DONE


def test_an_answer_changed_from_the_summary_leads_back_to_it() -> None:
    answered: dict[str, object] = {q.id: "no" for q in SHIPPED.intake if q.id != "areas_other"}
    answered["areas"] = ["neck_shoulders"]
    assert flow.next_step(SHIPPED, "intensity", answered) == flow.SUMMARY
    # A change that opens a question asks it on the way.
    answered["areas"] = ["neck_shoulders", "other"]
    assert flow.next_step(SHIPPED, "areas", answered) == "areas_other"


def test_other_area_brings_its_follow_up_question() -> None:
    assert flow.next_step(SHIPPED, "areas", {"areas": ["other"]}) == "areas_other"
    assert flow.next_step(SHIPPED, "areas", {"areas": ["arms"]}) == "cause"


def test_the_count_does_not_jump_when_somewhere_else_is_ticked() -> None:
    total = len(ORDER) - 1  # "where else" is part of the areas question
    assert flow.position(SHIPPED, "areas") == (1, total)
    assert flow.position(SHIPPED, "areas_other") == (1, total)
    assert flow.position(SHIPPED, "cause") == (2, total)
    assert flow.position(SHIPPED, "notes") == (total, total)


def test_screening_covers_every_safety_topic_of_the_issue() -> None:
    screening = {q.id for q in questions_in(Group.SCREENING)}
    assert screening == {
        "pregnancy",
        "blood_thinners",
        "needle_fear",
        "local_infection",
        "recent_surgery",
        "lymphoedema",
        "metal_allergy",
        "epilepsy",
        "immune_diabetes",
        "under_18",
        "cancer",
        "implants",
        "lung_disease",
    }
    red = {q.id for q in questions_in(Group.RED_FLAG)}
    assert len(red) == 6
    assert all(QUESTIONS[q].kind is Kind.YES_NO for q in screening | red)
