"""What the bot tells patients about safety matches published guidance (issue 11): the
warnings after treatment, the urgency of each red flag, the screening questions and the
guide each patient receives. Facts are checked in every language."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.content import Catalog, Content
from bot.intake import views
from bot.intake.guide import guide_sections
from bot.questionnaire import Group, Urgency
from bot.scheduling.checkins import CheckIns
from bot.settings import SettingsError, parse_settings
from bot.vocabulary import flow
from storage import DueMessage, PlannedMessage, Storage, utc_now
from tests.conftest import PRACTITIONER
from tests.support.conversation import Conversation
from tests.support.patient_flow import (
    PAT,
    agreed,
    answer_all,
    press,
    texts,
    through_pain_questions,
)
from tests.support.questionnaire import QUESTIONS, RED_FLAG_URGENCY, SHIPPED, questions_in

LANGUAGES = ("en", "ko")
# Words that must be in each language's text, per fact.
AFTER_TREATMENT_FACTS = {
    "en": {
        "collapsed lung over the whole risky area": ["neck", "shoulders", "upper back", "chest"],
        "it can start later": ["hours after treatment", "next day"],
        "its signs": ["shortness of breath", "fast or hard work", "chest pain", "breathe in"],
        "urgent care, saying they had needling": ["emergency department now", "had needling"],
        "bleeding that will not stop": ["10 minutes of firm pressure"],
        "new numbness or weakness": ["new numbness or weakness", "suddenly or spreads"],
        "infection or feeling very unwell": ["spreading", "feeling very unwell", "same day"],
    },
    "ko": {
        "collapsed lung over the whole risky area": ["목", "어깨", "등 위쪽", "가슴", "기흉"],
        "it can start later": ["몇 시간 뒤", "다음 날"],
        "its signs": ["숨이 차", "숨쉬기가 힘들", "가슴이 아프", "들이쉴 때"],
        "urgent care, saying they had needling": ["응급실", "침 치료를 받았다는 것도"],
        "bleeding that will not stop": ["10분 동안 꾹 눌러도"],
        "new numbness or weakness": ["저림이나 힘 빠짐", "갑자기 생기거나 퍼지면"],
        "infection or feeling very unwell": ["퍼지거나", "몸 상태가 많이 안 좋을 때", "당일에"],
    },
}
SELF_CARE = {
    "en": ["What you can do in the meantime", "What helps"],
    "ko": ["그동안 할 수 있는 일", "도움이 되는 것"],
}


def catalog(content: Content, language: str) -> Catalog:
    return content.catalog(language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_after_treatment_warnings_cover_every_sign(content: Content, language: str) -> None:
    text = catalog(content, language).text("guide.expect.contact")
    for fact, words in AFTER_TREATMENT_FACTS[language].items():
        missing = [w for w in words if w not in text]
        assert not missing, f"{language}: {fact}: {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_lower_back_bladder_and_bowel_changes_are_an_emergency(
    content: Content, language: str
) -> None:
    body = catalog(content, language).section("lower_back_hips").body
    emergency = {"en": "this is an emergency", "ko": "응급 상황이에요"}[language]
    today = {"en": "see a doctor today", "ko": "오늘 안에 의사의 진료"}[language]
    urine = {"en": "trouble passing urine", "ko": "소변 보기가 어려워"}[language]
    assert emergency in body and today in body and urine in body
    assert "promptly" not in body


def test_every_red_flag_has_an_urgency_and_its_heading_says_it(content: Content) -> None:
    assert set(RED_FLAG_URGENCY) == {q.id for q in questions_in(Group.RED_FLAG)}
    assert RED_FLAG_URGENCY["rf_bladder_bowel"] is Urgency.EMERGENCY
    assert RED_FLAG_URGENCY["rf_chest_pain"] is Urgency.EMERGENCY
    assert RED_FLAG_URGENCY["rf_weight_loss"] is Urgency.SOON
    for language in LANGUAGES:
        cat = catalog(content, language)
        headings = {u: cat.text(f"safety.heading_{u.name.lower()}") for u in Urgency}
        assert len(set(headings.values())) == len(Urgency)
        for flag, urgency in RED_FLAG_URGENCY.items():
            advice = views.red_flag_advice(cat, flag).html
            assert advice.startswith(headings[urgency]), (language, flag)
    en = catalog(content, "en")
    assert "emergency" in en.text("safety.heading_emergency")
    assert "today" in en.text("safety.heading_today")
    assert "soon" in en.text("safety.heading_soon")


def every_guide_text(cat: Catalog, answers: Mapping[str, object], urgent: bool) -> str:
    return "\n".join(r.html for r in views.guide_replies(cat, answers, urgent=urgent))


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_urgent_intake_opens_with_the_flag_advice_and_has_no_self_care(
    content: Content, language: str
) -> None:
    cat = catalog(content, language)
    answers: dict[str, object] = {
        "areas": ["neck_shoulders", "lower_back_hips", "arms"],
        "cause": "exercise",
        "rf_weight_loss": "yes",
        "rf_bladder_bowel": "yes",
    }
    replies = views.guide_replies(cat, answers, urgent=True)
    first = replies[0].html
    # The emergency comes first, the "doctor soon" flag after it.
    assert first.startswith(cat.text("safety.heading_emergency"))
    assert first.index(cat.text("safety.red_flags.rf_bladder_bowel")) < first.index(
        cat.text("safety.red_flags.rf_weight_loss")
    )
    whole = every_guide_text(cat, answers, urgent=True)
    for heading in SELF_CARE[language]:
        assert heading not in whole
    calm = every_guide_text(
        cat, {**answers, "rf_weight_loss": "no", "rf_bladder_bowel": "no"}, False
    )
    for heading in SELF_CARE[language]:
        assert heading in calm  # the same guide without red flags has them


def test_guide_sections_for_every_area_and_cause() -> None:
    areas = QUESTIONS["areas"].codes
    own = {"neck_shoulders", "upper_back", "lower_back_hips"}
    for size in range(1, len(areas) + 1):
        for chosen in itertools.combinations(areas, size):
            for cause in QUESTIONS["cause"].codes:
                sections = guide_sections({"areas": list(chosen), "cause": cause})
                assert sections[0] == "general"
                assert sections.count("general") == 1
                expected = ["general", *(a for a in chosen if a in own)]
                if cause == "exercise":
                    expected.append("exercise_tightness")
                assert sections == expected, (chosen, cause)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_injury_gets_its_caveat_and_upper_back_its_own_section(
    content: Content, language: str
) -> None:
    cat = catalog(content, language)
    injury = {"areas": ["legs_calves"], "cause": "injury"}
    text = every_guide_text(cat, injury, urgent=False)
    assert cat.text("guide.caveats.injury") in text
    assert cat.section("exercise_tightness").title not in text  # not "tight after exercise"
    assert cat.text("guide.caveats.injury") not in every_guide_text(
        cat, {**injury, "cause": "desk"}, urgent=False
    )
    upper = every_guide_text(cat, {"areas": ["upper_back"], "cause": "desk"}, urgent=False)
    section = cat.section("upper_back")
    assert section.title in upper and section.self_care and section.self_care in upper


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_guide_facts_from_the_practitioner_are_told(content: Content, language: str) -> None:
    cat = catalog(content, language)
    general = cat.section("general").body
    twitch = cat.text("guide.expect.twitch")
    facts = {
        "en": [
            (general, "trained practitioner"),
            (general, "evidence-based"),
            (general, "muscle and joint pain"),
            (general, "small risks"),
            (twitch, "spinal cord"),
            (twitch, '"reset"'),
            (twitch, "more strongly or more often"),
        ],
        "ko": [
            (general, "교육받은 전문가"),
            (general, "과학적 근거가 있는"),
            (general, "근육과 관절 통증"),
            (general, "작은 위험"),
            (twitch, "척수"),
            (twitch, "초기화"),
            (twitch, "더 세게, 또는 더 자주"),
        ],
    }[language]
    for text, words in facts:
        assert words in text, (language, words)


def test_screening_asks_what_makes_needling_unsafe(content: Content) -> None:
    screening = [q.id for q in questions_in(Group.SCREENING)]
    for added in ("under_18", "cancer", "implants", "lung_disease"):
        assert added in screening
    en = catalog(content, "en")
    blood = en.prompt("blood_thinners")
    for word in ("aspirin", "clopidogrel", "warfarin", "apixaban", "keep taking"):
        assert word in blood
    assert "lymph nodes removed" in en.prompt("lymphoedema")
    immune = en.prompt("immune_diabetes")
    for word in ("cancer treatment", "suppress the immune system", "steroid"):
        assert word in immune
    assert "pacemaker" in en.prompt("implants") and "implant" in en.prompt("implants")
    assert "collapsed lung" in en.prompt("lung_disease")
    fall = en.prompt("rf_fall_accident")
    for word in ("recent", "not checked", "osteoporosis", "steroid"):
        assert word in fall
    bladder = en.prompt("rf_bladder_bowel")
    assert "difficulty passing urine" in bladder and "even partly" in bladder
    ko = catalog(content, "ko")
    assert "아스피린" in ko.prompt("blood_thinners") and "계속 드세요" in ko.prompt(
        "blood_thinners"
    )
    epilepsy = ko.prompt("epilepsy")
    assert "있으신가요" in epilepsy and "적이" not in epilepsy  # now, as in English; not "ever"
    assert "소변 보기가 어려워" in ko.prompt("rf_bladder_bowel")
    assert "골다공증" in ko.prompt("rf_fall_accident")


async def test_a_patient_under_18_is_told_a_guardian_must_agree(
    service: Conversation, storage: Storage
) -> None:
    outcome = await agreed(service)
    for label in ("Neck & shoulders", "Done", "Not sure", "3", "Less than a week", "No"):
        outcome = await press(service, outcome, label)
    while "under 18" not in texts(outcome):
        outcome = await press(service, outcome, "No")
    outcome = await press(service, outcome, "Yes")
    told = texts(outcome)
    assert "parent or guardian needs to agree" in told
    assert "the clinic will decide" in told
    assert "pregnant" in told  # and the intake goes on
    [record] = await storage.intake_records(telegram_user_id=PAT.user_id)
    assert record.decoded_answers()["under_18"] == "yes"


def test_duration_options_do_not_overlap(content: Content) -> None:
    for language in LANGUAGES:
        labels = [
            catalog(content, language).option("duration", c) for c in QUESTIONS["duration"].codes
        ]
        assert len(set(labels)) == 4
    en = catalog(content, "en")
    assert en.option("duration", "w1_6") == "1 to 5 weeks"
    assert en.option("duration", "w6_12") == "6 to 12 weeks"
    assert en.option("duration", "gt_3m") == "More than 12 weeks"


def test_the_time_the_welcome_promises_is_counted_from_the_steps_the_patient_sees(
    content: Content,
) -> None:
    _, questions = flow.position(SHIPPED, flow.first_question(SHIPPED))
    _, steps = flow.position(SHIPPED, flow.first_question(SHIPPED, {}), returning=True)
    assert (questions, steps) == (26, 5)  # 26 questions; a returning patient sees 5 steps
    # About ten seconds a step: 4 minutes for every question, 1 for the short intake.
    first = views.welcome(catalog(content, "en"), "C").html
    short = views.welcome(catalog(content, "en"), "C", returning=True).html
    assert "about 4 min." in first and "about 1 min." in short
    assert "4분 정도" in views.welcome(catalog(content, "ko"), "C").html


def test_korean_credit_names_the_author_as_the_guide_does(content: Content) -> None:
    credit = catalog(content, "ko").text("guide.about.credit")
    assert "중의사" in credit and "Doctor of Traditional Chinese Medicine" in credit
    assert "한의학 박사" not in credit
    tender = catalog(content, "ko").prompt("ashi_point")
    assert "찌릿" not in tender and "유독 아픈" in tender


def test_the_clinic_numbers_are_used_wherever_set() -> None:
    settings = parse_settings(
        {"ASHI_EMERGENCY_NUMBER": "112", "ASHI_CLINIC_PHONE": "+44 20 7946 0000"},
        require_token=False,
    )
    content = settings.load_content()
    for language in LANGUAGES:
        cat = content.catalog(language)
        assert "112" in views.welcome(cat, "C").html
        assert "112" in cat.text("guide.expect.contact")
        assert "+44 20 7946 0000" in cat.text("guide.expect.contact")
        assert "112" in views.red_flag_advice(cat, "rf_chest_pain").html
    plain = replace(settings, emergency_number=None, clinic_phone=None).load_content()
    contact = plain.catalog("en").text("guide.expect.contact")
    assert "your local emergency number" in contact and "+44" not in contact
    with pytest.raises(SettingsError, match="ASHI_EMERGENCY_NUMBER must be a phone number"):
        parse_settings({"ASHI_EMERGENCY_NUMBER": "call 911"}, require_token=False)
    with pytest.raises(SettingsError, match="ASHI_CLINIC_PHONE must be a phone number"):
        parse_settings({"ASHI_CLINIC_PHONE": "<b>0</b>"}, require_token=False)


async def test_a_reminder_after_an_unreviewed_red_flag_repeats_its_advice(
    service: Conversation, storage: Storage, checkins: CheckIns, content: Content
) -> None:
    outcome = await through_pain_questions(service)
    outcome = await answer_all(service, outcome, **{"chest pain": "Yes"})
    outcome = await press(service, outcome, "Skip")
    outcome = await press(service, outcome, "Confirm")
    patient = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient is not None
    starts = utc_now() + timedelta(days=1)
    plan = [PlannedMessage("reminder", -3600, starts - timedelta(hours=1))]
    appointment = await storage.add_appointment(starts, plan, patient_id=patient.id)
    assert appointment is not None
    [message] = await storage.messages_for(appointment.id)
    due = DueMessage(message, appointment, patient)
    en = content.catalog("en")

    reminder = (await checkins.compose(due)).html
    assert reminder.startswith("⚠️ <b>Before you come</b>")
    assert "contact the clinic" in reminder
    assert en.text("safety.red_flags.rf_chest_pain") in reminder
    assert reminder.index("This needs emergency care now") < reminder.index("Will you be there?")

    [record] = await storage.intake_records(telegram_user_id=PAT.user_id)
    assert await storage.mark_reviewed(record.intake.id, PRACTITIONER)
    reviewed = (await checkins.compose(due)).html
    assert "Before you come" not in reviewed
    assert reviewed.startswith("<b>Reminder: your appointment</b>")
